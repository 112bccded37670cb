package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/hookline/hookline/client"
)

const (
	// defaultBackfillBatch is how many records backfill writes per request.
	defaultBackfillBatch = 500
	// maxBackfillBatch is the most records the API takes per request.
	maxBackfillBatch = 1000
	// sourceTimeout bounds one request to the source API of backfill.
	sourceTimeout = 30 * time.Second
	// maxSourceAnswer bounds one answer of the source API, in bytes.
	maxSourceAnswer = 32 << 20
	// maxReportedErrors is how many record errors backfill reports.
	maxReportedErrors = 10
	// maxSourceError is how much of a source's error answer is quoted, in
	// bytes.
	maxSourceError = 200
)

// backfillFlags are the flags of `collections backfill`.
type backfillFlags struct {
	from, items             string
	cursorParam, cursorPath string
	pageParam               string
	pageStart               int
	limitParam              string
	pageSize                int
	headers                 []string
	maxPages                int
	totalPath               string
	batch                   int
	noProgress              bool
}

func newCollectionsBackfillCmd(g *globals) *cobra.Command {
	var f backfillFlags
	cmd := &cobra.Command{
		Use:   "backfill NAME --from URL",
		Short: "Load the existing records of a source API into a collection",
		Long: `Page through a source API from this machine and write the records it
lists to the collection NAME (POST /v1/collections/NAME/records), applied
like upserts with the collection's key, version and map. A record older
than the stored version is skipped as stale, so a backfill may run while
webhooks flow, and again.

--items is the dot path of the records array in each answer (default: the
answer itself when it is an array, else data). Pages are followed with
either --cursor-param and --cursor-path (the next cursor is read at
--cursor-path; the last page has none) or --page-param (page numbers from
--page-start up to the first empty page); with neither, one request is made.

A progress bar is shown on standard error when it is a terminal. At the
end it reports pages, records read, applied, skipped (stale or duplicate)
and errors, with the first 10 errors; any record error exits with 1.`,
		Example: `  hookline collections backfill customers --from https://api.example.com/v1/customers \
    --header "Authorization: Bearer $TOKEN" --items data \
    --cursor-param starting_after --cursor-path last_id --limit-param limit --page-size 100
  hookline collections backfill products --from https://shop.example.com/products.json \
    --page-param page --items products --total-path count`,
		Args: argsNamed("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			src, err := f.source(cmd, g.build.UserAgent())
			if err != nil {
				return err
			}
			c, err := g.client()
			if err != nil {
				return err
			}
			name := args[0]
			// A missing collection is found before the source is read.
			if _, err := c.GetCollection(cmd.Context(), name); err != nil {
				return err
			}
			stderr := cmd.ErrOrStderr()
			bf := &backfill{
				src: src, c: c, name: name, batch: f.batch, maxPages: f.maxPages, totalPath: f.totalPath,
				progress: newProgress(stderr, !f.noProgress && isTerminal(stderr), "backfill "+name),
				report:   backfillReport{Collection: name},
			}
			runErr := bf.run(cmd.Context())
			bf.progress.done()
			rep := &bf.report
			if rep.Pages == 0 && runErr != nil {
				return runErr
			}
			if err := g.render(cmd, rep, func(w io.Writer) { backfillTable(w, rep) }); err != nil {
				return err
			}
			if runErr != nil {
				return runErr
			}
			if rep.Errors > 0 {
				return fmt.Errorf("%d of %d records could not be applied", rep.Errors, rep.Read)
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.from, "from", "", "URL of the source API's list of records (required)")
	fl.StringVar(&f.items, "items", "", "dot path of the records array in an answer (default: the answer if it is an array, else data)")
	fl.StringVar(&f.cursorParam, "cursor-param", "", "query parameter that carries the cursor of the next page")
	fl.StringVar(&f.cursorPath, "cursor-path", "", "dot path of the next page's cursor in an answer; none or empty ends")
	fl.StringVar(&f.pageParam, "page-param", "", "query parameter that carries the page number; an empty page ends")
	fl.IntVar(&f.pageStart, "page-start", 1, "number of the first page, with --page-param")
	fl.StringVar(&f.limitParam, "limit-param", "", "query parameter that carries --page-size")
	fl.IntVar(&f.pageSize, "page-size", 0, "records per page asked of the source, with --limit-param")
	fl.StringArrayVar(&f.headers, "header", nil, "request header to the source, 'K: V' or K=V, such as 'Authorization: Bearer …' (repeatable)")
	fl.IntVar(&f.maxPages, "max-pages", 0, "stop after this many pages (no limit when 0)")
	fl.StringVar(&f.totalPath, "total-path", "", "dot path of the total number of records in the first answer, for the progress bar")
	fl.IntVar(&f.batch, "batch-size", defaultBackfillBatch, "records written per request, at most 1000")
	fl.BoolVar(&f.noProgress, "no-progress", false, "show no progress bar")
	return cmd
}

// source checks the flags and returns the source API they describe; its
// requests carry userAgent unless a --header sets one.
func (f *backfillFlags) source(cmd *cobra.Command, userAgent string) (*sourceAPI, error) {
	if f.from == "" {
		return nil, usagef(cmd, "--from URL is required")
	}
	u, err := url.Parse(f.from)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, usagef(cmd, "invalid --from %q: want an http:// or https:// URL", f.from)
	}
	changed := cmd.Flags().Changed
	switch {
	case (f.cursorParam == "") != (f.cursorPath == ""):
		return nil, usagef(cmd, "--cursor-param and --cursor-path go together")
	case f.cursorParam != "" && f.pageParam != "":
		return nil, usagef(cmd, "--cursor-param and --page-param exclude each other")
	case changed("page-start") && f.pageParam == "":
		return nil, usagef(cmd, "--page-start needs --page-param")
	case (f.limitParam == "") != (f.pageSize == 0):
		return nil, usagef(cmd, "--limit-param and --page-size go together")
	case f.pageSize < 0:
		return nil, usagef(cmd, "invalid --page-size %d: must be positive", f.pageSize)
	case f.maxPages < 0:
		return nil, usagef(cmd, "invalid --max-pages %d: must be positive", f.maxPages)
	case f.batch < 1 || f.batch > maxBackfillBatch:
		return nil, usagef(cmd, "invalid --batch-size %d: want 1 to %d", f.batch, maxBackfillBatch)
	}
	header := http.Header{}
	for _, h := range f.headers {
		k, v, err := parseSourceHeader(h)
		if err != nil {
			return nil, usagef(cmd, "invalid --header %q: %v", h, err)
		}
		header.Add(k, v)
	}
	if header.Get("Accept") == "" {
		header.Set("Accept", "application/json")
	}
	if header.Get("User-Agent") == "" {
		header.Set("User-Agent", userAgent)
	}
	return &sourceAPI{
		hc: &http.Client{Timeout: sourceTimeout}, base: u, header: header, items: f.items,
		cursorParam: f.cursorParam, cursorPath: f.cursorPath,
		pageParam: f.pageParam, pageStart: f.pageStart, limitParam: f.limitParam, pageSize: f.pageSize,
	}, nil
}

// parseSourceHeader splits "K: V" or "K=V", whichever separator comes
// first (a header name has neither).
func parseSourceHeader(s string) (string, string, error) {
	i := strings.IndexAny(s, ":=")
	if i < 0 {
		return "", "", errors.New("want 'Name: value' or Name=value")
	}
	k, v := strings.TrimSpace(s[:i]), strings.TrimSpace(s[i+1:])
	if k == "" || strings.ContainsAny(k, " \t") {
		return "", "", errors.New("want 'Name: value' or Name=value")
	}
	return k, v, nil
}

// sourceAPI is the list endpoint of a source system that backfill pages
// through.
type sourceAPI struct {
	hc     *http.Client
	base   *url.URL
	header http.Header
	// items is the dot path of the records array; empty: the answer if it
	// is an array, else "data".
	items                   string
	cursorParam, cursorPath string
	pageParam               string
	pageStart               int
	limitParam              string
	pageSize                int
}

// sourcePage is one answer of the source API.
type sourcePage struct {
	url   string
	doc   json.RawMessage
	items []json.RawMessage
}

// fetch reads the page with the cursor (cursor pagination) or number
// (page pagination).
func (s *sourceAPI) fetch(ctx context.Context, cursor string, number int) (*sourcePage, error) {
	u := *s.base
	q := u.Query()
	if s.cursorParam != "" && cursor != "" {
		q.Set(s.cursorParam, cursor)
	}
	if s.pageParam != "" {
		q.Set(s.pageParam, strconv.Itoa(number))
	}
	if s.limitParam != "" {
		q.Set(s.limitParam, strconv.Itoa(s.pageSize))
	}
	u.RawQuery = q.Encode()
	p := &sourcePage{url: u.String()}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.url, nil)
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", p.url, err)
	}
	req.Header = s.header.Clone()
	resp, err := s.hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("fetch %s: %w", p.url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxSourceAnswer+1))
	if err != nil {
		return nil, fmt.Errorf("fetch %s: read answer: %w", p.url, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		msg := cell(string(body))
		if len(body) > maxSourceError {
			msg = cutData(string(body[:maxSourceError]))
		}
		return nil, fmt.Errorf("fetch %s: HTTP %s: %s", p.url, resp.Status, msg)
	}
	if len(body) > maxSourceAnswer {
		return nil, fmt.Errorf("fetch %s: the answer is over %d MiB; ask for smaller pages with --limit-param and --page-size", p.url, maxSourceAnswer>>20)
	}
	if !json.Valid(body) {
		return nil, fmt.Errorf("fetch %s: the answer is not JSON (%s)", p.url, cutData(string(body[:min(len(body), maxSourceError)])))
	}
	p.doc = body
	itemsPath := s.items
	if itemsPath == "" && jsonKindOf(body) != '[' {
		itemsPath = "data"
	}
	raw, ok := jsonAt(body, itemsPath)
	if ok {
		if jsonKindOf(raw) != '[' {
			return nil, fmt.Errorf("fetch %s: %s is %s, not an array of records; set --items", p.url, pathName(itemsPath), jsonKindName(raw))
		}
		if err := json.Unmarshal(raw, &p.items); err != nil {
			return nil, fmt.Errorf("fetch %s: %w", p.url, err)
		}
	}
	return p, nil
}

