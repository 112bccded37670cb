package web

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/hookline/hookline/internal/apply"
	"github.com/hookline/hookline/internal/delivery"
	"github.com/hookline/hookline/internal/engine"
	"github.com/hookline/hookline/internal/event"
	"github.com/hookline/hookline/internal/field"
	"github.com/hookline/hookline/internal/signature"
	"github.com/hookline/hookline/internal/store"
	"github.com/hookline/hookline/wire"
)

// pageSize is the rows of one page of a list.
const pageSize = 50

// healthWindow is how many of an endpoint's newest deliveries its success
// rate is computed from.
const healthWindow = 100

// endpointRow is an endpoint with its health.
type endpointRow struct {
	store.Endpoint
	Circuit string
	// Rate is the share of succeeded among the finished deliveries of
	// the newest healthWindow; Finished is how many finished.
	Rate      float64
	Finished  int
	LastError string
	State     string // enabled, failing or disabled
}

// health fills a row's success rate and last error from the endpoint's
// newest deliveries.
func (s *Server) health(r *http.Request, row *endpointRow) error {
	ts, err := s.cfg.Store.ListTasks(r.Context(), row.TenantID, store.TaskQuery{Page: store.Page{Limit: healthWindow}, DestinationID: row.ID})
	if err != nil {
		return err
	}
	ok := 0
	for _, t := range ts {
		switch t.Status {
		case store.StatusSucceeded:
			ok++
			row.Finished++
		case store.StatusFailed:
			row.Finished++
		}
		if row.LastError == "" && t.LastError != "" && t.Status != store.StatusSucceeded {
			row.LastError = t.LastError
		}
	}
	if row.Finished > 0 {
		row.Rate = float64(ok) / float64(row.Finished)
	}
	return nil
}

func (s *Server) row(r *http.Request, ep store.Endpoint) (endpointRow, error) {
	row := endpointRow{Endpoint: ep, Circuit: s.cfg.Engine.Circuit(delivery.Kind, ep.ID), State: "enabled"}
	switch {
	case !ep.Enabled:
		row.State = "disabled"
	case !ep.FailingSince.IsZero():
		row.State = "failing"
	}
	return row, s.health(r, &row)
}

type listView[T any] struct {
	Rows  []T
	Next  string // the query string of the next page; empty on the last
	Query url.Values
}

// errCursor is the answer for a cursor parameter no list gave.
var errCursor = &userError{http.StatusBadRequest, "The cursor parameter is not one this list gives; follow the list's Next link instead."}

// cursorOf reads the cursor parameter: an id of the list's kind or none.
func cursorOf(r *http.Request, prefix string) (string, error) {
	c := r.URL.Query().Get("cursor")
	if c != "" && !event.ValidID(prefix, c) {
		return "", errCursor
	}
	return c, nil
}

// nextPage trims a page read with one row more than pageSize and returns
// the link to the next page (this path, its filters and the cursor), or
// "" when this is the last.
func nextPage[T any](r *http.Request, rows []T, id func(T) string) ([]T, string) {
	if len(rows) <= pageSize {
		return rows, ""
	}
	rows = rows[:pageSize]
	return rows, r.URL.Path + query(r.URL.Query(), "cursor", id(rows[len(rows)-1]))
}

