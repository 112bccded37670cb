package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/hookline/hookline/internal/delivery"
	"github.com/hookline/hookline/internal/event"
	"github.com/hookline/hookline/internal/field"
	"github.com/hookline/hookline/internal/portal"
	"github.com/hookline/hookline/internal/store"
	"github.com/hookline/hookline/wire"
)

// The customer portal: the pages a tenant's own customer opens with a
// one-time link made by POST /v1/portal/sessions, to manage the
// endpoints and read the deliveries of the event types the link was made
// for, and nothing else.
//
// Its session is carried in its paths, {prefix}/portal/s/{token}/…, not in
// a cookie: the portal is meant to be framed by the platform's own site,
// and a browser sends no SameSite=Strict or Lax cookie to a cross-site
// frame, and many block third-party cookies whatever their attributes.
// The token is 256 random bits, only its SHA-256 is stored, the access
// log records route patterns rather than paths, and the portal's pages
// send no Referer. A page of another site cannot post to a session it
// does not know the token of, and CrossOriginProtection checks every POST
// as on the operator's pages; a form inside the frame is same-origin.

// PortalStore is what the portal reads of its sessions; a store.Store
// has it.
type PortalStore interface {
	OpenPortalSession(ctx context.Context, linkHash, sessionHash []byte, at time.Time) (store.PortalSession, error)
	PortalSessionByHash(ctx context.Context, sessionHash []byte) (store.PortalSession, error)
}

// portalPath is where a session's pages are, under the prefix, before
// its token.
const portalPath = "/portal/s/"

// maxPortalForm bounds the body of a portal form.
const maxPortalForm = 64 << 10

// portalSession is an open portal session of a request.
type portalSession struct {
	store.PortalSession
	Scope portal.Scope
	// Base is the path every link of the session starts with: the
	// prefix, portalPath and the token.
	Base string
}

// portalHeader is what the layout shows of a portal session: the
// customer's name, the links and when the session ends. Its zero value
// (a request whose session is not known) shows only a plain header.
type portalHeader struct {
	Name    string
	Base    string
	Expires time.Time
}

type portalKey struct{}

// portalOf is the portal header of a request of the portal (filled in
// once its session is known), nil for the operator's pages.
func portalOf(r *http.Request) *portalHeader {
	h, _ := r.Context().Value(portalKey{}).(*portalHeader)
	return h
}

// portalRoute is one page of the portal: its method, its path under a
// session's Base, and its handler.
type portalRoute struct {
	method, path string
	handle       func(*Server, http.ResponseWriter, *http.Request, *portalSession) error
}

var portalRoutes = []portalRoute{
	{"GET", "/{$}", (*Server).portalEndpoints},
	{"GET", "/endpoints", (*Server).portalEndpoints},
	{"GET", "/endpoints/new", (*Server).portalEndpointForm},
	{"POST", "/endpoints", (*Server).portalEndpointSave},
	{"GET", "/endpoints/{id}", (*Server).portalEndpoint},
	{"GET", "/endpoints/{id}/edit", (*Server).portalEndpointForm},
	{"POST", "/endpoints/{id}", (*Server).portalEndpointSave},
	{"POST", "/endpoints/{id}/enable", onEndpoint((*Server).portalSide, enable)},
	{"POST", "/endpoints/{id}/disable", onEndpoint((*Server).portalSide, disable)},
	{"POST", "/endpoints/{id}/rotate", onEndpoint((*Server).portalSide, (*Server).rotate)},
	{"GET", "/endpoints/{id}/secret", (*Server).portalEndpointSecret},
	{"POST", "/endpoints/{id}/test", (*Server).portalEndpointTest},
	{"GET", "/event-types", (*Server).portalEventTypes},
	{"GET", "/deliveries", (*Server).portalDeliveries},
	{"GET", "/deliveries/{id}", (*Server).portalDelivery},
	{"POST", "/deliveries/{id}/retry", (*Server).portalDeliveryRetry},
}

