package web_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/client"
)

// customers declares a collection of customers, kept from customer.*
// events by data.id and data.version by a sync subscription.
func (b *bundle) customers() {
	b.t.Helper()
	ctx := context.Background()
	_, err := b.api.CreateCollection(ctx, client.CollectionSpec{Name: "customers", Key: "data.id", Version: "data.version",
		Events: map[string]client.CollectionOp{"customer.updated": {Op: "upsert"}, "customer.deleted": {Op: "delete"}}})
	require.NoError(b.t, err)
	name, types := "customers-sync", []string{"customer.*"}
	_, err = b.api.CreateSubscription(ctx, client.SubscriptionCreate{Name: &name, EventTypes: &types,
		Destination: &client.SubDest{Kind: "sync", Collection: "customers"}})
	require.NoError(b.t, err)
}

// customerEvent publishes a change of customer id and waits until the
// collection has applied it.
func (b *bundle) customerEvent(typ, id string, version int, name string) string {
	b.t.Helper()
	ev := b.send(typ, fmt.Sprintf(`{"id": %q, "version": %d, "name": %q}`, id, version, name))
	eventually(b.t, func() bool {
		rec, err := b.api.GetRecord(context.Background(), "customers", id)
		if typ == "customer.deleted" {
			var apiErr *client.Error
			return errors.As(err, &apiErr) && apiErr.Status == http.StatusGone
		}
		return err == nil && rec.EventID == ev
	}, "the collection applies "+ev)
	return ev
}

func TestCollectionPages(t *testing.T) {
	t.Parallel()
	b, c := setupSignedIn(t)

	_, page := b.get(c, "/collections")
	require.Contains(t, page, "No collections yet")
	b.customers()
	_, page = b.get(c, "/collections")
	require.Contains(t, page, `href="/collections/customers"`)

	_, page = b.get(c, "/collections/customers")
	require.Contains(t, page, "No records yet")
	require.Contains(t, page, `data-live="/collections/customers/changes/stream?after=0"`)
	require.NotRegexp(t, inline, page)

	// Keys sort as text: a/1, a/2, ab, b; one is changed twice, one deleted.
	first := b.customerEvent("customer.updated", "a/1", 1, "Ada")
	b.customerEvent("customer.updated", "a/2", 1, "Alan")
	b.customerEvent("customer.updated", "ab", 1, "Abe")
	b.customerEvent("customer.updated", "b", 1, "Bea")
	last := b.customerEvent("customer.updated", "a/1", 2, "Ada <Lovelace>")
	b.customerEvent("customer.deleted", "b", 2, "")

	resp, page := b.get(c, "/collections/customers")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, records(page), `href="/collections/customers/records/a%2F1"`, "a key with a slash, escaped")
	require.NotContains(t, records(page), `records/b"`, "deleted records are left out")
	require.Contains(t, page, `data-live="/collections/customers/changes/stream?after=6"`, "the feed follows from the last change shown")
	require.Contains(t, page, `<td>6</td>`, "the newest changes are listed")

	_, page = b.get(c, "/collections/customers?deleted=on")
	require.Contains(t, records(page), `records/b"`)
	_, page = b.get(c, "/collections/customers?key=a")
	require.Contains(t, records(page), `records/a%2F1"`)
	require.Contains(t, records(page), `records/ab"`)
	require.NotContains(t, records(page), `records/b"`)
	_, page = b.get(c, "/collections/customers?key=a/")
	require.Contains(t, records(page), `records/a%2F1"`)
	require.Contains(t, records(page), `records/a%2F2"`)
	require.NotContains(t, records(page), `records/ab"`)
	_, page = b.get(c, "/collections/customers?key=ab")
	require.Equal(t, 1, strings.Count(records(page), `<tr>`)-1, "the prefix itself is a key, and the only one")
	require.Contains(t, records(page), `records/ab"`)
	_, page = b.get(c, "/collections/customers?key=zz")
	require.Contains(t, page, "No record matches this search")
	_, page = b.get(c, "/collections/customers?filter="+url.QueryEscape(`record.name startsWith "Al"`))
	require.Contains(t, records(page), `records/a%2F2"`)
	require.Equal(t, 1, strings.Count(records(page), `<tr>`)-1, "the filter keeps Alan only")
	_, page = b.get(c, "/collections/customers?key=a&filter="+url.QueryEscape(`record.version > 1`))
	require.Contains(t, records(page), `records/a%2F1"`)
	require.Equal(t, 1, strings.Count(records(page), `<tr>`)-1)
	resp, page = b.get(c, "/collections/customers?filter="+url.QueryEscape(`record.(`))
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)
	require.Contains(t, page, "The filter is not an expression")
	resp, page = b.get(c, "/collections/customers?filter="+url.QueryEscape(`record.name`))
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)
	require.Contains(t, page, "A filter gives true or false")

	// A record's page: its data and its history, newest first.
	resp, page = b.get(c, "/collections/customers/records/a%2F1")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, page, `<span class="j-str">&#34;Ada &lt;Lovelace&gt;&#34;</span>`)
	require.Contains(t, page, `href="/events/`+last+`"`)
	require.Contains(t, page, `href="/events/`+first+`"`, "the first change is in the history")
	require.Less(t, strings.Index(page, last), strings.Index(page, first), "newest first")
	require.NotRegexp(t, inline, page)
	_, page = b.get(c, "/collections/customers/records/b")
	require.Contains(t, page, "Deleted at version 2")

	for path, status := range map[string]int{
		"/collections/nope":                              http.StatusNotFound,
		"/collections/customers/records/nope":            http.StatusNotFound,
		"/collections/customers/records/a%2F1?before=x":  http.StatusBadRequest,
		"/collections/customers/changes/stream?after=-1": http.StatusBadRequest,
	} {
		resp, _ := b.get(c, path)
		require.Equal(t, status, resp.StatusCode, path)
	}

	// The changes feed: what comes after the cursor, then what happens.
	feed := b.openStream(c, "/collections/customers/changes/stream?after=5")
	id, row := feed.next("row")
	require.Equal(t, "6", id)
	require.Contains(t, row, `href="/collections/customers/records/b"`)
	require.Contains(t, row, ">delete</span>")
	b.customerEvent("customer.updated", "c", 1, "Cy")
	id, row = feed.next("row")
	require.Equal(t, "7", id)
	require.Contains(t, row, `records/c"`)

	oc, _ := b.otherTenant()
	for _, path := range []string{"/collections/customers", "/collections/customers/records/c", "/collections/customers/changes/stream"} {
		resp, _ := b.get(oc, path)
		require.Equal(t, http.StatusNotFound, resp.StatusCode, path)
	}
}

// records is the records table of a collection's page.
func records(page string) string {
	_, table, _ := strings.Cut(page, `<table id="records">`)
	table, _, _ = strings.Cut(table, `</table>`)
	return table
}
