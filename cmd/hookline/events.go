package main

import (
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/hookline/hookline/client"
)

func newEventsCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "events",
		Aliases: []string{"event"},
		Short:   "Inspect and replay events",
	}
	cmd.AddCommand(
		newEventsListCmd(g),
		newGetCmd(g, "ID", "Show an event and its data", (*client.Client).GetEvent, eventTable),
		&cobra.Command{
			Use:   "replay ID",
			Short: "Send an event again to every endpoint that matches it now",
			Args:  argsNamed("ID"),
			RunE: func(cmd *cobra.Command, args []string) error {
				c, err := g.client()
				if err != nil {
					return err
				}
				rp, err := c.ReplayEvent(cmd.Context(), args[0])
				if err != nil {
					return err
				}
				return g.render(cmd, rp, func(w io.Writer) {
					kv(w, "event", rp.EventID)
					if len(rp.Deliveries) == 0 {
						kv(w, "deliveries", "none (no endpoint matches)")
					}
					for i, id := range rp.Deliveries {
						label := ""
						if i == 0 {
							label = "deliveries:"
						}
						fmt.Fprintf(w, "%s\t%s\n", label, id)
					}
				})
			},
		},
	)
	return cmd
}

func newEventsListCmd(g *globals) *cobra.Command {
	var (
		opts          client.EventListOptions
		after, before string
	)
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List events",
		Args:  argsNamed(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			var err error
			if opts.After, err = parseTimeFlag(cmd, "after", after); err != nil {
				return err
			}
			if opts.Before, err = parseTimeFlag(cmd, "before", before); err != nil {
				return err
			}
			c, err := g.client()
			if err != nil {
				return err
			}
			page, err := c.ListEvents(cmd.Context(), opts)
			if err != nil {
				return err
			}
			err = g.render(cmd, page, func(w io.Writer) {
				row(w, "ID", "TYPE", "SOURCE", "OCCURRED", "CREATED")
				for _, ev := range page.Data {
					row(w, ev.ID, ev.Type, orDash(ev.Source), fmtTime(ev.OccurredAt), fmtTime(ev.CreatedAt))
				}
			})
			nextPage(cmd, page.NextCursor)
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Type, "type", "", "only events of this type")
	f.StringVar(&opts.Source, "source", "", "only events received by this source (api for events sent through the API)")
	f.StringVar(&after, "after", "", "only events that occurred after this RFC 3339 time")
	f.StringVar(&before, "before", "", "only events that occurred before this RFC 3339 time")
	addListFlags(cmd, &opts.ListOptions)
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
