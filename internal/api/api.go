// Package api is Hookline's REST API under /v1: handlers per resource,
// bearer-key authentication scoped to one tenant, body limits, and one
// error mapper that turns every failure into
// {"error": {"code", "message", "details"}}.
package api

import (
	"cmp"
	"context"
	"crypto/sha256"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/hookline/hookline/internal/accesslog"
	"github.com/hookline/hookline/internal/apply"
	"github.com/hookline/hookline/internal/clock"
	"github.com/hookline/hookline/internal/collection"
	"github.com/hookline/hookline/internal/config"
	"github.com/hookline/hookline/internal/content"
	"github.com/hookline/hookline/internal/delivery/format"
	"github.com/hookline/hookline/internal/engine"
	"github.com/hookline/hookline/internal/feed"
	"github.com/hookline/hookline/internal/netguard"
	"github.com/hookline/hookline/internal/store"
	"github.com/hookline/hookline/internal/ttl"
	"github.com/hookline/hookline/internal/workflow"
)

// BatchMaxBody is the body limit of POST /v1/events/batch (16 MiB), or
// MaxBody when that is larger.
const BatchMaxBody = 16 << 20

// Config configures New.
type Config struct {
	Store  store.Store
	Engine *engine.Engine
	// Invalidate is called with a tenant id after its endpoints change, so
	// routing sees the change at once.
	Invalidate func(tenantID string)
	// Feed streams committed events to GET /v1/events/stream.
	Feed *feed.Hub
	// Closing, once closed, ends the Server-Sent Events streams: the
	// server is shutting down and should not wait for them.
	Closing <-chan struct{}
	// Collections applies records written through the API.
	Collections *collection.Service
	// Content renders previews and shows messages.
	Content *content.Service
	// Workflows retries and cancels runs.
	Workflows *workflow.Runner
	// CheckNotify validates the notify steps of saved workflows
	// (content.CheckRule); nil refuses them.
	CheckNotify func(content.RuleDef) error
	// SourceChanged is called with a source's name after it changes.
	SourceChanged func(name string)
	// Guard checks endpoint URLs when they are saved.
	Guard  netguard.Policy
	Clock  clock.Clock
	Logger *slog.Logger
	// MaxBody bounds request bodies; default max_body_bytes's
	// (config.Default).
	MaxBody int64
	// SecretGrace is how long a rotated-out secret keeps signing; default 24h.
	SecretGrace time.Duration
	// CommitTimeout bounds the store calls of a publish once its body is
	// read, and the API key lookup of every request; default
	// engine.DefaultCommitTimeout. RequestTimeout bounds the other
	// requests but the streams; default DefaultRequestTimeout.
	CommitTimeout  time.Duration
	RequestTimeout time.Duration
	// PortalPath is the path of the portal's one-time links, before
	// their token: the dashboard's prefix and portal.LinkPath; empty when
	// the dashboard is off. PublicURL, when set, is the links' base;
	// else the scheme and host of the request that made them.
	PortalPath string
	PublicURL  string
}

// DefaultRequestTimeout bounds an API request that does not stream.
const DefaultRequestTimeout = 30 * time.Second

// streaming are the routes that may last as long as the client stays:
// they get no request deadline.
var streaming = map[string]bool{
	"GET /v1/events/stream":              true,
	"GET /v1/collections/{name}/changes": true,
	"POST /v1/queues/{name}/lease":       true,
}

// publishing are the routes whose handler bounds its store calls by
// CommitTimeout, shorter than the request deadline, from when the body is
// read: a request deadline on top would be a second timer that never
// fires first.
var publishing = map[string]bool{
	"POST /v1/events":       true,
	"POST /v1/events/batch": true,
}

// Server serves the REST API.
type Server struct {
	cfg     Config
	store   store.Store
	engine  *engine.Engine
	clock   clock.Clock
	log     *slog.Logger
	schemas *schemaCache
	// keys caches authenticated keys by hash; eventTypes caches event
	// types (or their absence) by tenant and name.
	keys       *ttl.Cache[string, *auth]
	eventTypes *ttl.Cache[string, *store.EventType]
	// applier checks and saves resources, one or a declaration.
	applier *apply.Applier
}

