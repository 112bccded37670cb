package main

import (
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/hookline/hookline/client"
)

func newEventsListCmd(g *globals) *cobra.Command {
	var (
		opts          client.EventListOptions
		after, before string
	)
	cmd := newListCmd(g, "List events", &opts, &opts.ListOptions, (*client.Client).ListEvents,
		[]string{"ID", "TYPE", "SOURCE", "OCCURRED", "CREATED"}, func(ev client.Event) []string {
			return []string{ev.ID, ev.Type, orDash(ev.Source), fmtTime(ev.OccurredAt), fmtTime(ev.CreatedAt)}
		})
	// The times are checked before the API client is made.
	cmd.PreRunE = func(cmd *cobra.Command, _ []string) error {
		var err error
		if opts.After, err = parseTimeFlag(cmd, "after", after); err != nil {
			return err
		}
		opts.Before, err = parseTimeFlag(cmd, "before", before)
		return err
	}
	f := cmd.Flags()
	f.StringVar(&opts.Type, "type", "", "only events of this type")
	f.StringVar(&opts.Source, "source", "", "only events received by this source (api for events sent through the API)")
	f.StringVar(&after, "after", "", "only events that occurred after this RFC 3339 time")
	f.StringVar(&before, "before", "", "only events that occurred before this RFC 3339 time")
	return cmd
}

// parseTimeFlag parses the RFC 3339 value of --name; empty is the zero time.
func parseTimeFlag(cmd *cobra.Command, name, value string) (time.Time, error) {
	if value == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, value)
	if err != nil {
		return time.Time{}, usagef(cmd, "invalid --%s %q: want an RFC 3339 time such as 2025-01-02T15:04:05Z", name, value)
	}
	return t, nil
}

// eventTable writes one event as key-value rows followed by its data.
func eventTable(w io.Writer, ev *client.Event) {
	kv(w,
		"id", ev.ID,
		"type", ev.Type,
		"source", orDash(ev.Source),
		"idempotency key", orDash(ev.IdempotencyKey),
		"occurred", fmtTime(ev.OccurredAt),
		"created", fmtTime(ev.CreatedAt),
	)
	dataBlock(w, ev.Data)
}