// mountPortal registers the portal's routes: the one-time link and a
// session's pages.
func (s *Server) mountPortal(mux *http.ServeMux) {
	ancestors := "'self'"
	if len(s.cfg.PortalFrameAncestors) > 0 {
		ancestors = strings.Join(s.cfg.PortalFrameAncestors, " ")
	}
	policy := contentPolicy(ancestors)
	secure := func(h http.Handler) http.Handler {
		// Framed by the allowed sites (no X-Frame-Options, which cannot
		// name them), and no Referer: the paths hold the session.
		return setHeaders(portalArea(s.csrf.Handler(h)), "Content-Security-Policy", policy, "Referrer-Policy", "no-referrer",
			"Cache-Control", "no-store")
	}
	mux.Handle("GET "+s.prefix+portal.LinkPath+"{token}", secure(s.bounded(s.portalOpen)))
	// Any other path or method under the portal's is the portal's own
	// 404, with its headers: the API's JSON answer would send a Referer
	// of a path that holds a session's token.
	mux.Handle(s.prefix+"/portal/", secure(s.bounded(func(http.ResponseWriter, *http.Request) error { return errNoPage })))
	for _, rt := range portalRoutes {
		mux.Handle(rt.method+" "+s.prefix+portalPath+"{token}"+rt.path, secure(s.bounded(func(w http.ResponseWriter, r *http.Request) error {
			ps, err := s.portalSession(r)
			if err != nil {
				return err
			}
			*portalOf(r) = portalHeader{Name: ps.Label, Base: ps.Base, Expires: ps.ExpiresAt}
			return rt.handle(s, w, r, ps)
		})))
	}
}

// portalArea marks a request as the portal's, so its error pages are the
// portal's, before anything else runs (the refusal of a cross-origin
// request among them).
func portalArea(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), portalKey{}, &portalHeader{})))
	})
}

// bounded runs h with the request deadline and a bounded form body, and
// answers its error with an error page.
func (s *Server) bounded(h func(http.ResponseWriter, *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), s.cfg.RequestTimeout)
		defer cancel()
		r = r.WithContext(ctx)
		r.Body = http.MaxBytesReader(w, r.Body, maxPortalForm)
		if err := h(w, r); err != nil {
			s.handleError(w, r, err)
		}
	})
}

// gone is a portal link or session that no longer opens anything.
func gone(format string, args ...any) error {
	return &userError{http.StatusGone, fmt.Sprintf(format, args...)}
}

var errNoPortal = &userError{http.StatusNotFound,
	"This portal address is not valid. Open the portal from a new link: ask the site that sent you here for one."}

var errNoPage = &userError{http.StatusNotFound, "There is no page at this address. Go back, or open the portal from a new link."}

// portalOpen serves a one-time link: it opens the link's session, once,
// and redirects to the session's pages.
func (s *Server) portalOpen(w http.ResponseWriter, r *http.Request) error {
	link := r.PathValue("token")
	if !portal.ValidToken(link) {
		return errNoPortal
	}
	token, hash := portal.NewToken()
	ps, err := s.cfg.Store.OpenPortalSession(r.Context(), portal.Hash(link), hash, s.now())
	switch {
	case errors.Is(err, store.ErrNotFound):
		return errNoPortal
	case errors.Is(err, store.ErrConflict) && !ps.OpenedAt.IsZero():
		return gone("This portal link was already used: each link opens the portal once. Ask the site that sent you here for a new link.")
	case errors.Is(err, store.ErrConflict):
		return gone("This portal link expired %s. Ask the site that sent you here for a new link.", s.ago(ps.ExpiresAt))
	case err != nil:
		return err
	}
	http.Redirect(w, r, s.prefix+portalPath+token+"/endpoints", http.StatusSeeOther)
	return nil
}

// portalSession returns the open session of the request's path: one
// that exists, has not expired, and whose maker's API key still exists.
func (s *Server) portalSession(r *http.Request) (*portalSession, error) {
	token := r.PathValue("token")
	if !portal.ValidToken(token) {
		return nil, errNoPortal
	}
	ps, err := s.cfg.Store.PortalSessionByHash(r.Context(), portal.Hash(token))
	if errors.Is(err, store.ErrNotFound) {
		return nil, errNoPortal
	}
	if err != nil {
		return nil, err
	}
	if !s.clock.Now().Before(ps.ExpiresAt) {
		return nil, gone("This portal session ended %s. Ask the site that sent you here for a new link.", s.ago(ps.ExpiresAt))
	}
	k, err := s.cfg.Store.APIKeyByHash(r.Context(), ps.KeyHash)
	if errors.Is(err, store.ErrNotFound) || (err == nil && k.TenantID != ps.TenantID) {
		return nil, gone("This portal session was ended. Ask the site that sent you here for a new link.")
	}
	if err != nil {
		return nil, err
	}
	if ps.Label == "" {
		t, err := s.cfg.Store.GetTenant(r.Context(), ps.TenantID)
		if err != nil {
			return nil, err
		}
		ps.Label = t.Name
	}
	return &portalSession{PortalSession: ps, Scope: portal.Scope(ps.EventTypes), Base: s.prefix + portalPath + token}, nil
}

