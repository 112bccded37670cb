package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/client"
)

// customersSpec keys customers by id and versions them by updated.
const customersSpec = `name: customers
key: data.id
version: data.updated
events:
  customer.deleted: delete
  customer.*: upsert
`

// createCustomers creates the collection of customersSpec on l.
func (l *live) createCustomers(t *testing.T) {
	t.Helper()
	l.run(t, "", "collections", "create", "-f", writeTemp(t, "customers.yaml", customersSpec)).ok(t)
}

// recordKeys lists the keys of the live records of collection name.
func (l *live) recordKeys(t *testing.T, name string) []string {
	t.Helper()
	page, err := l.client.ListRecords(t.Context(), name, client.RecordListOptions{})
	require.NoError(t, err)
	keys := []string{}
	for _, r := range page.Data {
		keys = append(keys, r.Key)
	}
	return keys
}

func TestCollectionsCreateListGetDelete(t *testing.T) {
	t.Parallel()
	srv := startLive(t)
	path := writeTemp(t, "customers.yaml", customersSpec)

	res := srv.run(t, "", "collections", "create", "-f", path).ok(t)
	require.Regexp(t, `(?m)^name:\s+customers$`, res.stdout)
	require.Regexp(t, `(?m)^key:\s+data\.id$`, res.stdout)
	require.Regexp(t, `(?m)^version:\s+data\.updated$`, res.stdout)
	require.Regexp(t, `(?m)^events:\s+customer\.\* → upsert\n\s+customer\.deleted → delete$`, res.stdout)

	srv.run(t, "", "collections", "create", "-f", path).fails(t, `a collection named "customers" already exists (conflict, HTTP 409)`)

	// JSON from standard input.
	res = srv.run(t, `{"name": "orders", "key": "data.number", "events": {"order.*": {"op": "merge", "map": {"drop": ["secret"]}}}}`,
		"collections", "create", "-f", "-", "-o", "json")
	require.Equal(t, 0, res.code, res.stderr)
	var col client.Collection
	require.NoError(t, json.Unmarshal([]byte(res.stdout), &col))
	require.Equal(t, "data.number", col.Key)
	require.Equal(t, "merge", col.Events["order.*"].Op)

	res = srv.run(t, "", "collections", "list").ok(t)
	require.Regexp(t, `(?m)^NAME\s+KEY\s+VERSION\s+EVENTS\s+CREATED$`, res.stdout)
	require.Regexp(t, `(?m)^customers\s+data\.id\s+data\.updated\s+customer\.\* → upsert, customer\.deleted → delete\s+\d{4}-`, res.stdout)
	require.Regexp(t, `(?m)^orders\s+data\.number\s+-\s+order\.\* → merge \(drop secret\)\s+\d{4}-`, res.stdout)

	res = srv.run(t, "", "collection", "get", "orders").ok(t)
	require.Regexp(t, `(?m)^version:\s+- \(event time\)$`, res.stdout)

	srv.deletes(t, "collections", "collection", "orders")
}

func TestCollectionsCreateReportsMistakesAtTheirLine(t *testing.T) {
	t.Parallel()
	srv := startLive(t)
	cases := []struct {
		name, spec, want string
	}{
		{"unknown key", "name: a\nkey: data.id\nkye: x\n", `bad.yaml:3:1: unknown field "kye"`},
		{"refused by the server", "name: a\nkey: data.id\nversion: data[\n", `bad.yaml:3: version: `},
		{"refused, in a pattern with dots", "name: a\nkey: data.id\nevents:\n  a.b: upsurt\n", `bad.yaml:3: events.a.b: operation "upsurt" is not one of`},
	}
	for _, tc := range cases {
		path := writeTemp(t, "bad.yaml", tc.spec)
		res := srv.run(t, "", "collections", "create", "-f", path)
		require.Equal(t, 1, res.code, tc.name)
		require.Contains(t, res.stderr, tc.want, tc.name)
	}
}

