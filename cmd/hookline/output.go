package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/hookline/hookline/client"
	"github.com/hookline/hookline/internal/config"
)

// Values of --output.
const (
	outputTable = "table"
	outputJSON  = "json"
)

// maxCell is the widest free-text table cell, in bytes.
const maxCell = 60

// render writes v as indented JSON with -o json, and otherwise as the table
// that table writes to a tabwriter.
func (g *globals) render(cmd *cobra.Command, v any, table func(w io.Writer)) error {
	out := cmd.OutOrStdout()
	if g.output == outputJSON {
		return writeJSON(out, v)
	}
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	table(tw)
	return tw.Flush()
}

// writeJSON writes v as indented JSON.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// printError writes err for a person: mistakes in a file as
// "FILE:LINE: message" with the lines around it, API errors with their
// code, status and details, command-line mistakes with a pointer to help.
func printError(w io.Writer, err error) {
	var fileErr *config.FileError
	if errors.As(err, &fileErr) {
		fmt.Fprintln(w, fileErr.Error())
		if fileErr.Snippet != "" {
			fmt.Fprintln(w, fileErr.Snippet)
		}
		return
	}
	// The server is not running: the hint, without the request's URL.
	var down *unreachableError
	if errors.As(err, &down) {
		fmt.Fprintf(w, "error: %v\n", down)
		return
	}
	var apiErr *client.Error
	if errors.As(err, &apiErr) {
		fmt.Fprintf(w, "error: %s (%s, HTTP %d)\n", apiErr.Message, apiErr.Code, apiErr.Status)
		for _, k := range slices.Sorted(maps.Keys(apiErr.Details)) {
			fmt.Fprintf(w, "  %s: %s\n", k, detail(apiErr.Details[k]))
		}
		return
	}
	fmt.Fprintf(w, "error: %v\n", err)
	var ue *usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(w, "Run '%s --help' for usage.\n", ue.path)
	}
}

// detail formats one value of an API error's details.
func detail(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// kv writes aligned "key: value" rows to a tabwriter.
func kv(w io.Writer, pairs ...string) {
	for i := 0; i+1 < len(pairs); i += 2 {
		fmt.Fprintf(w, "%s:\t%s\n", pairs[i], pairs[i+1])
	}
}

// row writes one tab-separated table row.
func row(w io.Writer, cells ...string) {
	fmt.Fprintln(w, strings.Join(cells, "\t"))
}

// cell makes free text fit one table cell: control characters become
// spaces, and it is cut at maxCell bytes.
func cell(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, strings.TrimSpace(s))
	if len(s) > maxCell {
		cut := maxCell
		for cut > 0 && (s[cut]&0xC0) == 0x80 {
			cut--
		}
		s = s[:cut] + "…"
	}
	return orDash(s)
}

// orDash shows an empty value as "-".
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// fmtTime shows t in UTC, RFC 3339; the zero time as "-".
func fmtTime(t client.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

// fmtTimePtr is fmtTime for an optional time.
func fmtTimePtr(t *client.Time) string {
	if t == nil {
		return "-"
	}
	return fmtTime(*t)
}

// list joins values with ", ", or shows "-" for none.
func list(values []string) string {
	return orDash(strings.Join(values, ", "))
}

// nextPage tells, on stderr, how to fetch the page after this one.
func nextPage(cmd *cobra.Command, cursor string) {
	if cursor != "" {
		fmt.Fprintf(cmd.ErrOrStderr(), "more results: add --cursor %s\n", cursor)
	}
}

// deleted reports a deletion: a line in a table, an object in JSON.
func (g *globals) deleted(cmd *cobra.Command, kind, id string) error {
	v := struct {
		ID      string `json:"id"`
		Deleted bool   `json:"deleted"`
	}{id, true}
	return g.render(cmd, v, func(w io.Writer) {
		fmt.Fprintf(w, "deleted %s %s\n", kind, id)
	})
}

// shownOnce warns, on stderr, that a secret just printed cannot be read
// again.
func shownOnce(cmd *cobra.Command, what string) {
	fmt.Fprintf(cmd.ErrOrStderr(), "The %s is shown only this once: store it now.\n", what)
}

// newDeleteCmd is `delete ARG` of a resource: del removes it by name or id.
func newDeleteCmd(g *globals, arg, noun, short string, del func(*client.Client, context.Context, string) error) *cobra.Command {
	return &cobra.Command{
		Use:   "delete " + arg,
		Short: short,
		Args:  argsNamed(arg),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			if err := del(c, cmd.Context(), args[0]); err != nil {
				return err
			}
			return g.deleted(cmd, noun, args[0])
		},
	}
}

// newGetCmd is `get ARG` of a resource: get fetches it by name or id and
// table writes it.
func newGetCmd[T any](g *globals, arg, short string, get func(*client.Client, context.Context, string) (*T, error), table func(io.Writer, *T)) *cobra.Command {
	return &cobra.Command{
		Use:   "get " + arg,
		Short: short,
		Args:  argsNamed(arg),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			v, err := get(c, cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return g.render(cmd, v, func(w io.Writer) { table(w, v) })
		},
	}
}

// newListAllCmd is `list` of a resource listed whole, not by page: fetch
// gets every item and table writes them.
func newListAllCmd[T any](g *globals, short string, fetch func(*client.Client, context.Context) ([]T, error), table func(io.Writer, []T)) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: short,
		Args:  argsNamed(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			vs, err := fetch(c, cmd.Context())
			if err != nil {
				return err
			}
			return g.render(cmd, vs, func(w io.Writer) { table(w, vs) })
		},
	}
}

// dataBlock writes a "data:" line and below it raw, indented: as JSON
// pretty-printed, or as it is when it is not JSON.
func dataBlock(w io.Writer, raw json.RawMessage) {
	fmt.Fprintln(w, "data:")
	var pretty bytes.Buffer
	if json.Indent(&pretty, raw, "  ", "  ") != nil {
		fmt.Fprintf(w, "  %s\n", raw)
		return
	}
	fmt.Fprintf(w, "  %s\n", pretty.Bytes())
}