// redirect answers a change with 303 See Other to path under the
// session's Base.
func (ps *portalSession) redirect(w http.ResponseWriter, r *http.Request, path string) {
	http.Redirect(w, r, ps.Base+path, http.StatusSeeOther)
}

// errOutside is the answer for an id of another tenant, or of an
// endpoint or delivery outside the session's event types: as if it did
// not exist.
func errOutside(what, id string) error {
	return &userError{http.StatusNotFound, fmt.Sprintf("No %s %s here.", what, id)}
}

// endpoint returns the endpoint of the path when it is in the session:
// its tenant's, and receiving only event types in scope.
func (ps *portalSession) endpoint(ctx context.Context, s *Server, id string) (store.Endpoint, error) {
	ep, err := s.cfg.Store.GetEndpoint(ctx, ps.TenantID, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !ps.Scope.Patterns(ep.EventTypes)) {
		return ep, errOutside("endpoint", id)
	}
	return ep, err
}

// delivery returns the delivery of the path when it is in the session:
// to an endpoint of the session, of an event type in scope.
func (ps *portalSession) delivery(ctx context.Context, s *Server, id string) (store.Task, error) {
	t, err := s.cfg.Store.GetTask(ctx, ps.TenantID, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && (t.Kind != delivery.Kind || !ps.Scope.Type(t.EventType))) {
		return t, errOutside("delivery", id)
	}
	if err != nil {
		return t, err
	}
	if _, err := ps.endpoint(ctx, s, t.DestinationID); err != nil {
		if isUserError(err) {
			return t, errOutside("delivery", id)
		}
		return t, err
	}
	return t, nil
}

func isUserError(err error) bool {
	var ue *userError
	return errors.As(err, &ue)
}

// Limits of a scanned list: the rows read per query, and the most read
// for one page before it ends short, with a link to read on.
const (
	scanBatch = 200
	maxScan   = 2000
)

// scan reads one page of a list the session sees part of: rows from
// read (newest first, from a cursor) that keep accepts, up to pageSize,
// reading at most maxScan rows. next is the cursor to read on from, ""
// when the list ended.
func scan[T any](cursor string, read func(cursor string, limit int) ([]T, error), id func(T) string,
	keep func(T) (bool, error)) (rows []T, next string, err error) {
	for seen := 0; seen < maxScan; {
		batch, err := read(cursor, scanBatch)
		if err != nil {
			return nil, "", err
		}
		for i, row := range batch {
			ok, err := keep(row)
			if err != nil {
				return nil, "", err
			}
			if ok {
				rows = append(rows, row)
			}
			cursor = id(row)
			if len(rows) == pageSize {
				if i == len(batch)-1 && len(batch) < scanBatch {
					return rows, "", nil
				}
				return rows, cursor, nil
			}
		}
		if len(batch) < scanBatch {
			return rows, "", nil
		}
		seen += len(batch)
	}
	return rows, cursor, nil
}

// nextLink is the link to the page of a list after cursor, with the
// request's filters; "" for none.
func nextLink(r *http.Request, cursor string) string {
	if cursor == "" {
		return ""
	}
	return r.URL.Path + query(r.URL.Query(), "cursor", cursor)
}