// nextCursor returns the cursor of the page after p; empty at the end.
func (s *sourceAPI) nextCursor(p *sourcePage) (string, error) {
	raw, ok := jsonAt(p.doc, s.cursorPath)
	if !ok {
		return "", nil
	}
	switch jsonKindOf(raw) {
	case '"':
		var v string
		err := json.Unmarshal(raw, &v)
		return v, err
	case '0':
		return string(bytes.TrimSpace(raw)), nil
	}
	return "", fmt.Errorf("fetch %s: the cursor at %s is %s, not a string or number", p.url, s.cursorPath, jsonKindName(raw))
}

// jsonAt returns the value at the dot path of doc (keys of objects,
// indexes of arrays; "" is doc itself); ok is false when it is missing or
// null.
func jsonAt(doc json.RawMessage, path string) (json.RawMessage, bool) {
	cur := doc
	if path != "" {
		for seg := range strings.SplitSeq(path, ".") {
			switch jsonKindOf(cur) {
			case '{':
				var m map[string]json.RawMessage
				if json.Unmarshal(cur, &m) != nil {
					return nil, false
				}
				v, ok := m[seg]
				if !ok {
					return nil, false
				}
				cur = v
			case '[':
				i, err := strconv.Atoi(seg)
				var a []json.RawMessage
				if err != nil || json.Unmarshal(cur, &a) != nil || i < 0 || i >= len(a) {
					return nil, false
				}
				cur = a[i]
			default:
				return nil, false
			}
		}
	}
	if jsonKindOf(cur) == 'n' {
		return nil, false
	}
	return cur, true
}

