package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/hookline/hookline/client"
)

// maxTailData is how much of an event's compact data `in tail` shows on
// its line, in bytes.
const maxTailData = 200

func newInCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "in",
		Short: "Watch what sources receive",
	}
	cmd.AddCommand(newInTailCmd(g))
	return cmd
}

func newInTailCmd(g *globals) *cobra.Command {
	var pattern string
	cmd := &cobra.Command{
		Use:   "tail SOURCE",
		Short: "Print the events a source receives as they arrive, until Ctrl-C",
		Long: `Print the events the source named SOURCE receives from now on, one line
each: received time, event id, type and the data as compact JSON (cut at
200 bytes). -o json prints each event as one line of JSON instead.`,
		Example: `  hookline in tail github --type 'github.*'
  hookline in tail stripe -o json | jq .data`,
		Args: argsNamed("SOURCE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			source := args[0]
			out, stderr := cmd.OutOrStdout(), cmd.ErrOrStderr()
			opts := client.StreamOptions{
				Source: source,
				Type:   pattern,
				OnOpen: func() {
					fmt.Fprintf(stderr, "Tailing events received at %s/in/%s; press Ctrl-C to stop.\n", strings.TrimRight(g.server, "/"), source)
				},
				OnDropped: func(n int) {
					fmt.Fprintf(stderr, "warning: %d events were left out because the output fell behind\n", n)
				},
			}
			err = c.StreamEvents(cmd.Context(), opts, func(ev client.Event) error {
				return tailLine(out, g.output, ev)
			})
			if errors.Is(err, context.Canceled) && cmd.Context().Err() != nil {
				return nil
			}
			return err
		},
	}
	cmd.Flags().StringVar(&pattern, "type", "", "only events whose type matches this type or glob, such as github.*")
	return cmd
}

// tailLine writes one event for `in tail`: JSON on one line with -o json,
// otherwise time, id, type and compact data.
func tailLine(w io.Writer, output string, ev client.Event) error {
	if output == outputJSON {
		return jsonLine(w, ev)
	}
	_, err := fmt.Fprintf(w, "%s  %s  %s  %s\n", fmtTime(ev.CreatedAt), ev.ID, ev.Type, cutData(compact(ev.Data)))
	return err
}

// cutData keeps data on one line and cuts it at maxTailData bytes, on a
// rune boundary, marking the cut.
func cutData(s string) string {
	return cut(flat(s), maxTailData)
}
