package main

import (
	"io"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/hookline/hookline/client"
)

// Subscription destination kinds: relay the event to an endpoint, or apply
// it to a collection.
const (
	destinationForward = "forward"
	destinationSync    = "sync"
)

func newSubscriptionsCreateCmd(g *globals) *cobra.Command {
	var (
		endpoint, collection, name, filter, transform string
		eventTypes                                    []string
	)
	cmd := &cobra.Command{
		Use:   "create",
		Short: "Forward matching events to an endpoint, or sync them into a collection",
		Long: `Create a subscription: with --endpoint, matching events are forwarded to
that endpoint; with --collection, they are applied to that collection's
records (without --event-type, the event type patterns of the collection's
spec are used).`,
		Example: `  hookline subscriptions create --endpoint ep_01J… --event-type 'github.*' \
    --filter 'event.data.repository.private == false' --name public-repos
  hookline subscriptions create --collection customers --name customers-sync`,
		Args: argsNamed(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			var dest client.SubDest
			switch {
			case endpoint != "" && collection != "":
				return usagef(cmd, "--endpoint and --collection exclude each other")
			case endpoint != "":
				dest = client.SubDest{Kind: destinationForward, EndpointID: endpoint}
			case collection != "":
				dest = client.SubDest{Kind: destinationSync, Collection: collection}
			default:
				return usagef(cmd, "--endpoint is required, or --collection for a sync subscription")
			}
			in := client.SubscriptionCreate{Destination: &dest}
			f := cmd.Flags()
			if f.Changed("name") {
				in.Name = &name
			}
			if f.Changed("event-type") {
				in.EventTypes = &eventTypes
			}
			if f.Changed("filter") {
				in.Filter = &filter
			}
			if f.Changed("transform") {
				in.Transform = &transform
			}
			return show(cmd, g, func(c *client.Client) (*client.Subscription, error) {
				return c.CreateSubscription(cmd.Context(), in)
			}, subscriptionTable)
		},
	}
	f := cmd.Flags()
	f.StringVar(&endpoint, "endpoint", "", "id of the endpoint events are forwarded to")
	f.StringVar(&collection, "collection", "", "name of the collection events are synced into")
	f.StringSliceVar(&eventTypes, "event-type", nil, "event type or glob to forward or sync, such as github.* (repeatable)")
	f.StringVar(&filter, "filter", "", "expression an event must match, such as event.data.total > 100")
	f.StringVar(&transform, "transform", "", "expression whose result replaces the forwarded data")
	f.StringVar(&name, "name", "", "name, unique in the tenant")
	return cmd
}

// destination shows a subscription's destination as "forward → ep_…" or
// "sync → customers".
func destination(d client.SubDest) string {
	switch {
	case d.EndpointID != "":
		return d.Kind + " → " + d.EndpointID
	case d.Collection != "":
		return d.Kind + " → " + d.Collection
	}
	return orDash(d.Kind)
}

// subscriptionTable writes one subscription as key-value rows.
func subscriptionTable(w io.Writer, sub *client.Subscription) {
	kv(w,
		"id", sub.ID,
		"name", orDash(sub.Name),
		"event types", list(sub.EventTypes),
		"filter", orDash(sub.Filter),
		"transform", cell(sub.Transform),
		"destination", destination(sub.Destination),
		"enabled", strconv.FormatBool(sub.Enabled),
		"circuit", orDash(sub.Circuit),
		"created", fmtTime(sub.CreatedAt),
		"updated", fmtTime(sub.UpdatedAt),
	)
}
