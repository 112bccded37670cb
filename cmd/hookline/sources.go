package main

import (
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/hookline/hookline/client"
)

func newSourcesCreateCmd(g *globals) *cobra.Command {
	var (
		verification client.Verification
		eventType    client.SourceEventType
		dedup        client.SourceDedup
		window       time.Duration
		description  string
	)
	cmd := &cobra.Command{
		Use:   "create NAME",
		Short: "Create a source and print its URL",
		Long: `Create a source: POST /in/NAME then verifies requests with --verification
(standard-webhooks, github, stripe, shopify, slack, hmac, basic, api-key or
none) and turns each into an event. The event type is the value of
--event-type-header, the value at --event-type-path in the body, or the
fixed --event-type; without any, the provider's default or NAME.received.`,
		Example: `  hookline sources create github --verification github --secret "$GITHUB_WEBHOOK_SECRET"
  hookline sources create orders --verification hmac --secret s3cret \
    --event-type-path type --prefix shop. --dedup-path id --dedup-window 24h`,
		Args: argsNamed("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if verification.Kind == "" {
				return usagef(cmd, "--verification is required (use none to accept unsigned requests)")
			}
			var picked []string
			for _, name := range []string{"event-type-header", "event-type-path", "event-type"} {
				if cmd.Flags().Changed(name) {
					picked = append(picked, "--"+name)
				}
			}
			if len(picked) > 1 {
				return usagef(cmd, "%s exclude each other: give one", strings.Join(picked, " and "))
			}
			if window < 0 {
				return usagef(cmd, "invalid --dedup-window %s: must not be negative", window)
			}
			in := client.SourceCreate{Name: args[0], Verification: &verification}
			if eventType != (client.SourceEventType{}) {
				in.EventType = &eventType
			}
			if window > 0 {
				dedup.Window = window.String()
			}
			if len(dedup.Paths) > 0 || dedup.Window != "" {
				in.Dedup = &dedup
			}
			if cmd.Flags().Changed("description") {
				in.Description = &description
			}
			return show(cmd, g, func(c *client.Client) (*client.Source, error) { return c.CreateSource(cmd.Context(), in) }, g.sourceTable)
		},
	}
	f := cmd.Flags()
	f.StringVar(&verification.Kind, "verification", "", "how requests are verified: standard-webhooks, github, stripe, shopify, slack, hmac, basic, api-key or none (required)")
	f.StringArrayVar(&verification.Secrets, "secret", nil, "verification secret (repeatable, for rotation)")
	f.StringVar(&verification.Header, "signature-header", "", "hmac: header with the signature; api-key: header with the key")
	f.StringVar(&verification.Algorithm, "algorithm", "", "hmac: sha1, sha256 or sha512 (default sha256)")
	f.StringVar(&verification.Encoding, "encoding", "", "hmac: hex or base64 (default hex)")
	f.StringVar(&verification.Prefix, "signature-prefix", "", "hmac/api-key: prefix stripped from the header value, such as sha256=")
	f.StringVar(&verification.SignedContent, "signed-content", "", "hmac: template of the signed bytes, such as {timestamp}.{body}")
	f.StringVar(&verification.TimestampHeader, "timestamp-header", "", "hmac: header with the unix timestamp used in {timestamp}")
	f.StringVar(&verification.QueryParam, "query-param", "", "api-key: query parameter carrying the key")
	f.StringVar(&eventType.Header, "event-type-header", "", "take the event type from this request header")
	f.StringVar(&eventType.Path, "event-type-path", "", "take the event type from the value at this path of the body, such as type or event.kind")
	f.StringVar(&eventType.Fixed, "event-type", "", "give every event this type")
	f.StringVar(&eventType.Prefix, "prefix", "", "prepend this to the event type, such as shop.")
	f.StringArrayVar(&dedup.Paths, "dedup-path", nil, "recognise duplicates by the value at this path of the body (repeatable)")
	f.DurationVar(&window, "dedup-window", 0, "how long duplicates are recognised, such as 24h (server default 168h)")
	f.StringVar(&description, "description", "", "description")
	return cmd
}

func newSourcesRejectionsCmd(g *globals) *cobra.Command {
	var opts client.ListOptions
	cmd := &cobra.Command{
		Use:   "rejections ID",
		Short: "List the requests a source refused, newest first",
		Long: `List the requests a source refused (bad signature, body too large, …),
newest first. -o json shows their headers and bodies (truncated).`,
		Args: argsNamed("ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return showPage(cmd, g, func(c *client.Client) (*client.Page[client.Rejection], error) {
				return c.ListRejections(cmd.Context(), args[0], opts)
			}, []string{"ID", "TIME", "METHOD", "REMOTE", "REASON"}, func(rj client.Rejection) []string {
				return []string{rj.ID, fmtTime(rj.CreatedAt), orDash(rj.Method), orDash(rj.RemoteAddr), cell(rj.Reason)}
			})
		},
	}
	addListFlags(cmd, &opts)
	return cmd
}

// sourceTable writes one source as key-value rows, with the full URL that
// senders post to.
func (g *globals) sourceTable(w io.Writer, src *client.Source) {
	v := src.Verification
	et := src.EventType
	var picks []string
	for _, p := range [][2]string{
		{"fixed", et.Fixed}, {"header", et.Header}, {"path", et.Path}, {"expression", et.Expression}, {"prefix", et.Prefix},
	} {
		if p[1] != "" {
			picks = append(picks, p[0]+" "+p[1])
		}
	}
	dedup := "provider delivery id"
	switch {
	case src.Dedup.Disabled:
		dedup = "off"
	case src.Dedup.Header != "":
		dedup = "header " + src.Dedup.Header
	case len(src.Dedup.Paths) > 0:
		dedup = "paths " + strings.Join(src.Dedup.Paths, ", ")
	}
	if src.Dedup.Window != "" && !src.Dedup.Disabled {
		dedup += " within " + src.Dedup.Window
	}
	kv(w,
		"id", src.ID,
		"name", src.Name,
		"path", src.Path,
		"url", strings.TrimRight(g.server, "/")+src.Path,
		"description", cell(src.Description),
		"verification", orDash(v.Kind),
		"secrets", list(v.Secrets),
		"event type", cell(list(picks)),
		"dedup", cell(dedup),
		"enabled", strconv.FormatBool(src.Enabled),
		"created", fmtTime(src.CreatedAt),
		"updated", fmtTime(src.UpdatedAt),
	)
}
