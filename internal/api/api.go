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

	"github.com/hookline/hookline/internal/clock"
	"github.com/hookline/hookline/internal/collection"
	"github.com/hookline/hookline/internal/content"
	"github.com/hookline/hookline/internal/engine"
	"github.com/hookline/hookline/internal/feed"
	"github.com/hookline/hookline/internal/netguard"
	"github.com/hookline/hookline/internal/store"
	"github.com/hookline/hookline/internal/workflow"
)

// DefaultMaxBody is the default request body limit (1 MiB).
const DefaultMaxBody = 1 << 20

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
	// Collections applies records written through the API.
	Collections *collection.Service
	// Content renders previews and shows messages.
	Content *content.Service
	// Workflows retries and cancels runs.
	Workflows *workflow.Runner
	// SourceChanged is called with a source's name after it changes.
	SourceChanged func(name string)
	// Guard checks endpoint URLs when they are saved.
	Guard   netguard.Policy
	Clock   clock.Clock
	Logger  *slog.Logger
	MaxBody int64
	// SecretGrace is how long a rotated-out secret keeps signing; default 24h.
	SecretGrace time.Duration
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
	keys       *ttlCache[*auth]
	eventTypes *ttlCache[*store.EventType]
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
	cfg.MaxBody = cmp.Or(cfg.MaxBody, DefaultMaxBody)
	cfg.SecretGrace = cmp.Or(cfg.SecretGrace, 24*time.Hour)
	return &Server{cfg: cfg, store: cfg.Store, engine: cfg.Engine, clock: cfg.Clock, log: cfg.Logger, schemas: newSchemaCache(),
		keys: newTTLCache[*auth](), eventTypes: newTTLCache[*store.EventType]()}
}

// now returns the current time at the precision the store keeps, so an
// answer shows the same times a later GET will.
func (s *Server) now() time.Time { return s.clock.Now().UTC().Truncate(time.Millisecond) }

// handlerFunc is a handler that returns its error for the one mapper.
type handlerFunc func(w http.ResponseWriter, r *http.Request, a *auth) error

