package main

import (
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/hookline/hookline/client"
)

func newPortalCmd(g *globals) *cobra.Command {
	var in client.PortalSessionCreate
	var expires time.Duration
	cmd := &cobra.Command{
		Use:   "portal",
		Short: "Make a one-time link to the customer portal of your tenant",
		Long: `Make a one-time link to the dashboard's customer portal, where your
tenant's customer manages their endpoints and reads their deliveries,
limited to the event types of --event-type (every type without it).
The link opens once, before it expires; give it to the customer's browser.`,
		Args: argsNamed(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if expires != 0 {
				if expires%time.Second != 0 {
					return usagef(cmd, "--expires-in %s: whole seconds, such as 30m or 2h", expires)
				}
				in.ExpiresIn = int(expires / time.Second)
			}
			return showOnce(cmd, g, "portal link", func(c *client.Client) (*client.PortalSession, error) {
				return c.CreatePortalSession(cmd.Context(), in)
			}, func(w io.Writer, ps *client.PortalSession) {
				types := "every type"
				if len(ps.EventTypes) > 0 {
					types = strings.Join(ps.EventTypes, ", ")
				}
				kv(w, "id", ps.ID, "url", ps.URL, "expires", fmtTime(ps.ExpiresAt), "event types", types, "label", orDash(ps.Label))
			})
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&in.EventTypes, "event-type", nil, "limit the portal to this event type or pattern (order.*); repeatable")
	f.DurationVar(&expires, "expires-in", 0, "how long the link and its session last, 1m to 24h (default 1h)")
	f.StringVar(&in.Label, "label", "", "the customer's name in the portal's header (default the tenant's name)")
	return cmd
}
