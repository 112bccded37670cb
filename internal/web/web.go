package web

import (
	"bytes"
	"cmp"
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/hookline/hookline/internal/clock"
	"github.com/hookline/hookline/internal/engine"
	"github.com/hookline/hookline/internal/event"
	"github.com/hookline/hookline/internal/secretbox"
	"github.com/hookline/hookline/internal/store"
	"github.com/hookline/hookline/wire"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Store is what the dashboard reads and writes; a store.Store has it all.
type Store interface {
	APIKeyByHash(ctx context.Context, hash []byte) (store.APIKey, error)
	EndSession(ctx context.Context, id string, expires time.Time) error
	SessionEnded(ctx context.Context, id string) (bool, error)
	GetTenant(ctx context.Context, id string) (store.Tenant, error)
	CreateEndpoint(ctx context.Context, ep store.Endpoint) error
	GetEndpoint(ctx context.Context, tenantID, id string) (store.Endpoint, error)
	ListEndpoints(ctx context.Context, tenantID string, p store.Page) ([]store.Endpoint, error)
	UpdateEndpoint(ctx context.Context, ep store.Endpoint) error
	SetEndpointFailing(ctx context.Context, tenantID, id string, since time.Time) error
	GetEvent(ctx context.Context, tenantID, id string) (event.Event, error)
	ListEvents(ctx context.Context, tenantID string, q store.EventQuery) ([]event.Event, error)
	GetTask(ctx context.Context, tenantID, id string) (store.Task, error)
	ListTasks(ctx context.Context, tenantID string, q store.TaskQuery) ([]store.Task, error)
	ListAttempts(ctx context.Context, tenantID, taskID string) ([]store.Attempt, error)
	SourceStore
	EventTypeStore
	CollectionStore
	Activity(ctx context.Context, tenantID string, q store.ActivityQuery) (store.Activity, error)
	WorkflowStore
	PortalStore
	ContentStore
}

// Engine publishes test events, retries and replays; *engine.Engine is one.
type Engine interface {
	PublishTo(ctx context.Context, ev event.Event, targets []engine.Target) (engine.Published, error)
	Record(ctx context.Context, ev event.Event) (event.Event, error)
	Retry(ctx context.Context, tenantID string, ids []string) ([]store.Task, error)
	Replay(ctx context.Context, tenantID, eventID string) ([]string, error)
	Circuit(kind, destinationID string) string
	Recover(ctx context.Context, tenantID, kind, destinationID string, since time.Time) ([]string, error)
}

// EndpointChecker validates a change to an endpoint and applies it to ep,
// as the API does; *apply.Applier is one. Its errors name the field.
type EndpointChecker interface {
	UpdateEndpoint(ctx context.Context, ep *store.Endpoint, u wire.EndpointUpdate) error
}

// EventPreparer validates and builds an event as POST /v1/events does;
// *api.Server is one.
type EventPreparer interface {
	PrepareEvent(ctx context.Context, tenantID string, in wire.EventCreate) (event.Event, error)
}

// Config configures New.
type Config struct {
	// Prefix is the path the dashboard is served under: "" or "/" for
	// the root, or a prefix such as "/ui" (no trailing slash).
	Prefix    string
	Store     Store
	Engine    Engine
	Endpoints EndpointChecker
	Events    EventPreparer
	Sources   SourceDescriber
	// Feed hands out committed events to the live pages.
	Feed Feed
	// Closing, when closed, ends the live pages' streams: the server is
	// shutting down.
	Closing <-chan struct{}
	// PublicURL is where this server is reached from outside, such as
	// https://hooks.example.com: a source's URL starts with it. Empty:
	// the scheme and host the browser used.
	PublicURL string
	Workflows WorkflowSaver
	Runs      RunChanger
	Previews  TemplatePreviewer
	Inboxes   InboxReader
	// PortalFrameAncestors are the frame-ancestors sources of the
	// customer portal's pages (who may frame it); default 'self'.
	PortalFrameAncestors []string
	// Invalidate is called with a tenant id after its endpoints change,
	// so routing sees the change at once.
	Invalidate func(tenantID string)
	// SessionKey seals the session cookie (32 bytes; derive it from the
	// server's encryption key so every node of a cluster opens it).
	SessionKey []byte
	// SessionTTL is how long a sign-in lasts; default DefaultSessionTTL.
	SessionTTL time.Duration
	// SecureCookies sets Secure on the session cookie even for a request
	// not received over TLS (a TLS-terminating proxy in front); cookies
	// of requests over TLS are always Secure.
	SecureCookies bool
	// SecretGrace is how long a rotated-out secret keeps signing when
	// the form does not say; default 24h, as the API's.
	SecretGrace time.Duration
	// RequestTimeout bounds the store calls of one page; default 30s.
	RequestTimeout time.Duration
	Clock          clock.Clock
	Logger         *slog.Logger
}

// DefaultSessionTTL is how long a sign-in lasts.
const DefaultSessionTTL = 12 * time.Hour

// Server serves the dashboard.
type Server struct {
	cfg    Config
	prefix string // "" or "/ui"
	box    *secretbox.Box
	pages  map[string]*template.Template
	clock  clock.Clock
	log    *slog.Logger
	static http.Handler
	csrf   *http.CrossOriginProtection
}

// New returns a Server; a missing seam or a session key that is not 32
// bytes is a mistake in how the program is put together and panics.
func New(cfg Config) *Server {
	if cfg.Store == nil || cfg.Engine == nil || cfg.Endpoints == nil || cfg.Events == nil || cfg.Sources == nil || cfg.Feed == nil ||
		cfg.Workflows == nil || cfg.Runs == nil || cfg.Previews == nil || cfg.Inboxes == nil {
		panic("web: Store, Engine, Endpoints, Events, Sources, Feed, Workflows, Runs, Previews and Inboxes are required")
	}
	box, err := secretbox.New(cfg.SessionKey)
	if err != nil {
		panic(fmt.Sprintf("web: session key: %v", err))
	}
	cfg.Clock = cmp.Or[clock.Clock](cfg.Clock, clock.Real{})
	cfg.Logger = cmp.Or(cfg.Logger, slog.New(slog.DiscardHandler))
	if cfg.Invalidate == nil {
		cfg.Invalidate = func(string) {}
	}
	cfg.SessionTTL = cmp.Or(cfg.SessionTTL, DefaultSessionTTL)
	cfg.SecretGrace = cmp.Or(cfg.SecretGrace, 24*time.Hour)
	cfg.RequestTimeout = cmp.Or(cfg.RequestTimeout, 30*time.Second)
	s := &Server{cfg: cfg, prefix: strings.TrimSuffix(cfg.Prefix, "/"), box: box, clock: cfg.Clock, log: cfg.Logger,
		csrf: http.NewCrossOriginProtection()}
	s.csrf.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, r, http.StatusForbidden, "This request came from another site and was refused. Reload the page and try again.")
	}))
	s.pages = parsePages(s.funcs())
	sub, _ := fs.Sub(staticFS, "static")
	s.static = http.StripPrefix(s.prefix+"/static/", http.FileServerFS(sub))
	return s
}

