package capture_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/hookline/hookline/internal/collection/capture"
)

func ExampleRun() {
	ctx := context.Background()
	cfg := capture.Config{
		DSN:    "postgres://hookline@shopdb:5432/shop",
		Source: "shopdb",
		Tables: []string{"orders", "billing.invoices"},
		Logger: slog.New(slog.NewTextHandler(os.Stderr, nil)),
	}
	// Run returns when ctx is done; until then it retries failures itself.
	err := capture.Run(ctx, cfg, func(ctx context.Context, cs []capture.Change) error {
		for _, c := range cs {
			// Publish durably, keyed by source and c.ID for deduplication.
			fmt.Println(c.ID, c.EventType(), string(c.Record))
		}
		return nil
	})
	if err != nil {
		fmt.Println(err)
	}
}