// jsonKindOf returns the first byte of a JSON value: '{', '[', '"', 'n'
// for null, 't' or 'f' for booleans, '0' for numbers; 0 for nothing.
func jsonKindOf(raw json.RawMessage) byte {
	raw = bytes.TrimLeft(raw, " \t\r\n")
	if len(raw) == 0 {
		return 0
	}
	switch c := raw[0]; c {
	case '{', '[', '"', 'n', 't', 'f':
		return c
	}
	return '0'
}

// jsonKindName names the kind of a JSON value: "an object", "a string"….
func jsonKindName(raw json.RawMessage) string {
	switch jsonKindOf(raw) {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case '0':
		return "a number"
	}
	return "null"
}

// pathName shows a dot path in messages; "" is the whole answer.
func pathName(path string) string {
	if path == "" {
		return "the answer"
	}
	return strconv.Quote(path)
}

// backfill pages through a source API and writes its records to a
// collection in batches.
type backfill struct {
	src       *sourceAPI
	c         *client.Client
	name      string
	batch     int
	maxPages  int
	totalPath string
	progress  *progress
	report    backfillReport
	// pending are the records read but not written yet; written counts
	// those written, so that pending[i] is record written+i+1.
	pending []json.RawMessage
	written int
}

// backfillReport is what a backfill did.
type backfillReport struct {
	Collection string `json:"collection"`
	Pages      int    `json:"pages"`
	Read       int    `json:"read"`
	Applied    int    `json:"applied"`
	// Skipped are records not applied because the collection already had
	// them at that version (Duplicate) or a later one (Stale).
	Skipped   int `json:"skipped"`
	Stale     int `json:"stale"`
	Duplicate int `json:"duplicate"`
	Errors    int `json:"errors"`
	// FirstErrors are the first maxReportedErrors record errors.
	FirstErrors []recordError `json:"first_errors,omitempty"`
}

