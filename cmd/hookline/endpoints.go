package main

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/hookline/hookline/client"
)

// payloadFormats are the values of endpoints create --format.
var payloadFormats = []string{"json", "form", "xml"}

func newEndpointsRecoverCmd(g *globals) *cobra.Command {
	var since time.Duration
	cmd := &cobra.Command{
		Use:   "recover ID",
		Short: "Re-queue every failed delivery of an endpoint since a time, oldest first",
		Args:  argsNamed("ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return show(cmd, g, func(c *client.Client) (*client.Recovered, error) {
				return c.RecoverEndpoint(cmd.Context(), args[0], client.Recover{Since: time.Now().Add(-since)})
			}, func(w io.Writer, res *client.Recovered) {
				fmt.Fprintf(w, "re-queued %d failed deliveries\n", len(res.Deliveries))
			})
		},
	}
	cmd.Flags().DurationVar(&since, "since", 24*time.Hour, "how far back to look, such as 2h")
	return cmd
}

func newEndpointsCreateCmd(g *globals) *cobra.Command {
	var (
		in      client.EndpointCreate
		headers []string
		timeout time.Duration
	)
	cmd := &cobra.Command{
		Use:   "create",
		Short: "Create an endpoint and print its signing secret",
		Example: `  hookline endpoints create --url https://example.com/webhooks \
    --event-type 'order.*' --header X-Team=billing --timeout 10s`,
		Args: argsNamed(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if in.URL == "" {
				return usagef(cmd, "--url is required")
			}
			if in.Format != "" && !slices.Contains(payloadFormats, in.Format) {
				return usagef(cmd, "invalid --format %q: want %s", in.Format, strings.Join(payloadFormats, ", "))
			}
			h, err := parseHeaders(headers)
			if err != nil {
				return usagef(cmd, "%v", err)
			}
			in.Headers = h
			if timeout < 0 {
				return usagef(cmd, "invalid --timeout %s: must be positive", timeout)
			}
			if timeout > 0 {
				in.Timeout = timeout.String()
			}
			return show(cmd, g, func(c *client.Client) (*client.Endpoint, error) {
				ep, err := c.CreateEndpoint(cmd.Context(), in)
				if err == nil && ep.Secret != "" {
					shownOnce(cmd, "signing secret")
				}
				return ep, err
			}, endpointTable)
		},
	}
	f := cmd.Flags()
	f.StringVar(&in.URL, "url", "", "destination URL (required): http(s), or nats://, amqp://, redis://, kafka:// (docs/destinations.md)")
	f.StringSliceVar(&in.EventTypes, "event-type", nil, "event type or glob to deliver, such as order.* (repeatable)")
	f.StringVar(&in.Filter, "filter", "", "expression an event must match, such as event.data.total > 100")
	f.StringVar(&in.Format, "format", "", "payload format: json, form or xml (server default json)")
	f.StringArrayVar(&headers, "header", nil, "extra request header K=V (repeatable)")
	f.DurationVar(&timeout, "timeout", 0, "request timeout such as 15s (server default when unset)")
	f.StringVar(&in.Description, "description", "", "description")
	f.StringVar(&in.Name, "name", "", "unique name (declarative config refers to endpoints by name)")
	f.IntVar(&in.MaxInFlight, "max-in-flight", 0, "concurrent deliveries to this endpoint (server default when 0)")
	f.Float64Var(&in.RateLimit, "rate-limit", 0, "deliveries per second (unlimited when 0)")
	f.BoolVar(&in.Ordered, "ordered", false, "deliver one at a time in accept order (FIFO)")
	f.StringSliceVar(&in.RetrySchedule, "retry-schedule", nil, "delays before each retry, such as 5s,5m,30m (server default when unset)")
	return cmd
}

func newEndpointsRotateCmd(g *globals) *cobra.Command {
	var grace time.Duration
	cmd := &cobra.Command{
		Use:   "rotate-secret ID",
		Short: "Give an endpoint a new signing secret and print it",
		Long: `Give an endpoint a new signing secret and print it. The previous secret
keeps signing alongside the new one for the --grace period.`,
		Args: argsNamed("ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if grace < 0 {
				return usagef(cmd, "invalid --grace %s: must not be negative", grace)
			}
			var in client.SecretRotate
			if cmd.Flags().Changed("grace") {
				in.Grace = grace.String()
			}
			return showOnce(cmd, g, "new signing secret", func(c *client.Client) (*client.Endpoint, error) {
				return c.RotateEndpointSecret(cmd.Context(), args[0], in)
			}, func(w io.Writer, ep *client.Endpoint) { kv(w, "id", ep.ID, "secret", ep.Secret) })
		},
	}
	cmd.Flags().DurationVar(&grace, "grace", 0, "how long the previous secret keeps signing (server default 24h)")
	return cmd
}

// endpointTable writes one endpoint as key-value rows.
func endpointTable(w io.Writer, ep *client.Endpoint) {
	enabled := strconv.FormatBool(ep.Enabled)
	if ep.DisabledReason != "" {
		enabled += " (" + cell(ep.DisabledReason) + ")"
	}
	var headers []string
	for _, k := range slices.Sorted(maps.Keys(ep.Headers)) {
		headers = append(headers, k+"="+ep.Headers[k])
	}
	kv(w,
		"id", ep.ID,
		"url", ep.URL,
		"description", cell(ep.Description),
		"event types", list(ep.EventTypes),
		"filter", orDash(ep.Filter),
		"format", orDash(ep.Format),
		"headers", cell(strings.Join(headers, ", ")),
		"timeout", orDash(ep.Timeout),
		"retry schedule", list(ep.RetrySchedule),
		"enabled", enabled,
		"circuit", orDash(ep.Circuit),
		"created", fmtTime(ep.CreatedAt),
		"updated", fmtTime(ep.UpdatedAt),
	)
	if ep.Secret != "" {
		kv(w, "secret", ep.Secret)
	}
}

// parseHeaders turns repeated K=V flags into a header map.
func parseHeaders(pairs []string) (map[string]string, error) {
	if len(pairs) == 0 {
		return nil, nil
	}
	h := make(map[string]string, len(pairs))
	for _, p := range pairs {
		k, v, ok := strings.Cut(p, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" || strings.ContainsAny(k, " \t\r\n:") {
			return nil, fmt.Errorf("invalid --header %q: want NAME=VALUE", p)
		}
		if strings.ContainsAny(v, "\r\n") {
			return nil, fmt.Errorf("invalid --header %q: value has a line break", p)
		}
		h[k] = strings.TrimSpace(v)
	}
	return h, nil
}

// addListFlags adds --limit and --cursor to a list command.
func addListFlags(cmd *cobra.Command, opts *client.ListOptions) {
	cmd.Flags().IntVar(&opts.Limit, "limit", 0, "page size (server default when 0)")
	cmd.Flags().StringVar(&opts.Cursor, "cursor", "", "cursor of the page to show, from the previous page")
}
