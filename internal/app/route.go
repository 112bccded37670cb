package app

import (
	"context"

	"github.com/hookline/hookline/internal/route"
	"github.com/hookline/hookline/internal/store"
)

// routeCoordinator shares the engine's cluster announcements with the
// routing table, over the engine's one LISTEN connection: routing
// messages go to the table, the rest to the engine, which would take an
// unknown message for new work.
type routeCoordinator struct {
	store.Coordinator
	routes *route.Table
}

// routedCoordinator wraps coord (nil without a cluster).
func routedCoordinator(coord store.Coordinator, routes *route.Table) store.Coordinator {
	if coord == nil {
		return nil
	}
	return routeCoordinator{Coordinator: coord, routes: routes}
}

func (c routeCoordinator) Listen(ctx context.Context, fn func(msg string)) error {
	return c.Coordinator.Listen(ctx, func(msg string) {
		if !c.routes.Receive(msg) {
			fn(msg)
		}
	})
}