// rowsOf makes the row of each of a page's items, or fails with the first
// that fails.
func rowsOf[T, R any](items []T, row func(T) (R, error)) ([]R, error) {
	out := make([]R, 0, len(items))
	for _, it := range items {
		r, err := row(it)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// idPage reads the page of a list at the request's cursor, an id with
// prefix: list reads from the cursor, and row makes the row of each item
// shown.
func idPage[T, R any](r *http.Request, prefix string, list func(store.Page) ([]T, error), id func(T) string, row func(T) (R, error)) (listView[R], error) {
	cur, err := cursorOf(r, prefix)
	if err != nil {
		return listView[R]{}, err
	}
	items, err := list(store.Page{Limit: pageSize + 1, Cursor: cur})
	if err != nil {
		return listView[R]{}, err
	}
	items, next := nextPage(r, items, id)
	rows, err := rowsOf(items, row)
	return listView[R]{Rows: rows, Next: next, Query: r.URL.Query()}, err
}

func (s *Server) endpoints(w http.ResponseWriter, r *http.Request, sess *session) error {
	v, err := idPage(r, event.PrefixEndpoint, func(p store.Page) ([]store.Endpoint, error) {
		return s.cfg.Store.ListEndpoints(r.Context(), sess.TenantID, p)
	}, func(e store.Endpoint) string { return e.ID }, func(ep store.Endpoint) (endpointRow, error) { return s.row(r, ep) })
	if err != nil {
		return err
	}
	return s.page(w, r, sess, "endpoints", view{Title: "Endpoints", Nav: "endpoints", Data: v})
}

// endpointView is an endpoint's page, the operator's and the portal's.
type endpointView struct {
	endpointRow
	Secret     string // shown once, after create, rotate or on demand
	Deliveries listView[store.Task]
	TestTypes  []string
}

func (s *Server) loadEndpoint(r *http.Request, sess *session) (store.Endpoint, error) {
	id := r.PathValue("id")
	ep, err := s.cfg.Store.GetEndpoint(r.Context(), sess.TenantID, id)
	return ep, notFound(err, "endpoint", id)
}

// endpoint is an endpoint's page: its settings and health, its actions,
// and its delivery log (filtered by status, paged by cursor).
func (s *Server) endpoint(w http.ResponseWriter, r *http.Request, sess *session) error {
	ep, err := s.loadEndpoint(r, sess)
	if err != nil {
		return err
	}
	row, err := s.row(r, ep)
	if err != nil {
		return err
	}
	dl, err := s.deliveryList(r, sess, ep.ID)
	if err != nil {
		return err
	}
	v := endpointView{endpointRow: row, Deliveries: dl}
	if r.URL.Query().Get("reveal") != "" {
		v.Secret = currentSecret(ep)
	}
	v.TestTypes = testTypes(ep)
	return s.page(w, r, sess, "endpoint", view{Title: "Endpoint " + displayName(ep), Nav: "endpoints", Data: v})
}

// displayName is an endpoint's name, or its URL's host when it has none.
func displayName(ep store.Endpoint) string {
	if ep.Name != "" {
		return ep.Name
	}
	if u, err := url.Parse(ep.URL); err == nil && u.Host != "" {
		return u.Host
	}
	return ep.ID
}

// endpointForm is the create and edit form, as typed.
type endpointForm struct {
	ID          string
	Name        string
	URL         string
	Description string
	EventTypes  string // comma or space separated
	Filter      string
	Timeout     string
	Enabled     bool
	// Error is the message of a refused save; Field the field it names.
	Error, Field string
}

func formOf(ep store.Endpoint) endpointForm {
	return endpointForm{ID: ep.ID, Name: ep.Name, URL: ep.URL, Description: ep.Description,
		EventTypes: strings.Join(ep.EventTypes, ", "), Filter: ep.Filter, Timeout: ep.Timeout.String(), Enabled: ep.Enabled}
}

func readForm(r *http.Request) endpointForm {
	return endpointForm{
		Name: strings.TrimSpace(r.PostFormValue("name")), URL: strings.TrimSpace(r.PostFormValue("url")),
		Description: strings.TrimSpace(r.PostFormValue("description")), EventTypes: r.PostFormValue("event_types"),
		Filter: strings.TrimSpace(r.PostFormValue("filter")), Timeout: strings.TrimSpace(r.PostFormValue("timeout")),
		Enabled: r.PostFormValue("enabled") != "",
	}
}

// update is the change the form asks for.
func (f endpointForm) update() wire.EndpointUpdate {
	types := typeList(f.EventTypes)
	if types == nil {
		types = []string{}
	}
	u := wire.EndpointUpdate{Name: &f.Name, URL: &f.URL, Description: &f.Description, EventTypes: &types, Filter: &f.Filter, Enabled: &f.Enabled}
	if f.Timeout != "" {
		u.Timeout = &f.Timeout
	}
	return u
}

// typeList is the event types or patterns typed in a form's field,
// separated by commas or white space.
func typeList(v string) []string {
	return strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\r' || r == '\t' })
}

// refused renders the form again with the error of a refused save, when
// err is one the user can fix (a field's); other errors are returned.
func (s *Server) refused(w http.ResponseWriter, r *http.Request, sess *session, title string, f endpointForm, err error) error {
	var fe *field.Error
	if !errors.As(err, &fe) {
		return err
	}
	f.Error, f.Field = err.Error(), fe.Path
	s.render(w, r, http.StatusUnprocessableEntity, "endpoint_form", view{Title: title, Nav: "endpoints", Tenant: sess.TenantName, Data: f})
	return nil
}

func (s *Server) endpointNew(w http.ResponseWriter, r *http.Request, sess *session) error {
	return s.page(w, r, sess, "endpoint_form", view{Title: "New endpoint", Nav: "endpoints", Data: endpointForm{Enabled: true}})
}

func (s *Server) endpointCreate(w http.ResponseWriter, r *http.Request, sess *session) error {
	f := readForm(r)
	ep, err := s.createEndpoint(r.Context(), sess.TenantID, f.update())
	if err != nil {
		return s.refused(w, r, sess, "New endpoint", f, err)
	}
	s.redirect(w, r, "/endpoints/"+ep.ID+"?done=created&reveal=1")
	return nil
}

// createEndpoint makes an endpoint of a tenant with a new signing secret,
// through the same checks as POST /v1/endpoints. A mistake the user can
// fix is a *field.Error.
func (s *Server) createEndpoint(ctx context.Context, tenantID string, u wire.EndpointUpdate) (store.Endpoint, error) {
	ep := apply.NewEndpoint(tenantID, s.now())
	if err := s.cfg.Endpoints.UpdateEndpoint(ctx, &ep, u); err != nil {
		return ep, err
	}
	secret, err := signature.GenerateSecret()
	if err != nil {
		return ep, err
	}
	ep.Secrets = []store.Secret{{Key: secret}}
	if err := s.cfg.Store.CreateEndpoint(ctx, ep); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return ep, field.Errorf("name", "another endpoint has the name %q", ep.Name)
		}
		return ep, err
	}
	s.cfg.Invalidate(tenantID)
	return ep, nil
}