func TestCollectionsRecordsAndChanges(t *testing.T) {
	t.Parallel()
	srv := startLive(t)
	srv.createCustomers(t)

	res := srv.run(t, "", "subscriptions", "create", "--collection", "customers", "--name", "customers-sync").ok(t)
	require.Regexp(t, `(?m)^destination:\s+sync → customers$`, res.stdout)
	require.Regexp(t, `(?m)^event types:\s+customer\.\*, customer\.deleted$`, res.stdout, "the collection's patterns by default")

	send := func(typ, data string) {
		t.Helper()
		_, err := srv.client.SendEvent(t.Context(), client.EventCreate{Type: typ, Data: json.RawMessage(data)})
		require.NoError(t, err)
	}
	waitChanges := func(n int) {
		t.Helper()
		require.Eventually(t, func() bool {
			chs, err := srv.client.ListChanges(t.Context(), "customers", "", 0, 0)
			return err == nil && len(chs.Data) == n
		}, 10*time.Second, 10*time.Millisecond, "%d changes are applied", n)
	}
	send("customer.created", `{"id": 1, "updated": 1, "name": "Ada", "plan": "pro"}`)
	waitChanges(1)
	send("customer.created", `{"id": 2, "updated": 1, "name": "Bob", "plan": "free"}`)
	waitChanges(2)
	send("customer.created", `{"id": 3, "updated": 1, "name": "Cy", "plan": "free"}`)
	waitChanges(3)
	send("customer.deleted", `{"id": 3, "updated": 2}`)
	waitChanges(4)

	res = srv.run(t, "", "collections", "records", "customers").ok(t)
	require.Regexp(t, `(?m)^KEY\s+VERSION\s+SEQ\s+UPDATED\s+DATA$`, res.stdout)
	require.Regexp(t, `(?m)^1\s+1\s+1\s+\S+\s+\{"id":1,"name":"Ada","plan":"pro","updated":1\}$`, res.stdout)
	require.Regexp(t, `(?m)^2\s+1\s+2\s+`, res.stdout)
	require.NotRegexp(t, `(?m)^3\s`, res.stdout, "deleted records are left out")

	res = srv.run(t, "", "collections", "records", "customers", "--include-deleted").ok(t)
	require.Regexp(t, `(?m)^3\s+2\s+4\s+\S+\s+\(deleted\)$`, res.stdout)

	res = srv.run(t, "", "collections", "records", "customers", "--filter", `record.plan == "pro"`, "-o", "json").ok(t)
	var page client.Page[client.Record]
	require.NoError(t, json.Unmarshal([]byte(res.stdout), &page))
	require.Len(t, page.Data, 1)
	require.Equal(t, "1", page.Data[0].Key)

	res = srv.run(t, "", "collections", "records", "customers", "--limit", "1").ok(t)
	require.Contains(t, res.stderr, "more results: add --cursor 1")

	res = srv.run(t, "", "collections", "records", "customers", "--limit", "1", "--all", "-o", "json").ok(t)
	page = client.Page[client.Record]{}
	require.NoError(t, json.Unmarshal([]byte(res.stdout), &page))
	require.Len(t, page.Data, 2, "every page")
	require.Empty(t, page.NextCursor)
	require.Empty(t, res.stderr)

	res = srv.run(t, "", "collections", "record", "customers", "1").ok(t)
	require.Regexp(t, `(?m)^key:\s+1$`, res.stdout)
	require.Regexp(t, `(?m)^version:\s+1$`, res.stdout)
	require.Regexp(t, `(?m)^event:\s+evt_`, res.stdout)
	require.Contains(t, res.stdout, "data:\n  {\n    \"id\": 1,\n")

	res = srv.run(t, "", "collections", "record", "customers", "3").fails(t, `record "3" of collection customers was deleted (deleted, HTTP 410)`)
	require.Regexp(t, `(?m)^  version: 2$`, res.stderr, "the tombstone's version")

	srv.run(t, "", "collections", "record", "customers", "99").fails(t, "(not_found, HTTP 404)")

	res = srv.run(t, "", "collections", "changes", "customers").ok(t)
	require.Regexp(t, `(?m)^SEQ\s+AT\s+OP\s+KEY\s+VERSION\s+DATA$`, res.stdout)
	require.Regexp(t, `(?m)^1\s+\S+\s+upsert\s+1\s+1\s+\{"id":1,`, res.stdout)
	require.Regexp(t, `(?m)^4\s+\S+\s+delete\s+3\s+2\s+-$`, res.stdout)
	require.Equal(t, "later changes: add --after 4\n", res.stderr)

	res = srv.run(t, "", "collections", "changes", "customers", "--after", "2", "-o", "json").ok(t)
	var chs client.Changes
	require.NoError(t, json.Unmarshal([]byte(res.stdout), &chs))
	require.Len(t, chs.Data, 2)
	require.Equal(t, "3", chs.Data[0].Key)
	require.Equal(t, "4", chs.Cursor)

	// Following: the changes after the cursor, then new ones as they come.
	follow := srv.cli().start(t, "collections", "changes", "customers", "--after", "3", "--follow")
	follow.waitFor(t, false, "delete  3", "the change after the cursor")
	send("customer.updated", `{"id": 2, "updated": 2, "name": "Bob", "plan": "pro"}`)
	follow.waitFor(t, false, "upsert  2", "a new change")
	require.Regexp(t, `^4  \S+  delete  3  -\n5  \S+  upsert  2  \{"id":2,"name":"Bob","plan":"pro","updated":2\}\n$`, follow.stdout.String())
	follow.stop(t)
}