func (s *Server) portalEndpoints(w http.ResponseWriter, r *http.Request, ps *portalSession) error {
	cur, err := cursorOf(r, event.PrefixEndpoint)
	if err != nil {
		return err
	}
	eps, next, err := scan(cur, func(c string, n int) ([]store.Endpoint, error) {
		return s.cfg.Store.ListEndpoints(r.Context(), ps.TenantID, store.Page{Limit: n, Cursor: c})
	}, func(ep store.Endpoint) string { return ep.ID }, func(ep store.Endpoint) (bool, error) { return ps.Scope.Patterns(ep.EventTypes), nil })
	if err != nil {
		return err
	}
	v := listView[endpointRow]{Next: nextLink(r, next), Query: r.URL.Query()}
	if v.Rows, err = rowsOf(eps, func(ep store.Endpoint) (endpointRow, error) { return s.row(r, ep) }); err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "portal_endpoints", view{Title: "Endpoints", Nav: "endpoints", Data: v})
	return nil
}

func (s *Server) portalEndpoint(w http.ResponseWriter, r *http.Request, ps *portalSession) error {
	ep, err := ps.endpoint(r.Context(), s, r.PathValue("id"))
	if err != nil {
		return err
	}
	row, err := s.row(r, ep)
	if err != nil {
		return err
	}
	v := endpointView{endpointRow: row, TestTypes: testTypes(ep)}
	if r.URL.Query().Get("reveal") != "" {
		v.Secret = currentSecret(ep)
	}
	if v.Deliveries, err = s.portalDeliveryList(r, ps, ep.ID, ""); err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "portal_endpoint", view{Title: "Endpoint " + displayName(ep), Nav: "endpoints", Data: v})
	return nil
}

// portalForm is the portal's endpoint form: a URL, a description, and
// event types picked from the catalogue in scope or typed as patterns.
type portalForm struct {
	ID, URL, Description string
	// Choices are the catalogue's event types in scope; Other the
	// patterns typed besides them, comma separated.
	Choices []typeChoice
	Other   string
	// Scope is the session's patterns, to say what may be chosen; empty
	// for every type.
	Scope []string
	// Error is the message of a refused save; Field the field it names.
	Error, Field string
}

type typeChoice struct {
	Name, Description string
	Checked           bool
}

// portalFormOf is the form for an endpoint's event types (none for a new
// endpoint): the catalogue's types in scope checked as the endpoint has
// them, and its other patterns as text.
func (s *Server) portalFormOf(ctx context.Context, ps *portalSession, ep store.Endpoint) (portalForm, error) {
	f := portalForm{ID: ep.ID, URL: ep.URL, Description: ep.Description, Scope: ps.Scope}
	ets, err := s.portalCatalogue(ctx, ps)
	if err != nil {
		return f, err
	}
	has := map[string]bool{}
	for _, p := range ep.EventTypes {
		has[p] = true
	}
	var other []string
	for _, et := range ets {
		f.Choices = append(f.Choices, typeChoice{Name: et.Name, Description: et.Description, Checked: has[et.Name]})
		delete(has, et.Name)
	}
	for _, p := range ep.EventTypes {
		if has[p] {
			other = append(other, p)
		}
	}
	f.Other = strings.Join(other, ", ")
	return f, nil
}

// read fills the form from the request and returns the endpoint change
// it asks for: its URL, description and event types, each pattern in the
// session's scope.
func (f *portalForm) read(r *http.Request, ps *portalSession) (wire.EndpointUpdate, error) {
	f.URL = strings.TrimSpace(r.PostFormValue("url"))
	f.Description = strings.TrimSpace(r.PostFormValue("description"))
	f.Other = strings.TrimSpace(r.PostFormValue("other_types"))
	picked := map[string]bool{}
	for _, name := range r.PostForm["event_type"] {
		picked[name] = true
	}
	types := []string{}
	for i := range f.Choices {
		f.Choices[i].Checked = picked[f.Choices[i].Name]
		if f.Choices[i].Checked {
			types = append(types, f.Choices[i].Name)
		}
	}
	types = append(types, typeList(f.Other)...)
	u := wire.EndpointUpdate{URL: &f.URL, Description: &f.Description, EventTypes: &types}
	if len(types) == 0 && !ps.Scope.All() {
		return u, field.Errorf("event_types", "choose at least one event type")
	}
	for _, p := range types {
		if err := event.ValidatePattern(p); err != nil {
			return u, &field.Error{Path: "event_types", Err: err}
		}
		if !ps.Scope.Pattern(p) {
			return u, field.Errorf("event_types", "%s is not among the event types of this portal (%s)", p, strings.Join(ps.Scope, ", "))
		}
	}
	return u, nil
}