// New returns a Server.
func New(cfg Config) *Server {
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Invalidate == nil {
		cfg.Invalidate = func(string) {}
	}
	if cfg.SourceChanged == nil {
		cfg.SourceChanged = func(string) {}
	}
	cfg.MaxBody = cmp.Or(cfg.MaxBody, config.Default().MaxBodyBytes)
	cfg.SecretGrace = cmp.Or(cfg.SecretGrace, 24*time.Hour)
	cfg.CommitTimeout = cmp.Or(cfg.CommitTimeout, engine.DefaultCommitTimeout)
	cfg.RequestTimeout = cmp.Or(cfg.RequestTimeout, DefaultRequestTimeout)
	s := &Server{cfg: cfg, store: cfg.Store, engine: cfg.Engine, clock: cfg.Clock, log: cfg.Logger, schemas: newSchemaCache(),
		keys: ttl.New[string, *auth](cacheTTL, maxCacheEntries), eventTypes: ttl.New[string, *store.EventType](cacheTTL, maxCacheEntries)}
	s.applier = apply.New(apply.Config{
		Store: cfg.Store, URLs: cfg.Guard, Dial: cfg.Guard.Dial(), CheckNotify: cfg.CheckNotify, Clock: cfg.Clock,
		Invalidate: cfg.Invalidate, SourceChanged: cfg.SourceChanged,
		EventTypesChanged: func(string) { s.eventTypes.Clear() },
	})
	return s
}

// Applier returns the Applier of the server's declarations (POST
// /v1/apply), for applying one in process: its event types, routing and
// sources are seen at once by this server as through the API.
func (s *Server) Applier() *apply.Applier { return s.applier }

// now returns the current time at the precision the store keeps, so an
// answer shows the same times a later GET will.
func (s *Server) now() time.Time { return s.clock.Now().UTC().Truncate(time.Millisecond) }

// handlerFunc is a handler that returns its error for the one mapper.
type handlerFunc func(w http.ResponseWriter, r *http.Request, a *auth) error

// route is one /v1 route: its pattern and its handler.
type route struct {
	pattern string
	handle  func(*Server, http.ResponseWriter, *http.Request, *auth) error
}

// withBody is the handler of a route whose request has a JSON body: the
// body is decoded into a T (decode: strict and bounded) before h runs,
// and a body that does not decode is answered without calling h.
func withBody[T any](h func(*Server, http.ResponseWriter, *http.Request, *auth, T) error) func(*Server, http.ResponseWriter, *http.Request, *auth) error {
	return decodedBy(decode, h)
}

// withOptionalBody is withBody for a route whose body may be absent: h
// gets the zero T (decodeOptional).
func withOptionalBody[T any](h func(*Server, http.ResponseWriter, *http.Request, *auth, T) error) func(*Server, http.ResponseWriter, *http.Request, *auth) error {
	return decodedBy(decodeOptional, h)
}

func decodedBy[T any](dec func(*http.Request, any) error, h func(*Server, http.ResponseWriter, *http.Request, *auth, T) error) func(*Server, http.ResponseWriter, *http.Request, *auth) error {
	return func(s *Server, w http.ResponseWriter, r *http.Request, a *auth) error {
		var in T
		if err := dec(r, &in); err != nil {
			return err
		}
		return h(s, w, r, a, in)
	}
}