// route is one page of the dashboard: its method and path under the
// prefix, whether it needs a session, and its handler.
type route struct {
	method, path string
	public       bool
	handle       func(*Server, http.ResponseWriter, *http.Request, *session) error
}

var routes = []route{
	{"GET", "/{$}", false, (*Server).overview},
	{"GET", "/signin", true, (*Server).signinPage},
	{"POST", "/signin", true, (*Server).signin},
	{"POST", "/signout", true, (*Server).signout},

	{"GET", "/endpoints", false, (*Server).endpoints},
	{"GET", "/endpoints/new", false, (*Server).endpointNew},
	{"POST", "/endpoints", false, (*Server).endpointCreate},
	{"GET", "/endpoints/{id}", false, (*Server).endpoint},
	{"GET", "/endpoints/{id}/edit", false, (*Server).endpointEdit},
	{"POST", "/endpoints/{id}", false, (*Server).endpointUpdate},
	{"POST", "/endpoints/{id}/enable", false, onEndpoint((*Server).operator, enable)},
	{"POST", "/endpoints/{id}/disable", false, onEndpoint((*Server).operator, disable)},
	{"POST", "/endpoints/{id}/rotate", false, onEndpoint((*Server).operator, (*Server).rotate)},
	{"GET", "/endpoints/{id}/secret", false, (*Server).endpointSecret},
	{"POST", "/endpoints/{id}/test", false, (*Server).endpointTest},
	{"POST", "/endpoints/{id}/recover", false, (*Server).endpointRecover},

	{"GET", "/events", false, (*Server).events},
	{"GET", "/events/{id}", false, (*Server).eventPage},
	{"POST", "/events/{id}/replay", false, (*Server).eventReplay},

	{"GET", "/deliveries", false, (*Server).deliveries},
	{"GET", "/deliveries/{id}", false, (*Server).delivery},
	{"POST", "/deliveries/{id}/retry", false, (*Server).deliveryRetry},

	{"GET", "/sources", false, (*Server).sources},
	{"GET", "/sources/{id}", false, (*Server).source},
	{"GET", "/event-types", false, (*Server).eventTypes},
	{"GET", "/event-types/{name}", false, (*Server).eventType},
	{"GET", "/tail", false, (*Server).tail},

	{"GET", "/workflows", false, (*Server).workflows},
	{"GET", "/workflows/new", false, (*Server).workflowNew},
	{"POST", "/workflows", false, (*Server).workflowSave},
	{"GET", "/workflows/{name}", false, (*Server).workflow},
	{"POST", "/workflows/{name}", false, (*Server).workflowSave},
	{"GET", "/runs", false, (*Server).runs},
	{"GET", "/runs/{id}", false, (*Server).run},
	{"POST", "/workflows/{name}/run", false, (*Server).workflowRun},
	{"POST", "/runs/{id}/cancel", false, (*Server).runCancel},
	{"POST", "/runs/{id}/retry", false, (*Server).runRetry},
	{"GET", "/collections", false, (*Server).collections},
	{"GET", "/collections/{name}", false, (*Server).collectionPage},
	{"GET", "/collections/{name}/records/{key...}", false, (*Server).recordPage},

	{"GET", "/templates", false, (*Server).templates},
	{"GET", "/templates/{name}", false, (*Server).template},
	{"POST", "/templates/{name}/preview", false, (*Server).templatePreview},
	{"GET", "/messages", false, (*Server).messages},
	{"GET", "/recipients", false, (*Server).recipients},
	{"GET", "/recipients/{id}/inbox", false, (*Server).recipientInbox},
}