// portalRefused renders the form again with the error of a refused save,
// when err is one the user can fix (a field's); other errors are
// returned.
func (s *Server) portalRefused(w http.ResponseWriter, r *http.Request, title string, f portalForm, err error) error {
	var fe *field.Error
	if !errors.As(err, &fe) {
		return err
	}
	f.Error, f.Field = err.Error(), fe.Path
	s.render(w, r, http.StatusUnprocessableEntity, "portal_endpoint_form", view{Title: title, Nav: "endpoints", Data: f})
	return nil
}

// portalFormFor is the endpoint of the path, none on the new endpoint's
// page, and its form.
func (s *Server) portalFormFor(r *http.Request, ps *portalSession) (store.Endpoint, portalForm, error) {
	var ep store.Endpoint
	if id := r.PathValue("id"); id != "" {
		var err error
		if ep, err = ps.endpoint(r.Context(), s, id); err != nil {
			return ep, portalForm{}, err
		}
	}
	f, err := s.portalFormOf(r.Context(), ps, ep)
	return ep, f, err
}

// formTitle is the title of the endpoint form's page.
func formTitle(ep store.Endpoint) string {
	if ep.ID == "" {
		return "New endpoint"
	}
	return "Edit endpoint"
}

// portalEndpointForm is the form to add an endpoint, or to edit one.
func (s *Server) portalEndpointForm(w http.ResponseWriter, r *http.Request, ps *portalSession) error {
	ep, f, err := s.portalFormFor(r, ps)
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "portal_endpoint_form", view{Title: formTitle(ep), Nav: "endpoints", Data: f})
	return nil
}

// portalEndpointSave adds an endpoint, or saves the changes to one, as
// the form asks.
func (s *Server) portalEndpointSave(w http.ResponseWriter, r *http.Request, ps *portalSession) error {
	ep, f, err := s.portalFormFor(r, ps)
	if err != nil {
		return err
	}
	title := formTitle(ep)
	u, err := f.read(r, ps)
	done := "updated"
	switch {
	case err != nil:
	case ep.ID == "":
		ep, err = s.createEndpoint(r.Context(), ps.TenantID, u)
		done = "created&reveal=1"
	default:
		err = s.changeEndpoint(r.Context(), ep, u)
	}
	if err != nil {
		return s.portalRefused(w, r, title, f, err)
	}
	ps.redirect(w, r, "/endpoints/"+ep.ID+"?done="+done)
	return nil
}

// portalSide is the portal session's side of the endpoint actions.
func (s *Server) portalSide(ps *portalSession) endpointSide {
	return endpointSide{load: func(r *http.Request) (store.Endpoint, error) { return ps.endpoint(r.Context(), s, r.PathValue("id")) }, to: ps.redirect}
}

// portalEndpointTest sends the endpoint a test event of a type it
// receives and the session sees.
func (s *Server) portalEndpointTest(w http.ResponseWriter, r *http.Request, ps *portalSession) error {
	ep, err := ps.endpoint(r.Context(), s, r.PathValue("id"))
	if err != nil {
		return err
	}
	typ := strings.TrimSpace(r.PostFormValue("type"))
	if !ps.Scope.Type(typ) || !event.MatchAny(ep.EventTypes, typ) {
		return badRequest("The endpoint does not receive events of type %q: send one of the types it subscribes to.", typ)
	}
	if err := s.sendTest(r, ep, "portal"); err != nil {
		return err
	}
	ps.redirect(w, r, "/endpoints/"+ep.ID+"?done=tested")
	return nil
}

// portalEndpointSecret shows the current signing secret: a fragment for
// htmx's "Show secret" button, a page otherwise.
func (s *Server) portalEndpointSecret(w http.ResponseWriter, r *http.Request, ps *portalSession) error {
	ep, err := ps.endpoint(r.Context(), s, r.PathValue("id"))
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "portal_secret", view{Title: "Signing secret", Nav: "endpoints", Data: secretView{ID: ep.ID, Secret: currentSecret(ep)}})
	return nil
}