// Handler returns the /v1 routes.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	handle := func(pattern string, h handlerFunc) {
		mux.Handle(pattern, s.authenticate(h))
	}
	handle("POST /v1/apply", s.apply)
	handle("GET /v1/cluster", s.getCluster)
	handle("POST /v1/tenants", s.createTenant)
	handle("POST /v1/api-keys", s.createAPIKey)
	handle("GET /v1/api-keys", s.listAPIKeys)
	handle("DELETE /v1/api-keys/{id}", s.deleteAPIKey)

	handle("POST /v1/event-types", s.createEventType)
	handle("GET /v1/event-types", s.listEventTypes)
	handle("GET /v1/event-types/{name}", s.getEventType)

	handle("POST /v1/endpoints", s.createEndpoint)
	handle("GET /v1/endpoints", s.listEndpoints)
	handle("GET /v1/endpoints/{id}", s.getEndpoint)
	handle("PATCH /v1/endpoints/{id}", s.updateEndpoint)
	handle("DELETE /v1/endpoints/{id}", s.deleteEndpoint)
	handle("POST /v1/endpoints/{id}/rotate-secret", s.rotateSecret)
	handle("GET /v1/endpoints/{id}/secret", s.getSecret)
	handle("POST /v1/endpoints/{id}/recover", s.recoverEndpoint)

	handle("POST /v1/events", s.createEvent)
	handle("POST /v1/events/batch", s.createEvents)
	handle("GET /v1/events", s.listEvents)
	handle("GET /v1/events/stream", s.streamEvents)
	handle("GET /v1/events/{id}", s.getEvent)
	handle("POST /v1/events/{id}/replay", s.replayEvent)

	handle("POST /v1/sources", s.createSource)
	handle("GET /v1/sources", s.listSources)
	handle("GET /v1/sources/{id}", s.getSource)
	handle("PATCH /v1/sources/{id}", s.updateSource)
	handle("DELETE /v1/sources/{id}", s.deleteSource)
	handle("GET /v1/sources/{id}/rejections", s.listRejections)

	handle("POST /v1/subscriptions", s.createSubscription)
	handle("GET /v1/subscriptions", s.listSubscriptions)
	handle("GET /v1/subscriptions/{id}", s.getSubscription)
	handle("PATCH /v1/subscriptions/{id}", s.updateSubscription)
	handle("DELETE /v1/subscriptions/{id}", s.deleteSubscription)

	handle("POST /v1/collections", s.createCollection)
	handle("GET /v1/collections", s.listCollections)
	handle("GET /v1/collections/{name}", s.getCollection)
	handle("PUT /v1/collections/{name}", s.replaceCollection)
	handle("DELETE /v1/collections/{name}", s.deleteCollection)
	handle("GET /v1/collections/{name}/records", s.listRecords)
	handle("POST /v1/collections/{name}/records", s.writeRecords)
	handle("GET /v1/collections/{name}/records/{key...}", s.getRecord)
	handle("GET /v1/collections/{name}/changes", s.listChanges)

	handle("POST /v1/workflows", s.saveWorkflow)
	handle("GET /v1/workflows", s.listWorkflows)
	handle("GET /v1/workflows/{name}", s.getWorkflow)
	handle("PATCH /v1/workflows/{name}", s.patchWorkflow)
	handle("DELETE /v1/workflows/{name}", s.deleteWorkflow)
	handle("GET /v1/workflows/{name}/runs", s.listRuns)
	handle("GET /v1/runs", s.listRuns)
	handle("GET /v1/runs/{id}", s.getRun)
	handle("POST /v1/runs/{id}/retry", s.retryRun)
	handle("POST /v1/runs/{id}/cancel", s.cancelRun)

	handle("PUT /v1/recipients/{id}", s.putRecipient)
	handle("GET /v1/recipients", s.listRecipients)
	handle("GET /v1/recipients/{id}", s.getRecipient)
	handle("DELETE /v1/recipients/{id}", s.deleteRecipient)
	handle("GET /v1/recipients/{id}/token", s.recipientToken)
	handle("POST /v1/templates", s.saveTemplate)
	handle("GET /v1/templates", s.listTemplates)
	handle("GET /v1/templates/{name}", s.getTemplate)
	handle("DELETE /v1/templates/{name}", s.deleteTemplate)
	handle("POST /v1/templates/{name}/preview", s.previewTemplate)
	handle("POST /v1/notify-rules", s.createNotifyRule)
	handle("GET /v1/notify-rules", s.listNotifyRules)
	handle("GET /v1/notify-rules/{name}", s.getNotifyRule)
	handle("PUT /v1/notify-rules/{name}", s.replaceNotifyRule)
	handle("DELETE /v1/notify-rules/{name}", s.deleteNotifyRule)
	handle("GET /v1/messages", s.listMessages)
	handle("GET /v1/messages/{id}", s.getMessage)

	handle("GET /v1/deliveries", s.listDeliveries)
	handle("GET /v1/deliveries/{id}", s.getDelivery)
	handle("POST /v1/deliveries/{id}/retry", s.retryDelivery)

	mux.Handle("/v1/", s.fallback(mux, "/v1/"))
	return mux
}

// auth is the authenticated caller.
type auth struct {
	tenantID string
	keyID    string
	admin    bool
}

// HashKey returns the stored hash of an API key.
func HashKey(key string) []byte {
	h := sha256.Sum256([]byte(key))
	return h[:]
}

func (s *Server) authenticate(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		limit := s.cfg.MaxBody
		if r.URL.Path == "/v1/events/batch" {
			limit = max(limit, BatchMaxBody)
		}
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		a, err := s.authorize(r.Context(), r.Header.Get("Authorization"))
		if err == nil {
			err = h(w, r, a)
		}
		if err != nil {
			writeError(w, r, s.log, err)
		}
	})
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
	if a, ok := s.keys.get(string(hash), now); ok {
		return a, nil
	}
	k, err := s.store.APIKeyByHash(ctx, hash)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errorf(http.StatusUnauthorized, codeUnauthorized, "invalid API key")
	}
	if err != nil {
		return nil, err
	}
	a := &auth{tenantID: k.TenantID, keyID: k.ID, admin: k.Admin}
	s.keys.put(string(hash), a, now)
	return a, nil
}