// customers are the records of the source API in the backfill tests; the
// third has no id, so the collection refuses it.
var customers = []string{
	`{"id": 1, "updated": 5, "name": "Ada"}`,
	`{"id": 2, "updated": 5, "name": "Bob"}`,
	`{"name": "nobody"}`,
	`{"id": 4, "updated": 5, "name": "Dee"}`,
	`{"id": 5, "updated": 5, "name": "Eve"}`,
}

// cursorSource serves customers as {"data": [...], "next": "o2"}, limit at
// a time, to requests with the bearer token src-token.
func cursorSource(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer src-token" {
			http.Error(w, "no token", http.StatusUnauthorized)
			return
		}
		q := r.URL.Query()
		assert.Equal(t, "active", q.Get("status"), "the --from URL's own query is kept")
		limit, err := strconv.Atoi(q.Get("limit"))
		if !assert.NoError(t, err) {
			return
		}
		from := 0
		if c := q.Get("starting_after"); c != "" {
			from, _ = strconv.Atoi(strings.TrimPrefix(c, "o"))
		}
		to := min(from+limit, len(customers))
		out := `{"data": [` + strings.Join(customers[from:to], ",") + `]`
		if to < len(customers) {
			out += fmt.Sprintf(`, "next": "o%d"`, to)
		}
		answer(w, http.StatusOK, out+`}`)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestCollectionsBackfillCursor(t *testing.T) {
	t.Parallel()
	srv := startLive(t)
	srv.createCustomers(t)
	src := cursorSource(t)

	args := []string{"collections", "backfill", "customers", "--from", src.URL + "/customers?status=active",
		"--header", "Authorization: Bearer src-token", "--cursor-param", "starting_after", "--cursor-path", "next",
		"--limit-param", "limit", "--page-size", "2", "--batch-size", "3"}
	// Customer 1 changed since the source's copy: backfill must not undo it.
	_, err := srv.client.WriteRecords(t.Context(), "customers", client.RecordsWrite{Records: []json.RawMessage{
		json.RawMessage(`{"id": 1, "updated": 9, "name": "Ada Lovelace"}`),
	}})
	require.NoError(t, err)

	res := srv.run(t, "", args...)
	require.Equal(t, 1, res.code, "a record error fails the command; stderr: %s", res.stderr)
	require.Regexp(t, `(?m)^pages:\s+3$`, res.stdout)
	require.Regexp(t, `(?m)^records read:\s+5$`, res.stdout)
	require.Regexp(t, `(?m)^applied:\s+3$`, res.stdout)
	require.Regexp(t, `(?m)^skipped:\s+1 \(1 stale, 0 duplicate\)$`, res.stdout)
	require.Regexp(t, `(?m)^errors:\s+1$`, res.stdout)
	require.Regexp(t, `(?m)^first errors:\s+record 3, key -: key: `, res.stdout)
	require.Equal(t, "error: 1 of 5 records could not be applied\n", res.stderr)
	require.Equal(t, []string{"1", "2", "4", "5"}, srv.recordKeys(t, "customers"))
	rec, err := srv.client.GetRecord(t.Context(), "customers", "1")
	require.NoError(t, err)
	require.JSONEq(t, `{"id": 1, "updated": 9, "name": "Ada Lovelace"}`, string(rec.Data))

	// Again, as JSON.
	res = srv.run(t, "", append(args, "-o", "json")...)
	require.Equal(t, 1, res.code, res.stderr)
	var rep backfillReport
	require.NoError(t, json.Unmarshal([]byte(res.stdout), &rep))
	require.Equal(t, "customers", rep.Collection)
	require.Equal(t, 3, rep.Pages)
	require.Equal(t, 5, rep.Read)
	require.Equal(t, 1, rep.Stale)
	require.Equal(t, 3, rep.Applied+rep.Duplicate)
	require.Equal(t, rep.Stale+rep.Duplicate, rep.Skipped)
	require.Equal(t, 1, rep.Errors)
	require.Len(t, rep.FirstErrors, 1)
	require.Equal(t, 3, rep.FirstErrors[0].Index)
	require.NotEmpty(t, rep.FirstErrors[0].Error)
}

