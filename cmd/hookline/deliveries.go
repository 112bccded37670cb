package main

import (
	"io"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/hookline/hookline/client"
)

func newDeliveriesListCmd(g *globals) *cobra.Command {
	var opts client.DeliveryListOptions
	cmd := newListCmd(g, "List deliveries", &opts, &opts.ListOptions, (*client.Client).ListDeliveries,
		[]string{"ID", "EVENT", "TYPE", "ENDPOINT", "STATUS", "ATTEMPTS", "NEXT ATTEMPT", "UPDATED"}, func(d client.Delivery) []string {
			return []string{d.ID, d.EventID, d.EventType, d.EndpointID, d.Status, strconv.Itoa(d.Attempts), fmtTimePtr(d.NextAttemptAt), fmtTime(d.UpdatedAt)}
		})
	f := cmd.Flags()
	f.StringVar(&opts.EndpointID, "endpoint", "", "only deliveries to this endpoint id")
	f.StringVar(&opts.EventID, "event", "", "only deliveries of this event id")
	f.StringVar(&opts.Status, "status", "", "only deliveries in this status: pending, retrying, succeeded or failed")
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
	logTable(w, "attempt log", "attempts", attempts, []string{"#", "STARTED", "DURATION", "OUTCOME", "STATUS", "ERROR / RESPONSE"}, func(a client.Attempt) []string {
		status := "-"
		if a.ResponseStatus != 0 {
			status = strconv.Itoa(a.ResponseStatus)
		}
		summary := a.Error
		if summary == "" {
			summary = a.ResponseBody
		}
		return []string{strconv.Itoa(a.Number), fmtTime(a.StartedAt), strconv.FormatInt(a.DurationMS, 10) + "ms", orDash(a.Outcome), status, cell(summary)}
	})
}
