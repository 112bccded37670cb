package main

import (
	"fmt"
	"io"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/hookline/hookline/client"
)

func newDeliveriesCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "deliveries",
		Aliases: []string{"delivery"},
		Short:   "Inspect and retry deliveries of events to endpoints",
	}
	cmd.AddCommand(
		newDeliveriesListCmd(g),
		newGetCmd(g, "ID", "Show a delivery and its attempt log", (*client.Client).GetDelivery, func(w io.Writer, d *client.Delivery) {
			deliveryTable(w, d)
			attemptLog(w, d.AttemptLog)
		}),
		&cobra.Command{
			Use:   "retry ID",
			Short: "Schedule a delivery for an immediate new attempt",
			Args:  argsNamed("ID"),
			RunE: func(cmd *cobra.Command, args []string) error {
				c, err := g.client()
				if err != nil {
					return err
				}
				d, err := c.RetryDelivery(cmd.Context(), args[0])
				if err != nil {
					return err
				}
				return g.render(cmd, d, func(w io.Writer) { deliveryTable(w, d) })
			},
		},
	)
	return cmd
}

func newDeliveriesListCmd(g *globals) *cobra.Command {
	var opts client.DeliveryListOptions
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List deliveries",
		Args:  argsNamed(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			page, err := c.ListDeliveries(cmd.Context(), opts)
			if err != nil {
				return err
			}
			err = g.render(cmd, page, func(w io.Writer) {
				row(w, "ID", "EVENT", "TYPE", "ENDPOINT", "STATUS", "ATTEMPTS", "NEXT ATTEMPT", "UPDATED")
				for _, d := range page.Data {
					row(w, d.ID, d.EventID, d.EventType, d.EndpointID, d.Status, strconv.Itoa(d.Attempts), fmtTimePtr(d.NextAttemptAt), fmtTime(d.UpdatedAt))
				}
			})
			nextPage(cmd, page.NextCursor)
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.EndpointID, "endpoint", "", "only deliveries to this endpoint id")
	f.StringVar(&opts.EventID, "event", "", "only deliveries of this event id")
	f.StringVar(&opts.Status, "status", "", "only deliveries in this status: pending, retrying, succeeded or failed")
	addListFlags(cmd, &opts.ListOptions)
	return cmd
}

// deliveryTable writes one delivery as key-value rows.
func deliveryTable(w io.Writer, d *client.Delivery) {
	kv(w,
		"id", d.ID,
		"event", d.EventID+" ("+orDash(d.EventType)+")",
		"endpoint", d.EndpointID,
		"status", d.Status,
		"attempts", strconv.Itoa(d.Attempts),
		"next attempt", fmtTimePtr(d.NextAttemptAt),
		"last error", cell(d.LastError),
		"created", fmtTime(d.CreatedAt),
		"updated", fmtTime(d.UpdatedAt),
	)
}

// attemptLog writes the attempts of a delivery as a table, oldest first.
// Bodies and headers are in -o json.
func attemptLog(w io.Writer, attempts []client.Attempt) {
	fmt.Fprintln(w)
	if len(attempts) == 0 {
		fmt.Fprintln(w, "attempt log: no attempts yet")
		return
	}
	fmt.Fprintln(w, "attempt log:")
	row(w, "#", "STARTED", "DURATION", "OUTCOME", "STATUS", "ERROR / RESPONSE")
	for _, a := range attempts {
		status := "-"
		if a.ResponseStatus != 0 {
			status = strconv.Itoa(a.ResponseStatus)
		}
		summary := a.Error
		if summary == "" {
			summary = a.ResponseBody
		}
		row(w, strconv.Itoa(a.Number), fmtTime(a.StartedAt), strconv.FormatInt(a.DurationMS, 10)+"ms", orDash(a.Outcome), status, cell(summary))
	}
}