func TestCollectionsBackfillPages(t *testing.T) {
	t.Parallel()
	srv := startLive(t)
	srv.createCustomers(t)
	records := []string{customers[0], customers[1], customers[3], customers[4], `{"id": 6, "updated": 1}`}
	pages := make(chan string, 10)
	src := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		pages <- q.Get("page")
		page, _ := strconv.Atoi(q.Get("page"))
		per, _ := strconv.Atoi(q.Get("per_page"))
		from := min((page-1)*per, len(records))
		to := min(from+per, len(records))
		answer(w, http.StatusOK, `{"count": 5, "results": [`+strings.Join(records[from:to], ",")+`]}`)
	}))
	t.Cleanup(src.Close)

	res := srv.run(t, "", "collections", "backfill", "customers", "--from", src.URL, "--items", "results", "--total-path", "count",
		"--page-param", "page", "--limit-param", "per_page", "--page-size", "2")
	require.Equal(t, 0, res.code, res.stderr)
	require.Regexp(t, `(?m)^pages:\s+4$`, res.stdout, "up to the first empty page")
	require.Regexp(t, `(?m)^records read:\s+5$`, res.stdout)
	require.Regexp(t, `(?m)^applied:\s+5$`, res.stdout)
	require.Regexp(t, `(?m)^errors:\s+0$`, res.stdout)
	require.Empty(t, res.stderr, "no progress bar when standard error is not a terminal")
	require.Equal(t, []string{"1", "2", "4", "5", "6"}, srv.recordKeys(t, "customers"))
	for _, want := range []string{"1", "2", "3", "4"} {
		require.Equal(t, want, <-pages)
	}

	res = srv.run(t, "", "collections", "backfill", "customers", "--from", src.URL, "--items", "results",
		"--page-param", "page", "--page-start", "2", "--limit-param", "per_page", "--page-size", "2", "--max-pages", "1")
	require.Equal(t, 0, res.code, res.stderr)
	require.Regexp(t, `(?m)^pages:\s+1$`, res.stdout)
	require.Regexp(t, `(?m)^records read:\s+2$`, res.stdout)
	require.Equal(t, "2", <-pages)
	require.Empty(t, pages, "--max-pages stops")
}

