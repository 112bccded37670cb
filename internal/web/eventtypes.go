package web

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/hookline/hookline/internal/event"
	"github.com/hookline/hookline/internal/store"
)

// EventTypeStore is what the event type pages read; a store.Store has it.
type EventTypeStore interface {
	GetEventType(ctx context.Context, tenantID, name string) (store.EventType, error)
	// ListEventTypes is the whole catalogue, as GET /v1/event-types
	// lists it: a tenant declares its types, it does not accumulate them.
	ListEventTypes(ctx context.Context, tenantID string) ([]store.EventType, error)
}

func (s *Server) eventTypes(w http.ResponseWriter, r *http.Request, sess *session) error {
	ets, err := s.cfg.Store.ListEventTypes(r.Context(), sess.TenantID)
	if err != nil {
		return err
	}
	return s.page(w, r, sess, "eventtypes", view{Title: "Event types", Nav: "event-types", Data: ets})
}

type eventTypeView struct {
	store.EventType
	// Examples are the schema's own examples (its "examples" keyword).
	Examples []json.RawMessage
	// Latest is the newest event of the type among the tenant's newest
	// exampleWindow, when there is one: an example as it really came.
	Latest *event.Event
	Window int
}

// exampleWindow is how many of the tenant's newest events an event type's
// page looks through for the newest of the type. The events are not
// indexed by type, and a type nobody sent lately must not cost a walk
// through the whole log: the events page searches further.
const exampleWindow = 500

// eventType is an event type's page: its description, its JSON Schema,
// the schema's examples and the newest event of the type.
func (s *Server) eventType(w http.ResponseWriter, r *http.Request, sess *session) error {
	name := r.PathValue("name")
	et, err := s.cfg.Store.GetEventType(r.Context(), sess.TenantID, name)
	if err != nil {
		return notFound(err, "event type", name)
	}
	v := eventTypeView{EventType: et, Examples: schemaExamples(et.Schema), Window: exampleWindow}
	evs, err := s.cfg.Store.ListEvents(r.Context(), sess.TenantID, store.EventQuery{Page: store.Page{Limit: exampleWindow}})
	if err != nil {
		return err
	}
	for i := range evs {
		if evs[i].Type == et.Name {
			v.Latest = &evs[i]
			break
		}
	}
	return s.page(w, r, sess, "eventtype", view{Title: "Event type " + et.Name, Nav: "event-types", Data: v})
}

// schemaExamples are the values of a schema's top-level "examples"; none
// when it has none or is not an object. A stored schema was checked, and
// bounded, when it was saved.
func schemaExamples(schema []byte) []json.RawMessage {
	var doc struct {
		Examples []json.RawMessage `json:"examples"`
	}
	if len(schema) == 0 || json.Unmarshal(schema, &doc) != nil {
		return nil
	}
	return doc.Examples
}
