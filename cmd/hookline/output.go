package main

import (
	"bytes"
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

// jsonLine writes v as JSON on one line.
func jsonLine(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
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

// tableOf returns a writer of a table: the header row, then a row per item.
func tableOf[T any](header []string, line func(T) []string) func(io.Writer, []T) {
	return func(w io.Writer, items []T) {
		row(w, header...)
		for _, v := range items {
			row(w, line(v)...)
		}
	}
}

// logTable writes, after a blank line, the log named name as a table of
// header and a line per entry, or that it has no entries (none) yet.
func logTable[T any](w io.Writer, name, none string, entries []T, header []string, line func(T) []string) {
	fmt.Fprintln(w)
	if len(entries) == 0 {
		fmt.Fprintf(w, "%s: no %s yet\n", name, none)
		return
	}
	fmt.Fprintln(w, name+":")
	tableOf(header, line)(w, entries)
}

// kvList writes values as rows under one key, the key on the first; none
// when there are no values.
func kvList(w io.Writer, key, none string, values []string) {
	if len(values) == 0 {
		kv(w, key, none)
	}
	for i, v := range values {
		if i == 0 {
			kv(w, key, v)
			continue
		}
		fmt.Fprintf(w, "\t%s\n", v)
	}
}

// row writes one tab-separated table row.
func row(w io.Writer, cells ...string) {
	fmt.Fprintln(w, strings.Join(cells, "\t"))
}

// cell makes free text fit one table cell: control characters become
// spaces, and it is cut at maxCell bytes.
func cell(s string) string {
	return orDash(cut(flat(strings.TrimSpace(s)), maxCell))
}

// flat keeps s on one line: control characters become spaces.
func flat(s string) string {
	return strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}

// cut cuts s at n bytes, on a rune boundary, marking the cut.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && (s[n]&0xC0) == 0x80 {
		n--
	}
	return s[:n] + "…"
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