// fakeCollection registers a collection "customers" on the fake API b and
// returns the record batches written to it.
func fakeCollection(t *testing.T, b *bundle) <-chan []json.RawMessage {
	t.Helper()
	b.mux.HandleFunc("GET /v1/collections/{name}", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("name") != "customers" {
			answer(w, http.StatusNotFound, `{"error":{"code":"not_found","message":"collection not found"}}`)
			return
		}
		answer(w, http.StatusOK, `{"name":"customers","key":"data.id","events":{"customer.*":"upsert"}}`)
	})
	written := make(chan []json.RawMessage, 10)
	b.mux.HandleFunc("POST /v1/collections/customers/records", func(w http.ResponseWriter, r *http.Request) {
		var in client.RecordsWrite
		assert.NoError(t, json.NewDecoder(r.Body).Decode(&in))
		written <- in.Records
		out := client.RecordsWritten{}
		for range in.Records {
			out.Applied++
			out.Results = append(out.Results, client.RecordResult{Outcome: "applied"})
		}
		w.Header().Set("Content-Type", "application/json")
		assert.NoError(t, json.NewEncoder(w).Encode(out))
	})
	return written
}

func TestCollectionsBackfillOneArray(t *testing.T) {
	t.Parallel()
	b := setup(t)
	written := fakeCollection(t, b)
	src := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		assert.Equal(t, "application/json", r.Header.Get("Accept"))
		assert.Equal(t, "v", r.Header.Get("X-Key"))
		answer(w, http.StatusOK, `[{"id": 1, "big": 12345678901234567890}, {"id": 2}]`)
	}))
	t.Cleanup(src.Close)

	res := b.run(t, "", "collections", "backfill", "customers", "--from", src.URL, "--header", "X-Key=v").ok(t)
	require.Regexp(t, `(?m)^pages:\s+1$`, res.stdout, "without pagination flags, one request")
	require.Regexp(t, `(?m)^applied:\s+2$`, res.stdout)
	batch := <-written
	require.Len(t, batch, 2)
	require.JSONEq(t, `{"id": 1, "big": 12345678901234567890}`, string(batch[0]), "records are sent as read")
}

func TestCollectionsBackfillSourceErrors(t *testing.T) {
	t.Parallel()
	b := setup(t)
	written := fakeCollection(t, b)

	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "database is down", http.StatusInternalServerError)
	}))
	t.Cleanup(failing.Close)
	res := b.run(t, "", "collections", "backfill", "customers", "--from", failing.URL+"/list?x=1").fails(t)
	require.Equal(t, "error: fetch "+failing.URL+"/list?x=1: HTTP 500 Internal Server Error: database is down\n", res.stderr)
	require.Empty(t, res.stdout)

	gone := httptest.NewServer(http.NotFoundHandler())
	gone.Close()
	res = b.run(t, "", "collections", "backfill", "customers", "--from", gone.URL).fails(t)
	require.Regexp(t, `^error: fetch `+regexp.QuoteMeta(gone.URL)+`: dial tcp \S+: connect: connection refused\n$`, res.stderr)

	serve := func(body string) string {
		src := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			answer(w, http.StatusOK, body)
		}))
		t.Cleanup(src.Close)
		return src.URL
	}
	u := serve(`{"data": {"id": 1}}`)
	res = b.run(t, "", "collections", "backfill", "customers", "--from", u).fails(t)
	require.Equal(t, "error: fetch "+u+`: "data" is an object, not an array of records; set --items`+"\n", res.stderr)

	u = serve(`<html>`)
	res = b.run(t, "", "collections", "backfill", "customers", "--from", u).fails(t)
	require.Equal(t, "error: fetch "+u+": the answer is not JSON (<html>)\n", res.stderr)

	// A source that ignores the page or cursor parameter would be read
	// forever.
	u = serve(`{"data": [{"id": 1}], "next": "abc"}`)
	res = b.run(t, "", "collections", "backfill", "customers", "--from", u, "--page-param", "p").fails(t, "error: fetch "+u+"?p=2: page 2 is the same as page 1: does the source take --page-param p?")
	require.Regexp(t, `(?m)^pages:\s+2$`, res.stdout, "what was done is reported")
	require.Regexp(t, `(?m)^records read:\s+1$`, res.stdout)
	require.Regexp(t, `(?m)^applied:\s+1$`, res.stdout, "the records read before the error are written")
	b.run(t, "", "collections", "backfill", "customers", "--from", u, "--cursor-param", "c", "--cursor-path", "next").fails(t, `the source gave the cursor "abc" again: does it take --cursor-param c?`)

	big := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "[")
		chunk := strings.Repeat(" ", 1<<20)
		for range 33 {
			if _, err := io.WriteString(w, chunk); err != nil {
				return
			}
		}
		_, _ = io.WriteString(w, "]")
	}))
	t.Cleanup(big.Close)
	b.run(t, "", "collections", "backfill", "customers", "--from", big.URL).fails(t, "error: fetch "+big.URL+": the answer is over 32 MiB")

	res = b.run(t, "", "collections", "backfill", "nope", "--from", u).fails(t)
	require.Contains(t, res.stderr, "collection not found (not_found, HTTP 404)", "the collection is checked first")

	// Only the records read before the repeated page or cursor were written.
	require.Len(t, written, 2)
}