func (s *Server) endpointEdit(w http.ResponseWriter, r *http.Request, sess *session) error {
	ep, err := s.loadEndpoint(r, sess)
	if err != nil {
		return err
	}
	return s.page(w, r, sess, "endpoint_form", view{Title: "Edit endpoint", Nav: "endpoints", Data: formOf(ep)})
}

func (s *Server) endpointUpdate(w http.ResponseWriter, r *http.Request, sess *session) error {
	ep, err := s.loadEndpoint(r, sess)
	if err != nil {
		return err
	}
	f := readForm(r)
	f.ID = ep.ID
	return s.saveEndpoint(w, r, sess, ep, f.update(), "updated", func(err error) error { return s.refused(w, r, sess, "Edit endpoint", f, err) })
}

// saveEndpoint applies a change to an endpoint as PATCH /v1/endpoints/{id}
// does, then redirects to its page with done.
func (s *Server) saveEndpoint(w http.ResponseWriter, r *http.Request, sess *session, ep store.Endpoint, u wire.EndpointUpdate, done string,
	refused func(error) error) error {
	if err := s.changeEndpoint(r.Context(), ep, u); err != nil {
		return refused(err)
	}
	s.redirect(w, r, "/endpoints/"+ep.ID+"?done="+done)
	return nil
}