// recordError is a record the collection refused.
type recordError struct {
	// Index is the record's position in the source, from 1.
	Index int    `json:"index"`
	Key   string `json:"key,omitempty"`
	Error string `json:"error"`
}

// run reads every page, writing records as batches fill up, and leaves
// what it did in b.report. When reading stops on an error, the records
// read until then are still written.
func (b *backfill) run(ctx context.Context) error {
	err := b.read(ctx)
	if err != nil && ctx.Err() != nil {
		return err
	}
	if ferr := b.flush(ctx); err == nil {
		err = ferr
	}
	return err
}

// read reads the pages and writes full batches.
func (b *backfill) read(ctx context.Context) error {
	var (
		cursor  string
		number  = b.src.pageStart
		cursors = map[string]bool{}
		prev    []byte
	)
	for n := 1; b.maxPages == 0 || n <= b.maxPages; n++ {
		p, err := b.src.fetch(ctx, cursor, number)
		if err != nil {
			return err
		}
		b.report.Pages++
		if n == 1 && b.totalPath != "" {
			if raw, ok := jsonAt(p.doc, b.totalPath); ok {
				total, err := strconv.ParseInt(string(bytes.TrimSpace(raw)), 10, 64)
				if err != nil {
					return fmt.Errorf("fetch %s: the total at %s is %s, not an integer", p.url, b.totalPath, jsonKindName(raw))
				}
				b.progress.total(total)
			}
		}
		var next string
		switch {
		case b.src.pageParam != "":
			// A source that ignores the page parameter answers the same
			// page forever.
			cur := bytes.Join(rawBytes(p.items), []byte{','})
			if len(p.items) > 0 && bytes.Equal(cur, prev) {
				return fmt.Errorf("fetch %s: page %d is the same as page %d: does the source take --page-param %s?", p.url, number, number-1, b.src.pageParam)
			}
			prev = cur
		case b.src.cursorParam != "":
			if next, err = b.src.nextCursor(p); err != nil {
				return err
			}
			if cursors[next] {
				return fmt.Errorf("fetch %s: the source gave the cursor %q again: does it take --cursor-param %s?", p.url, next, b.src.cursorParam)
			}
			cursors[next] = true
		}
		b.report.Read += len(p.items)
		b.progress.add(len(p.items))
		for _, it := range p.items {
			b.pending = append(b.pending, it)
			if len(b.pending) >= b.batch {
				if err := b.flush(ctx); err != nil {
					return err
				}
			}
		}
		switch {
		case b.src.pageParam != "" && len(p.items) > 0:
			number++
		case b.src.cursorParam != "" && next != "":
			cursor = next
		default:
			return nil
		}
	}
	return nil
}