func TestCollectionsBackfillRejectsBadFlagsLocally(t *testing.T) {
	t.Parallel()
	requireUsageErrors(t, "collections backfill", []usageCase{
		{[]string{"c"}, "--from URL is required"},
		{[]string{"c", "--from", "ftp://x"}, `invalid --from "ftp://x"`},
		{[]string{"c", "--from", "http://x", "--cursor-param", "c"}, "--cursor-param and --cursor-path go together"},
		{[]string{"c", "--from", "http://x", "--cursor-param", "c", "--cursor-path", "n", "--page-param", "p"}, "exclude each other"},
		{[]string{"c", "--from", "http://x", "--page-start", "0"}, "--page-start needs --page-param"},
		{[]string{"c", "--from", "http://x", "--page-size", "10"}, "--limit-param and --page-size go together"},
		{[]string{"c", "--from", "http://x", "--batch-size", "1001"}, "invalid --batch-size 1001: want 1 to 1000"},
		{[]string{"c", "--from", "http://x", "--header", "nope"}, `invalid --header "nope"`},
		{[]string{"--from", "http://x"}, "missing argument NAME"},
	})
}

func TestSubscriptionsCreateSync(t *testing.T) {
	t.Parallel()
	b := setup(t)
	got := b.fake("POST /v1/subscriptions", http.StatusCreated, `{"id":"sub_2","event_types":["customer.*"],"destination":{"kind":"sync","collection":"customers"},"enabled":true}`)
	res := b.run(t, "", "subscriptions", "create", "--collection", "customers").ok(t)
	require.JSONEq(t, `{"destination":{"kind":"sync","collection":"customers"}}`, string((<-got).body))
	require.Regexp(t, `(?m)^destination:\s+sync → customers$`, res.stdout)

	b.run(t, "", "subscriptions", "create", "--collection", "customers", "--endpoint", "ep_1").fails(t, "--endpoint and --collection exclude each other")
}

func TestJSONAt(t *testing.T) {
	t.Parallel()
	doc := json.RawMessage(`{"data": {"items": [{"id": 1}, {"id": 2}], "next": null}, "total": 7, "list": [1]}`)
	cases := []struct {
		path string
		want string
		ok   bool
	}{
		{"", string(doc), true},
		{"total", "7", true},
		{"data.items.1.id", "2", true},
		{"data.items.1", `{"id": 2}`, true},
		{"data.next", "", false},
		{"data.missing", "", false},
		{"data.items.5", "", false},
		{"data.items.x", "", false},
		{"total.x", "", false},
		{"list.-1", "", false},
	}
	for _, tc := range cases {
		got, ok := jsonAt(doc, tc.path)
		require.Equal(t, tc.ok, ok, tc.path)
		require.Equal(t, tc.want, string(got), tc.path)
	}
}

func TestParseSourceHeader(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in, k, v string
		ok       bool
	}{
		{"Authorization: Bearer a=b", "Authorization", "Bearer a=b", true},
		{"X-Key=v:w", "X-Key", "v:w", true},
		{"X-Empty:", "X-Empty", "", true},
		{"nope", "", "", false},
		{": v", "", "", false},
		{"a b: v", "", "", false},
	}
	for _, tc := range cases {
		k, v, err := parseSourceHeader(tc.in)
		require.Equal(t, tc.ok, err == nil, tc.in)
		require.Equal(t, tc.k, k, tc.in)
		require.Equal(t, tc.v, v, tc.in)
	}
}