// streams are the routes that answer with Server-Sent Events: they last
// until the client leaves or the server stops, so RequestTimeout does not
// bound them.
var streams = []route{
	{"GET", "/tail/stream", false, (*Server).tailStream},
	{"GET", "/collections/{name}/changes/stream", false, (*Server).changesStream},
}

// Mount registers the dashboard's routes on mux under the prefix. Paths
// it does not have are left to mux's other patterns (the API's JSON 404).
func (s *Server) Mount(mux *http.ServeMux) {
	for _, rt := range routes {
		mux.Handle(rt.method+" "+s.prefix+rt.path, s.wrap(rt))
	}
	for _, rt := range streams {
		mux.Handle(rt.method+" "+s.prefix+rt.path, s.chain(rt, 0))
	}
	s.mountPortal(mux)
	mux.Handle("GET "+s.prefix+"/static/", s.headers(s.static, true))
	if s.prefix != "" {
		mux.Handle("GET "+s.prefix, http.RedirectHandler(s.prefix+"/", http.StatusSeeOther))
	}
}

// csp is the operator's pages' policy: never framed.
var csp = contentPolicy("'none'")

// contentPolicy allows only the dashboard's own scripts, styles and
// images: no inline script or style, forms posted only to itself, and
// framing by frameAncestors only.
func contentPolicy(frameAncestors string) string {
	return "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
		"frame-ancestors " + frameAncestors + "; form-action 'self'; base-uri 'none'; object-src 'none'"
}

// headers sets the security headers of every answer of the dashboard.
func (s *Server) headers(h http.Handler, static bool) http.Handler {
	cache := "no-store"
	if static {
		cache = "public, max-age=3600"
	}
	return setHeaders(h, "Content-Security-Policy", csp, "X-Frame-Options", "DENY", "Referrer-Policy", "same-origin", "Cache-Control", cache)
}

// setHeaders answers with X-Content-Type-Options: nosniff and the headers
// of kv (name, value, name, value…) before h writes.
func setHeaders(h http.Handler, kv ...string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("X-Content-Type-Options", "nosniff")
		for i := 0; i+1 < len(kv); i += 2 {
			hd.Set(kv[i], kv[i+1])
		}
		h.ServeHTTP(w, r)
	})
}

// wrap is every page's chain: security headers, cross-origin protection
// of state-changing requests, a deadline, the session, and one place
// where a handler's error becomes an error page.
func (s *Server) wrap(rt route) http.Handler { return s.chain(rt, s.cfg.RequestTimeout) }

// chain is wrap with a deadline of timeout, none when 0.
func (s *Server) chain(rt route, timeout time.Duration) http.Handler {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if timeout > 0 {
			ctx, cancel := context.WithTimeout(r.Context(), timeout)
			defer cancel()
			r = r.WithContext(ctx)
		}
		var sess *session
		if !rt.public {
			var ok bool
			if sess, ok = s.session(w, r); !ok {
				return
			}
		}
		if err := rt.handle(s, w, r, sess); err != nil {
			s.handleError(w, r, err)
		}
	})
	return s.headers(s.csrf.Handler(h), false)
}

// userError is a mistake the user can fix, shown on the page with its
// status.
type userError struct {
	status int
	msg    string
}

func (e *userError) Error() string { return e.msg }

func notFound(err error, what, id string) error {
	if errors.Is(err, store.ErrNotFound) {
		return &userError{http.StatusNotFound, fmt.Sprintf("No %s %s in this tenant.", what, id)}
	}
	return err
}

