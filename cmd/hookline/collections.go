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
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/hookline/hookline/client"
	"github.com/hookline/hookline/internal/config"
)

func newCollectionsCreateCmd(g *globals) *cobra.Command {
	return newSpecFileCmd(g, &cobra.Command{
		Use:   "create -f FILE",
		Short: "Create a collection from a YAML or JSON spec",
		Long: `Create a collection from a spec file in YAML or JSON (- reads standard
input): name, key, version, record, events, map, fetch and mirror, as an
entry of collections: in hookline.yaml. A mistake in the file is reported
as FILE:LINE: message. To update an existing collection, or to expand
${NAME} environment references in it, declare it and use hookline apply.`,
		Example: `  hookline collections create -f customers.yaml`,
	}, "collection spec", (*client.Client).CreateCollection, specError, collectionTable)
}

// specError puts an API error about one field of the spec read from path
// at the field's line. Other errors are returned as they are.
func specError(path string, raw []byte, err error) error {
	msg, field, ok := apiFieldError(err)
	if !ok || field == "" {
		return err
	}
	first, rest, _ := strings.Cut(field, ".")
	line, ok := config.Locate(raw, first, rest)
	if !ok {
		return err
	}
	return config.NewFileError(path, raw, line, msg)
}

func newCollectionsRecordsCmd(g *globals) *cobra.Command {
	var (
		opts client.RecordListOptions
		all  bool
	)
	cmd := &cobra.Command{
		Use:   "records NAME",
		Short: "List the records of a collection, in key order",
		Example: `  hookline collections records customers --filter 'record.plan == "pro"' --all
  hookline collections records customers --limit 10 -o json | jq '.data[].data'`,
		Args: argsNamed("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return showPage(cmd, g, func(c *client.Client) (*client.Page[client.Record], error) {
				page, err := c.ListRecords(cmd.Context(), args[0], opts)
				if err != nil || !all {
					return page, err
				}
				return allRecords(cmd.Context(), c, args[0], opts, page)
			}, []string{"KEY", "VERSION", "SEQ", "UPDATED", "DATA"}, func(rec client.Record) []string {
				data := cell(compact(rec.Data))
				if rec.Deleted {
					data = "(deleted)"
				}
				return []string{cell(rec.Key), cell(rec.Version), strconv.FormatInt(rec.Seq, 10), fmtTime(rec.UpdatedAt), data}
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Filter, "filter", "", `expression over record and key a record must match, such as record.plan == "pro"`)
	f.BoolVar(&opts.IncludeDeleted, "include-deleted", false, "also list tombstones of deleted records")
	f.BoolVar(&all, "all", false, "follow cursors and list every record (--limit is then the page size)")
	addListFlags(cmd, &opts.ListOptions)
	return cmd
}

// allRecords follows the cursors from the first page of the records of the
// collection name and returns every record in one page, without a cursor.
func allRecords(ctx context.Context, c *client.Client, name string, opts client.RecordListOptions, page *client.Page[client.Record]) (*client.Page[client.Record], error) {
	seen := map[string]bool{}
	for page.NextCursor != "" && !seen[page.NextCursor] {
		seen[page.NextCursor] = true
		opts.Cursor = page.NextCursor
		more, err := c.ListRecords(ctx, name, opts)
		if err != nil {
			return nil, err
		}
		page.Data = append(page.Data, more.Data...)
		page.NextCursor = more.NextCursor
	}
	page.NextCursor = ""
	return page, nil
}

func newCollectionsChangesCmd(g *globals) *cobra.Command {
	var (
		after  string
		limit  int
		wait   time.Duration
		follow bool
	)
	cmd := &cobra.Command{
		Use:   "changes NAME",
		Short: "List the changes applied to a collection, or follow them live",
		Long: `List the changes applied to the collection NAME after the cursor --after
(from the start without it), oldest first. The cursor to continue from is
printed on standard error. With --follow, print each change as it is
applied, one line each (one line of JSON with -o json), until Ctrl-C.`,
		Example: `  hookline collections changes customers --after 120
  hookline collections changes customers --follow -o json`,
		Args: argsNamed("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if follow && (limit != 0 || wait != 0) {
				return usagef(cmd, "--follow excludes --limit and --wait")
			}
			c, err := g.client()
			if err != nil {
				return err
			}
			if follow {
				return followChanges(cmd, g, c, args[0], after)
			}
			chs, err := c.ListChanges(cmd.Context(), args[0], after, limit, wait)
			if err != nil {
				return err
			}
			err = g.render(cmd, chs, func(w io.Writer) {
				row(w, "SEQ", "AT", "OP", "KEY", "VERSION", "DATA")
				for _, ch := range chs.Data {
					row(w, strconv.FormatInt(ch.Seq, 10), fmtTime(ch.At), ch.Op, cell(ch.Key), cell(ch.Version), cell(compact(ch.Data)))
				}
			})
			if len(chs.Data) > 0 {
				fmt.Fprintf(cmd.ErrOrStderr(), "later changes: add --after %s\n", chs.Cursor)
			}
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&after, "after", "", "cursor: only changes after it (a seq, or the cursor of an earlier answer)")
	f.IntVar(&limit, "limit", 0, "most changes to list (server default when 0)")
	f.DurationVar(&wait, "wait", 0, "wait up to this long, at most 1m, for a change when there is none yet")
	f.BoolVar(&follow, "follow", false, "print changes as they are applied, until Ctrl-C")
	return cmd
}

// followChanges prints the changes of the collection name after the
// cursor after as they come, until the command's context ends.
func followChanges(cmd *cobra.Command, g *globals, c *client.Client, name, after string) error {
	out := cmd.OutOrStdout()
	last := after
	err := c.FollowChanges(cmd.Context(), name, after, func(ch client.RecordChange) error {
		last = strconv.FormatInt(ch.Seq, 10)
		if g.output == outputJSON {
			return jsonLine(out, ch)
		}
		_, err := fmt.Fprintf(out, "%d  %s  %s  %s  %s\n", ch.Seq, fmtTime(ch.At), ch.Op, ch.Key, orDash(cutData(compact(ch.Data))))
		return err
	})
	switch {
	case errors.Is(err, context.Canceled) && cmd.Context().Err() != nil:
		return nil
	case errors.Is(err, client.ErrStreamClosed) && last != "":
		return fmt.Errorf("follow changes of %s: %w; resume with --after %s", name, err, last)
	}
	return err
}

// eventOps shows a collection's operations as "pattern → op", sorted by
// pattern.
func eventOps(events map[string]client.CollectionOp) []string {
	out := make([]string, 0, len(events))
	for _, p := range slices.Sorted(maps.Keys(events)) {
		op := events[p]
		s := p + " → " + op.Op
		if op.Map != nil {
			s += " (" + fieldMapText(op.Map) + ")"
		}
		out = append(out, s)
	}
	return out
}

// fieldMapText summarises a field map: "set a, b; rename c→d; drop e".
func fieldMapText(m *client.FieldMap) string {
	if m == nil {
		return "-"
	}
	var parts []string
	if len(m.Set) > 0 {
		parts = append(parts, "set "+strings.Join(slices.Sorted(maps.Keys(m.Set)), ", "))
	}
	if len(m.Rename) > 0 {
		var rs []string
		for _, k := range slices.Sorted(maps.Keys(m.Rename)) {
			rs = append(rs, k+"→"+m.Rename[k])
		}
		parts = append(parts, "rename "+strings.Join(rs, ", "))
	}
	if len(m.Drop) > 0 {
		parts = append(parts, "drop "+strings.Join(m.Drop, ", "))
	}
	return orDash(strings.Join(parts, "; "))
}

// collectionTable writes one collection as key-value rows, an event
// pattern a row.
func collectionTable(w io.Writer, col *client.Collection) {
	version := col.Version
	if version == "" {
		version = "- (event time)"
	}
	kv(w,
		"name", col.Name,
		"key", col.Key,
		"version", version,
		"record", orDash(col.Record),
	)
	kvList(w, "events", "-", eventOps(col.Events))
	fetch, mirror := "-", "-"
	if col.Fetch != nil {
		fetch = cell(col.Fetch.URL)
	}
	if col.Mirror != nil {
		mirror = col.Mirror.Table
		if m := col.MirrorStatus; m != nil {
			mirror += " (" + mirrorText(m) + ")"
		}
	}
	kv(w,
		"map", fieldMapText(col.Map),
		"fetch", fetch,
		"mirror", mirror,
		"created", fmtTime(col.CreatedAt),
		"updated", fmtTime(col.UpdatedAt),
	)
}

// mirrorText says how a mirror follows its collection: "ok", "catching
// up, 12 behind" or "failing since …, 12 behind, next try …: error", and
// the rows it passed over.
func mirrorText(m *client.MirrorStatus) string {
	var b strings.Builder
	switch m.State {
	case "ok":
		b.WriteString("ok")
	case "failing":
		fmt.Fprintf(&b, "failing since %s, %d behind, next try %s: %s", fmtTimePtr(m.FailingSince), m.Lag, fmtTimePtr(m.RetryAt), cell(m.LastError))
	default:
		fmt.Fprintf(&b, "%s, %d behind", strings.ReplaceAll(m.State, "_", " "), m.Lag)
	}
	if m.RowsFailed > 0 {
		fmt.Fprintf(&b, "; %d rows passed over, last: %s", m.RowsFailed, cell(m.LastRowError))
	}
	return b.String()
}

// recordTable writes one record as key-value rows followed by its data.
func recordTable(w io.Writer, rec *client.Record) {
	kv(w,
		"key", rec.Key,
		"version", rec.Version,
		"seq", strconv.FormatInt(rec.Seq, 10),
		"event", orDash(rec.EventID),
		"created", fmtTime(rec.CreatedAt),
		"updated", fmtTime(rec.UpdatedAt),
	)
	dataBlock(w, rec.Data)
}

// compact writes JSON on one line; anything else as it is.
func compact(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		return string(raw)
	}
	return b.String()
}