// changeEndpoint applies a change to an endpoint and stores it, as PATCH
// /v1/endpoints/{id} does. A mistake the user can fix is a *field.Error.
func (s *Server) changeEndpoint(ctx context.Context, ep store.Endpoint, u wire.EndpointUpdate) error {
	wasFailing := !ep.FailingSince.IsZero()
	if err := s.cfg.Endpoints.UpdateEndpoint(ctx, &ep, u); err != nil {
		return err
	}
	ep.UpdatedAt = s.now()
	if err := s.cfg.Store.UpdateEndpoint(ctx, ep); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return field.Errorf("name", "another endpoint has the name %q", ep.Name)
		}
		return err
	}
	if wasFailing && ep.FailingSince.IsZero() {
		if err := s.cfg.Store.SetEndpointFailing(ctx, ep.TenantID, ep.ID, time.Time{}); err != nil {
			return err
		}
	}
	s.cfg.Invalidate(ep.TenantID)
	return nil
}

// endpointSide is where an endpoint action runs, the operator's
// dashboard or a portal session: load finds the request's endpoint among
// those the side may see, to redirects to a path under the side's root.
type endpointSide struct {
	load func(r *http.Request) (store.Endpoint, error)
	to   func(w http.ResponseWriter, r *http.Request, path string)
}

// operator is the operator's side of the endpoint actions.
func (s *Server) operator(sess *session) endpointSide {
	return endpointSide{load: func(r *http.Request) (store.Endpoint, error) { return s.loadEndpoint(r, sess) }, to: s.redirect}
}

// setEnabled enables or disables the side's endpoint.
func (s *Server) setEnabled(w http.ResponseWriter, r *http.Request, side endpointSide, on bool) error {
	ep, err := side.load(r)
	if err != nil {
		return err
	}
	if err := s.changeEndpoint(r.Context(), ep, wire.EndpointUpdate{Enabled: &on}); err != nil {
		return err
	}
	side.to(w, r, "/endpoints/"+ep.ID+"?done="+map[bool]string{true: "enabled", false: "disabled"}[on])
	return nil
}

// rotate gives the side's endpoint a new secret; the current one keeps
// signing for the grace period the form asks (0 to 168h).
func (s *Server) rotate(w http.ResponseWriter, r *http.Request, side endpointSide) error {
	grace, err := s.graceOf(r)
	if err != nil {
		return err
	}
	ep, err := side.load(r)
	if err != nil {
		return err
	}
	if err := s.rotateSecret(r.Context(), ep, grace); err != nil {
		return err
	}
	side.to(w, r, "/endpoints/"+ep.ID+"?done=rotated&reveal=1")
	return nil
}

// onEndpoint makes an endpoint action a route's handler on a side, the
// operator's (S a *session) or a portal's (S a *portalSession).
func onEndpoint[S any](side func(*Server, S) endpointSide, act func(*Server, http.ResponseWriter, *http.Request, endpointSide) error) func(*Server, http.ResponseWriter, *http.Request, S) error {
	return func(s *Server, w http.ResponseWriter, r *http.Request, sess S) error {
		return act(s, w, r, side(s, sess))
	}
}

// enable and disable are setEnabled as endpoint actions.
func enable(s *Server, w http.ResponseWriter, r *http.Request, side endpointSide) error {
	return s.setEnabled(w, r, side, true)
}

func disable(s *Server, w http.ResponseWriter, r *http.Request, side endpointSide) error {
	return s.setEnabled(w, r, side, false)
}

// graceOf reads the grace period of a rotate form: 0s to 168h, the
// configured default when left empty.
func (s *Server) graceOf(r *http.Request) (time.Duration, error) {
	g := strings.TrimSpace(r.PostFormValue("grace"))
	if g == "" {
		return s.cfg.SecretGrace, nil
	}
	d, err := time.ParseDuration(g)
	if err != nil || d < 0 || d > apply.MaxSecretGrace {
		return 0, badRequest("The grace period must be a duration from 0s to 168h, such as 24h.")
	}
	return d, nil
}

// rotateSecret gives an endpoint a new current secret, as POST
// /v1/endpoints/{id}/rotate-secret does; the previous one keeps signing
// for grace.
func (s *Server) rotateSecret(ctx context.Context, ep store.Endpoint, grace time.Duration) error {
	secret, err := signature.GenerateSecret()
	if err != nil {
		return err
	}
	now := s.now()
	ep.Secrets, ep.UpdatedAt = apply.RotateSecrets(ep.Secrets, secret, now, grace), now
	if err := s.cfg.Store.UpdateEndpoint(ctx, ep); err != nil {
		return err
	}
	s.cfg.Invalidate(ep.TenantID)
	return nil
}