func badRequest(format string, args ...any) error {
	return &userError{http.StatusBadRequest, fmt.Sprintf(format, args...)}
}

// handleError answers a handler's error: a userError as it says; a fault
// of the database as 503 with a hint; anything else 500, logged.
func (s *Server) handleError(w http.ResponseWriter, r *http.Request, err error) {
	var ue *userError
	switch {
	case errors.As(err, &ue):
		s.fail(w, r, ue.status, ue.msg)
	case errors.Is(err, store.ErrUnavailable), errors.Is(err, context.DeadlineExceeded):
		s.fail(w, r, http.StatusServiceUnavailable, "The database did not answer in time. Try again in a moment.")
	default:
		s.log.ErrorContext(r.Context(), "dashboard", "method", r.Method, "path", r.URL.Path, "error", err)
		s.fail(w, r, http.StatusInternalServerError, "Something went wrong on the server; the log has the details.")
	}
}

// fail renders the error page: the portal's for a request of the portal.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, status int, msg string) {
	page := "error"
	if portalOf(r) != nil {
		page = "portal_error"
	}
	s.render(w, r, status, page, view{Title: http.StatusText(status), Data: msg})
}

// view is what every page template gets: the layout's fields and the
// page's own Data.
type view struct {
	Title  string
	Nav    string // the nav entry to mark current
	Prefix string
	Tenant string
	Flash  string
	Data   any
	// Portal is the customer portal's header on its pages; nil on the
	// operator's.
	Portal *portalHeader
}

// render executes page into a buffer first, so a template error is a
// clean 500 rather than half a page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, page string, v view) {
	v.Prefix = s.prefix
	if v.Portal == nil {
		v.Portal = portalOf(r)
	}
	if v.Flash == "" {
		v.Flash = flashes[r.URL.Query().Get("done")]
	}
	t, ok := s.pages[page]
	if !ok {
		panic("web: no page " + page) // a programmer error
	}
	var buf bytes.Buffer
	name := "layout"
	if r.Header.Get("HX-Request") == "true" && r.Header.Get("HX-Boosted") == "" && t.Lookup("fragment") != nil {
		name = "fragment"
	}
	if err := t.ExecuteTemplate(&buf, name, v); err != nil {
		s.log.ErrorContext(r.Context(), "dashboard: render", "page", page, "error", err)
		http.Error(w, "render error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// page answers 200 with an operator's page, v of the session's tenant.
func (s *Server) page(w http.ResponseWriter, r *http.Request, sess *session, name string, v view) error {
	v.Tenant = sess.TenantName
	s.render(w, r, http.StatusOK, name, v)
	return nil
}

// flashes are the notices a redirect after a change may show, by the
// code in its done parameter: only these words, never text from the URL.
var flashes = map[string]string{
	"created":   "Endpoint created. Its signing secret is below: copy it now into the receiver.",
	"updated":   "Endpoint saved.",
	"enabled":   "Endpoint enabled: deliveries resume.",
	"disabled":  "Endpoint disabled: no new deliveries until you enable it.",
	"rotated":   "Secret rotated. The previous one keeps signing until its grace period ends.",
	"tested":    "Test event published.",
	"recovered": "Failed deliveries queued again.",
	"replayed":  "Event replayed: its deliveries run again.",
	"retried":   "Delivery queued to run again now.",

	"run_started":    "Run started by hand. Its input is the data of its workflow.manual event.",
	"workflow_saved": "Workflow saved. A changed definition is a new version: new runs take it, runs going on keep theirs.",
	"run_cancelled":  "Run cancelled: its pending steps will not run.",
	"run_retried":    "Run started again at the step it failed at.",
}

// redirect answers a change with 303 See Other to path under the prefix.
func (s *Server) redirect(w http.ResponseWriter, r *http.Request, path string) {
	http.Redirect(w, r, s.prefix+path, http.StatusSeeOther)
}

// now is the clock's time at the store's precision.
func (s *Server) now() time.Time { return s.clock.Now().UTC().Truncate(time.Millisecond) }

// parsePages parses each page with the layout into a template of its own,
// by the page's file name without .html.
func parsePages(funcs template.FuncMap) map[string]*template.Template {
	base := template.Must(template.New("").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/*parts.html"))
	entries, err := fs.ReadDir(templateFS, "templates")
	if err != nil {
		panic(err)
	}
	pages := map[string]*template.Template{}
	for _, e := range entries {
		name := strings.TrimSuffix(e.Name(), ".html")
		if name == "layout" || strings.HasSuffix(name, "parts") {
			continue
		}
		pages[name] = template.Must(template.Must(base.Clone()).ParseFS(templateFS, "templates/"+e.Name()))
	}
	return pages
}