// routes are the /v1 routes. The lists that page have their cursor in
// listCursors, by pattern.
var routes = []route{
	{"POST /v1/apply", withBody((*Server).apply)},
	{"GET /v1/cluster", (*Server).getCluster},
	{"POST /v1/tenants", (*Server).createTenant},
	{"POST /v1/api-keys", (*Server).createAPIKey},
	{"GET /v1/api-keys", (*Server).listAPIKeys},
	{"DELETE /v1/api-keys/{id}", (*Server).deleteAPIKey},

	{"POST /v1/event-types", withBody((*Server).createEventType)},
	{"GET /v1/event-types", (*Server).listEventTypes},
	{"GET /v1/event-types/{name}", (*Server).getEventType},

	{"POST /v1/endpoints", withBody((*Server).createEndpoint)},
	{"GET /v1/endpoints", (*Server).listEndpoints},
	{"GET /v1/endpoints/{id}", (*Server).getEndpoint},
	{"PATCH /v1/endpoints/{id}", withBody((*Server).updateEndpoint)},
	{"DELETE /v1/endpoints/{id}", (*Server).deleteEndpoint},
	{"POST /v1/endpoints/{id}/rotate-secret", (*Server).rotateSecret},
	{"GET /v1/endpoints/{id}/secret", (*Server).getSecret},
	{"POST /v1/endpoints/{id}/recover", withBody((*Server).recoverEndpoint)},

	{"POST /v1/events", withBody((*Server).createEvent)},
	{"POST /v1/events/batch", withBody((*Server).createEvents)},
	{"GET /v1/events", (*Server).listEvents},
	{"GET /v1/events/stream", (*Server).streamEvents},
	{"GET /v1/events/{id}", (*Server).getEvent},
	{"POST /v1/events/{id}/replay", (*Server).replayEvent},

	{"POST /v1/sources", withBody((*Server).createSource)},
	{"GET /v1/sources", (*Server).listSources},
	{"GET /v1/sources/{id}", (*Server).getSource},
	{"PATCH /v1/sources/{id}", withBody((*Server).updateSource)},
	{"DELETE /v1/sources/{id}", (*Server).deleteSource},
	{"GET /v1/sources/{id}/rejections", (*Server).listRejections},

	{"POST /v1/subscriptions", withBody((*Server).createSubscription)},
	{"GET /v1/subscriptions", (*Server).listSubscriptions},
	{"GET /v1/subscriptions/{id}", (*Server).getSubscription},
	{"PATCH /v1/subscriptions/{id}", withBody((*Server).updateSubscription)},
	{"DELETE /v1/subscriptions/{id}", (*Server).deleteSubscription},

	{"POST /v1/collections", withBody((*Server).createCollection)},
	{"GET /v1/collections", (*Server).listCollections},
	{"GET /v1/collections/{name}", (*Server).getCollection},
	{"PUT /v1/collections/{name}", withBody((*Server).replaceCollection)},
	{"DELETE /v1/collections/{name}", (*Server).deleteCollection},
	{"GET /v1/collections/{name}/records", (*Server).listRecords},
	{"POST /v1/collections/{name}/records", (*Server).writeRecords},
	{"GET /v1/collections/{name}/records/{key...}", (*Server).getRecord},
	{"GET /v1/collections/{name}/changes", (*Server).listChanges},

	{"POST /v1/workflows", (*Server).saveWorkflow},
	{"GET /v1/workflows", (*Server).listWorkflows},
	{"GET /v1/workflows/{name}", (*Server).getWorkflow},
	{"PATCH /v1/workflows/{name}", withBody((*Server).patchWorkflow)},
	{"DELETE /v1/workflows/{name}", (*Server).deleteWorkflow},
	{"GET /v1/workflows/{name}/runs", (*Server).listRuns},
	{"POST /v1/workflows/{name}/runs", withOptionalBody((*Server).startRun)},
	{"GET /v1/runs", (*Server).listRuns},
	{"GET /v1/runs/{id}", (*Server).getRun},
	{"POST /v1/runs/cancel", withBody((*Server).cancelRuns)},
	{"POST /v1/runs/retry", withBody((*Server).retryRuns)},
	{"POST /v1/runs/{id}/retry", (*Server).retryRun},
	{"POST /v1/runs/{id}/cancel", (*Server).cancelRun},
	{"POST /v1/runs/{id}/approve", withOptionalBody((*Server).approveRun)},
	{"POST /v1/runs/{id}/reject", withOptionalBody((*Server).rejectRun)},

	{"PUT /v1/recipients/{id}", withBody((*Server).putRecipient)},
	{"GET /v1/recipients", (*Server).listRecipients},
	{"GET /v1/recipients/{id}", (*Server).getRecipient},
	{"DELETE /v1/recipients/{id}", (*Server).deleteRecipient},
	{"GET /v1/recipients/{id}/token", (*Server).recipientToken},
	{"POST /v1/templates", withBody((*Server).saveTemplate)},
	{"GET /v1/templates", (*Server).listTemplates},
	{"GET /v1/templates/{name}", (*Server).getTemplate},
	{"DELETE /v1/templates/{name}", (*Server).deleteTemplate},
	{"POST /v1/templates/{name}/preview", (*Server).previewTemplate},
	{"POST /v1/notify-rules", withBody((*Server).createNotifyRule)},
	{"GET /v1/notify-rules", (*Server).listNotifyRules},
	{"GET /v1/notify-rules/{name}", (*Server).getNotifyRule},
	{"PUT /v1/notify-rules/{name}", withBody((*Server).replaceNotifyRule)},
	{"DELETE /v1/notify-rules/{name}", (*Server).deleteNotifyRule},
	{"GET /v1/messages", (*Server).listMessages},
	{"GET /v1/messages/{id}", (*Server).getMessage},

	{"GET /v1/deliveries", (*Server).listDeliveries},
	{"GET /v1/deliveries/{id}", (*Server).getDelivery},
	{"POST /v1/deliveries/{id}/retry", (*Server).retryDelivery},

	{"POST /v1/portal/sessions", (*Server).createPortalSession},

	{"PUT /v1/queues/{name}", withOptionalBody((*Server).putQueue)},
	{"GET /v1/queues", (*Server).listQueues},
	{"GET /v1/queues/{name}", (*Server).getQueue},
	{"DELETE /v1/queues/{name}", (*Server).deleteQueue},
	{"POST /v1/queues/{name}/lease", withOptionalBody((*Server).leaseMessages)},
	{"POST /v1/queues/{name}/ack", withBody((*Server).ackMessages)},
	{"POST /v1/queues/{name}/nack", withBody((*Server).nackMessages)},
	{"POST /v1/queues/{name}/replay", withBody((*Server).replayQueue)},
}