// flush writes the pending records and counts their outcomes.
func (b *backfill) flush(ctx context.Context) error {
	if len(b.pending) == 0 {
		return nil
	}
	res, err := b.c.WriteRecords(ctx, b.name, client.RecordsWrite{Records: b.pending})
	if err != nil {
		// Not written again: the error ends the backfill.
		b.pending = nil
		return err
	}
	rep := &b.report
	for i, r := range res.Results {
		switch r.Outcome {
		case "applied":
			rep.Applied++
		case "stale":
			rep.Stale++
			rep.Skipped++
		case "duplicate":
			rep.Duplicate++
			rep.Skipped++
		case "error":
			rep.Errors++
			if len(rep.FirstErrors) < maxReportedErrors {
				rep.FirstErrors = append(rep.FirstErrors, recordError{Index: b.written + i + 1, Key: r.Key, Error: r.Error})
			}
		default:
			rep.Skipped++
		}
	}
	b.written += len(b.pending)
	b.pending = b.pending[:0]
	return nil
}

// rawBytes converts raw JSON values to byte slices.
func rawBytes(items []json.RawMessage) [][]byte {
	out := make([][]byte, len(items))
	for i, it := range items {
		out[i] = it
	}
	return out
}

// backfillTable writes a backfill report as key-value rows, then the
// first record errors.
func backfillTable(w io.Writer, rep *backfillReport) {
	kv(w,
		"collection", rep.Collection,
		"pages", strconv.Itoa(rep.Pages),
		"records read", strconv.Itoa(rep.Read),
		"applied", strconv.Itoa(rep.Applied),
		"skipped", fmt.Sprintf("%d (%d stale, %d duplicate)", rep.Skipped, rep.Stale, rep.Duplicate),
		"errors", strconv.Itoa(rep.Errors),
	)
	for i, e := range rep.FirstErrors {
		label := ""
		if i == 0 {
			label = "first errors:"
		}
		fmt.Fprintf(w, "%s\trecord %d, key %s: %s\n", label, e.Index, orDash(e.Key), cutData(e.Error))
	}
}

// progress is the progress bar of a backfill on standard error; without a
// bar its methods do nothing.
type progress struct {
	bar *progressbar.ProgressBar
}

// newProgress returns a progress counter of records, without a known
// total, written to w when on.
func newProgress(w io.Writer, on bool, desc string) *progress {
	if !on {
		return &progress{}
	}
	return &progress{bar: progressbar.NewOptions64(-1,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(desc),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("records"),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionSetRenderBlankState(true),
	)}
}

// total makes the counter a bar to n records.
func (p *progress) total(n int64) {
	if p.bar != nil && n > 0 {
		p.bar.ChangeMax64(n)
	}
}

func (p *progress) add(n int) {
	if p.bar != nil {
		_ = p.bar.Add(n)
	}
}

// done clears the bar.
func (p *progress) done() {
	if p.bar != nil {
		_ = p.bar.Finish()
	}
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
