package api

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/hookline/hookline/internal/apply"
	"github.com/hookline/hookline/internal/collection"
	"github.com/hookline/hookline/internal/content"
	"github.com/hookline/hookline/internal/event"
	"github.com/hookline/hookline/internal/store"
)

const (
	defaultPageLimit = 100
	maxPageLimit     = 1000
)

// cursor is what the cursor parameter of one kind of list must be: a
// next_cursor an earlier page of that list gave. Stores page by comparing
// the cursor as text with ids or keys, so any other value would silently
// give a wrong page rather than an error.
type cursor struct {
	valid func(string) bool
	want  string // what valid accepts, for messages
}

// idCursor is the cursor of a list of ids made by event.NewID.
func idCursor(prefix string) cursor {
	return cursor{
		valid: func(v string) bool { return event.ValidID(prefix, v) },
		want:  "an id " + prefix + "_…",
	}
}

// textCursor is the cursor of a list of caller-chosen ids or keys, which
// are any UTF-8 text up to max bytes.
func textCursor(max int, what string) cursor {
	return cursor{
		valid: func(v string) bool { return v != "" && len(v) <= max && utf8.ValidString(v) },
		want:  what,
	}
}

// messageCursor accepts message ids.
var messageCursor = cursor{valid: content.ValidMessageID, want: "a message id msg_…_{channel}"}

// listCursors is the cursor of every route that calls page, by the
// route's pattern. The changes feed has a cursor of its own, `after`.
var listCursors = map[string]cursor{
	"GET /v1/endpoints":                  idCursor(event.PrefixEndpoint),
	"GET /v1/events":                     idCursor(event.PrefixEvent),
	"GET /v1/deliveries":                 idCursor(event.PrefixDelivery),
	"GET /v1/sources":                    idCursor(event.PrefixSource),
	"GET /v1/sources/{id}/rejections":    idCursor(event.PrefixReject),
	"GET /v1/subscriptions":              idCursor(event.PrefixSub),
	"GET /v1/runs":                       idCursor(prefixRun),
	"GET /v1/workflows/{name}/runs":      idCursor(prefixRun),
	"GET /v1/messages":                   messageCursor,
	"GET /v1/recipients":                 textCursor(apply.MaxRecipientID, "a recipient id"),
	"GET /v1/collections/{name}/records": textCursor(collection.MaxKeyLength, "a record key"),
}

// prefixRun starts the id of a workflow run: run_ and its first task's
// ULID.
const prefixRun = "run"

// page reads the limit and cursor query parameters of a list route; a
// cursor that is not one this list gives is a 400 naming it.
func page(r *http.Request) (store.Page, error) {
	q := r.URL.Query()
	p := store.Page{Cursor: q.Get("cursor")}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxPageLimit {
			return p, errorf(http.StatusBadRequest, codeBadRequest, "limit must be an integer from 1 to %d", maxPageLimit).with("parameter", "limit")
		}
		p.Limit = n
	}
	c, ok := listCursors[r.Pattern]
	if !ok {
		// A programmer error: a new list route without its cursor.
		return p, fmt.Errorf("page: no cursor for route %q", r.Pattern)
	}
	if p.Cursor != "" && !c.valid(p.Cursor) {
		return p, errorf(http.StatusBadRequest, codeBadRequest,
			"cursor is not valid here: pass the next_cursor of an earlier page of %s (%s) unchanged", strings.TrimPrefix(r.Pattern, "GET "), c.want).
			with("parameter", "cursor")
	}
	return p, nil
}

// pageOf returns one page of items with the cursor of the next one.
func pageOf[T any](items []T, p store.Page, id func(T) string) map[string]any {
	limit := p.Limit
	if limit == 0 {
		limit = defaultPageLimit
	}
	if items == nil {
		items = []T{}
	}
	out := map[string]any{"data": items}
	if len(items) == limit {
		out["next_cursor"] = id(items[len(items)-1])
	}
	return out
}