// Routes returns the pattern of every /v1 route, such as "POST /v1/events",
// so that tests can walk them all and no route escapes a check.
func Routes() []string {
	out := make([]string, len(routes))
	for i, rt := range routes {
		out[i] = rt.pattern
	}
	return out
}

// Handler returns the /v1 routes.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	for _, rt := range routes {
		timeout := s.cfg.RequestTimeout
		if streaming[rt.pattern] || publishing[rt.pattern] {
			timeout = 0
		}
		mux.Handle(rt.pattern, s.authenticate(timeout, func(w http.ResponseWriter, r *http.Request, a *auth) error {
			return rt.handle(s, w, r, a)
		}))
	}
	mux.HandleFunc(publicRoutes[0], serveOpenAPI)
	mux.Handle("/v1/", s.fallback(mux, "/v1/"))
	return mux
}

// auth is the authenticated caller.
type auth struct {
	tenantID string
	keyID    string
	// keyHash is the key's hash, as stored.
	keyHash []byte
	admin   bool
}

// HashKey returns the stored hash of an API key.
func HashKey(key string) []byte {
	h := sha256.Sum256([]byte(key))
	return h[:]
}

// authenticate runs h for an authorized caller, with a deadline of timeout
// (none when zero) on the request's context, so that no store call waits
// on a database that stopped answering for longer.
func (s *Server) authenticate(timeout time.Duration, h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if timeout > 0 {
			ctx, cancel := context.WithTimeout(r.Context(), timeout)
			defer cancel()
			r = r.WithContext(ctx)
		}
		limit := s.cfg.MaxBody
		if r.URL.Path == "/v1/events/batch" {
			limit = max(limit, BatchMaxBody)
		}
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		a, err := s.authorize(r.Context(), r.Header.Get("Authorization"))
		if err == nil {
			accesslog.SetTenant(r.Context(), a.tenantID)
		}
		if err == nil {
			err = checkPath(r)
		}
		if err == nil {
			err = h(w, r, a)
		}
		if err != nil {
			writeError(w, r, s.log, err)
		}
	})
}

// checkPath refuses a path that is not UTF-8 once unescaped (%FF): its
// values name resources and some, such as a recipient's id, are stored.
func checkPath(r *http.Request) error {
	if err := format.CheckUTF8String(r.URL.Path); err != nil {
		return errorf(http.StatusBadRequest, codeBadRequest, "path %s is %v once percent-decoded", r.URL.EscapedPath(), err)
	}
	return nil
}

func (s *Server) authorize(ctx context.Context, header string) (*auth, error) {
	scheme, key, ok := strings.Cut(header, " ")
	if header == "" {
		return nil, errorf(http.StatusUnauthorized, codeUnauthorized, "missing Authorization header; send 'Authorization: Bearer <api key>'")
	}
	if !ok || !strings.EqualFold(scheme, "Bearer") || key == "" || len(key) > 200 {
		return nil, errorf(http.StatusUnauthorized, codeUnauthorized, "malformed Authorization header; send 'Authorization: Bearer <api key>'")
	}
	hash := HashKey(strings.TrimSpace(key))
	now := s.clock.Now()
	if a, ok := s.keys.Get(string(hash), now); ok {
		return a, nil
	}
	// The lookup has its own deadline only when it is made: most keys
	// come from the cache.
	ctx, cancel := context.WithTimeout(ctx, s.cfg.CommitTimeout)
	defer cancel()
	k, err := s.store.APIKeyByHash(ctx, hash)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errorf(http.StatusUnauthorized, codeUnauthorized, "invalid API key")
	}
	if err != nil {
		return nil, err
	}
	a := &auth{tenantID: k.TenantID, keyID: k.ID, keyHash: hash, admin: k.Admin}
	s.keys.Put(string(hash), a, now)
	return a, nil
}