// endpointSecret shows the current signing secret: a fragment for htmx's
// "Show secret" button, the endpoint's page with it otherwise.
func (s *Server) endpointSecret(w http.ResponseWriter, r *http.Request, sess *session) error {
	ep, err := s.loadEndpoint(r, sess)
	if err != nil {
		return err
	}
	return s.page(w, r, sess, "secret", view{Title: "Signing secret", Nav: "endpoints", Data: secretView{ID: ep.ID, Secret: currentSecret(ep)}})
}

type secretView struct{ ID, Secret string }

func currentSecret(ep store.Endpoint) string {
	for _, sec := range ep.Secrets {
		if sec.ExpiresAt.IsZero() {
			return sec.Key
		}
	}
	return ""
}

// endpointTest publishes a test event of the type the form names, with
// its data, through the same checks as POST /v1/events. It goes to every
// endpoint subscribed to the type, this one among them.
func (s *Server) endpointTest(w http.ResponseWriter, r *http.Request, sess *session) error {
	ep, err := s.loadEndpoint(r, sess)
	if err != nil {
		return err
	}
	if err := s.sendTest(r, ep, "dashboard"); err != nil {
		return err
	}
	s.redirect(w, r, "/endpoints/"+ep.ID+"?done=tested")
	return nil
}

// testTypes are the event types an endpoint subscribes to by name, to
// offer for a test event.
func testTypes(ep store.Endpoint) []string {
	var out []string
	for _, t := range ep.EventTypes {
		if !strings.ContainsAny(t, "*?") {
			out = append(out, t)
		}
	}
	return out
}

// sendTest publishes the test event of the form (its type, and its data
// or {"test": true}) through the same checks as POST /v1/events, to ep
// only, from source.
func (s *Server) sendTest(r *http.Request, ep store.Endpoint, source string) error {
	typ := strings.TrimSpace(r.PostFormValue("type"))
	data := strings.TrimSpace(r.PostFormValue("data"))
	if data == "" {
		data = `{"test": true}`
	}
	if !json.Valid([]byte(data)) {
		return badRequest("The test event's data is not valid JSON.")
	}
	ev, err := s.cfg.Events.PrepareEvent(r.Context(), ep.TenantID, wire.EventCreate{Type: typ, Data: json.RawMessage(data)})
	if err != nil {
		return badRequest("The test event was refused: %v", err)
	}
	ev.Source = source
	// To this endpoint only, whatever else subscribes to the type.
	_, err = s.cfg.Engine.PublishTo(r.Context(), ev, []engine.Target{{Kind: delivery.Kind, DestinationID: ep.ID}})
	return err
}

// endpointRecover runs again every failed delivery of the endpoint
// updated since the form's time, and closes its circuit, as POST
// /v1/endpoints/{id}/recover does.
func (s *Server) endpointRecover(w http.ResponseWriter, r *http.Request, sess *session) error {
	since, err := formTime(r.PostFormValue("since"))
	if err != nil || since.IsZero() {
		return badRequest("Say since when: a time such as 2026-01-02T15:04 (UTC).")
	}
	ep, err := s.loadEndpoint(r, sess)
	if err != nil {
		return err
	}
	if _, err := s.cfg.Engine.Recover(r.Context(), sess.TenantID, delivery.Kind, ep.ID, since); err != nil {
		return err
	}
	s.redirect(w, r, "/endpoints/"+ep.ID+"?done=recovered")
	return nil
}

// formTime reads a time of a form or query: RFC 3339, or the
// "2006-01-02T15:04" of a datetime-local input, taken as UTC.
func formTime(v string) (time.Time, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04:05", "2006-01-02T15:04"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, badRequest("%s is not a time such as 2026-01-02T15:04 (UTC).", strconv.Quote(v))
}