// portalCatalogue is the tenant's event types in the session's scope.
func (s *Server) portalCatalogue(ctx context.Context, ps *portalSession) ([]store.EventType, error) {
	ets, err := s.cfg.Store.ListEventTypes(ctx, ps.TenantID)
	if err != nil {
		return nil, err
	}
	out := ets[:0]
	for _, et := range ets {
		if ps.Scope.Type(et.Name) {
			out = append(out, et)
		}
	}
	return out, nil
}

// portalEventType is an event type of the catalogue with its schema's
// examples.
type portalEventType struct {
	store.EventType
	Examples []json.RawMessage
}

type portalCatalogueView struct {
	Types []portalEventType
	Scope []string
}

func (s *Server) portalEventTypes(w http.ResponseWriter, r *http.Request, ps *portalSession) error {
	ets, err := s.portalCatalogue(r.Context(), ps)
	if err != nil {
		return err
	}
	v := portalCatalogueView{Scope: ps.Scope}
	for _, et := range ets {
		v.Types = append(v.Types, portalEventType{EventType: et, Examples: schemaExamples(et.Schema)})
	}
	s.render(w, r, http.StatusOK, "portal_eventtypes", view{Title: "Event types", Nav: "event-types", Data: v})
	return nil
}

// portalDeliveryList reads one page of the deliveries the session sees,
// to one endpoint or to every endpoint in the session, filtered by
// status.
func (s *Server) portalDeliveryList(r *http.Request, ps *portalSession, endpointID, status string) (listView[store.Task], error) {
	cur, err := cursorOf(r, event.PrefixDelivery)
	if err != nil {
		return listView[store.Task]{}, err
	}
	inScope := map[string]bool{endpointID: endpointID != ""}
	keep := func(t store.Task) (bool, error) {
		if !ps.Scope.Type(t.EventType) {
			return false, nil
		}
		if ps.Scope.All() {
			return true, nil
		}
		ok, known := inScope[t.DestinationID]
		if !known {
			_, err := ps.endpoint(r.Context(), s, t.DestinationID)
			if err != nil && !isUserError(err) {
				return false, err
			}
			ok = err == nil
			inScope[t.DestinationID] = ok
		}
		return ok, nil
	}
	ts, next, err := scan(cur, func(c string, n int) ([]store.Task, error) {
		return s.cfg.Store.ListTasks(r.Context(), ps.TenantID, store.TaskQuery{Page: store.Page{Limit: n, Cursor: c}, Kind: delivery.Kind,
			DestinationID: endpointID, Status: status})
	}, func(t store.Task) string { return t.ID }, keep)
	return listView[store.Task]{Rows: ts, Next: nextLink(r, next), Query: r.URL.Query()}, err
}

func (s *Server) portalDeliveries(w http.ResponseWriter, r *http.Request, ps *portalSession) error {
	qv := r.URL.Query()
	v := deliveriesView{Endpoint: strings.TrimSpace(qv.Get("endpoint")), Statuses: statuses}
	var err error
	if v.Status, err = statusParam(qv); err != nil {
		return err
	}
	if v.Endpoint != "" {
		if _, err := ps.endpoint(r.Context(), s, v.Endpoint); err != nil {
			return err
		}
	}
	if v.listView, err = s.portalDeliveryList(r, ps, v.Endpoint, v.Status); err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "portal_deliveries", view{Title: "Deliveries", Nav: "deliveries", Data: v})
	return nil
}

func (s *Server) portalDelivery(w http.ResponseWriter, r *http.Request, ps *portalSession) error {
	t, err := ps.delivery(r.Context(), s, r.PathValue("id"))
	if err != nil {
		return err
	}
	atts, err := s.attemptLog(r.Context(), t)
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "portal_delivery", view{Title: "Delivery " + t.ID, Nav: "deliveries", Data: deliveryView{Task: t, AttemptLog: atts}})
	return nil
}

func (s *Server) portalDeliveryRetry(w http.ResponseWriter, r *http.Request, ps *portalSession) error {
	t, err := ps.delivery(r.Context(), s, r.PathValue("id"))
	if err != nil {
		return err
	}
	if err := s.retry(r.Context(), ps.TenantID, t.ID); err != nil {
		return err
	}
	ps.redirect(w, r, "/deliveries/"+t.ID+"?done=retried")
	return nil
}
