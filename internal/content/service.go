package content

import (
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/hookline/hookline/internal/clock"
	"github.com/hookline/hookline/internal/collection"
	"github.com/hookline/hookline/internal/content/email"
	"github.com/hookline/hookline/internal/content/render"
	"github.com/hookline/hookline/internal/engine"
	"github.com/hookline/hookline/internal/event"
	"github.com/hookline/hookline/internal/expr"
	"github.com/hookline/hookline/internal/lru"
	"github.com/hookline/hookline/internal/route"
	"github.com/hookline/hookline/internal/store"
)

// Destination kinds of content tasks.
const (
	// KindNotify tasks apply a notify rule (destination: the rule) to
	// their event.
	KindNotify = "notify"
	// KindMessage tasks deliver a message (destination: its id) or send a
	// digest (destination: "digest:" + key).
	KindMessage = "message"
)

// Event types content emits.
const (
	ClickedType      = "content.clicked"
	OpenedType       = "content.opened"
	UnsubscribedType = "content.unsubscribed"
	MessageType      = "content.message"
)

const (
	maxLookupDoc = 1 << 20
	lookupTTL    = 10 * time.Second
)

// Store is what the service needs from the store: the content aggregate,
// and the collection records recipients and lookups read.
type Store interface {
	store.Content
	GetRecord(ctx context.Context, tenantID, collection, key string) (store.Record, error)
}

// Config wires a Service.
type Config struct {
	Store Store
	// Client makes lookup requests (the SSRF-guarded client).
	Client *http.Client
	// UserAgent is the User-Agent of lookup requests, unless a lookup's
	// headers set one.
	UserAgent string
	Clock     clock.Clock
	Logger    *slog.Logger
	// Publish commits events (clicks, opens, webhook messages).
	Publish func(ctx context.Context, evs []event.Event) error
	// Lease leases the tasks about to be written that this node runs at
	// once; Schedule hands tasks written with messages to the engine.
	Lease    func(ts []store.Task)
	Schedule func(ctx context.Context, ts []store.Task)
	// Collections serves collection lookups and directories; may be nil.
	Collections *collection.Service
	// Email sends email; nil makes the email channel fail with a clear
	// error.
	Email *email.Sender
	// PublicURL is where /t/, /o/, /u/, /p/ and /inbox are reached from
	// outside, e.g. "https://hooks.example.com".
	PublicURL string
	// TokenKey signs recipients' inbox tokens.
	TokenKey []byte
	// Closing, once closed, ends the live inbox streams: the server is
	// shutting down and should not wait for them.
	Closing <-chan struct{}
}

// Service runs notify rules and delivers messages.
type Service struct {
	cfg   Config
	inbox *hub

	// templates keeps the template versions last used, compiled, by
	// tenant/name/version/creation.
	templates *lru.Cache[string, *render.Template]
}

// maxTemplates bounds the compiled template versions kept; one evicted is
// compiled again from its stored spec when next used.
const maxTemplates = 1024

// New returns a Service.
func New(cfg Config) *Service {
	cfg.Clock = cmp.Or[clock.Clock](cfg.Clock, clock.Real{})
	cfg.Logger = cmp.Or(cfg.Logger, slog.New(slog.DiscardHandler))
	cfg.Client = cmp.Or(cfg.Client, http.DefaultClient)
	cfg.PublicURL = strings.TrimRight(cfg.PublicURL, "/")
	if cfg.Lease == nil {
		cfg.Lease = func([]store.Task) {}
	}
	return &Service{cfg: cfg, inbox: newHub(), templates: lru.New[string, *render.Template](maxTemplates)}
}

var _ route.Filler = (*Service)(nil)

// FillRoutes fills the routing table with a tenant's enabled notify
// rules: each notifies for the events of its types its condition holds
// for.
func (s *Service) FillRoutes(ctx context.Context, tenantID string) (route.Fill, error) {
	list, err := s.cfg.Store.ListNotifyRules(ctx, tenantID)
	if err != nil {
		return route.Fill{}, fmt.Errorf("load notify rules: %w", err)
	}
	var fill route.Fill
	for _, sr := range list {
		if !sr.Enabled {
			continue
		}
		r, err := ParseRule(sr)
		if err != nil {
			s.cfg.Logger.ErrorContext(ctx, "notify rule skipped", "rule", sr.Name, "error", err)
			continue
		}
		fill.Entries = append(fill.Entries, route.Entry{
			Target: engine.Target{Kind: KindNotify, DestinationID: r.Name}, Patterns: r.events, Filter: r.cond,
			LogKey: "rule", LogMsg: "notify rule condition failed; not notified",
		})
	}
	return fill, nil
}

// ParseRule compiles a stored rule.
func ParseRule(sr store.NotifyRule) (*Rule, error) {
	in, err := ParseRuleDef(sr)
	if err != nil {
		return nil, fmt.Errorf("notify rule %s: %w", sr.Name, err)
	}
	return CompileRule(in, true)
}

// Template loads and compiles a template version (0: latest).
func (s *Service) Template(ctx context.Context, tenantID, name string, version int) (*render.Template, store.Template, error) {
	st, err := s.cfg.Store.GetTemplate(ctx, tenantID, name, version)
	if err != nil {
		return nil, st, err
	}
	// A deleted and recreated template numbers from 1 again: the creation
	// time tells the two v1s apart.
	k := fmt.Sprintf("%s/%s/%d/%d", tenantID, name, st.Version, st.CreatedAt.UnixNano())
	if t, ok := s.templates.Get(k); ok {
		return t, st, nil
	}
	spec, err := RenderSpec(st.Spec)
	if err != nil {
		return nil, st, err
	}
	t, err := render.Compile(spec)
	if err != nil {
		return nil, st, fmt.Errorf("template %s v%d: %w", name, st.Version, err)
	}
	s.templates.Add(k, t)
	return t, st, nil
}

// RenderSpec reads a stored template spec.
func RenderSpec(raw []byte) (render.Spec, error) {
	var spec render.Spec
	if err := json.Unmarshal(raw, &spec); err != nil {
		return spec, fmt.Errorf("template spec: %w", err)
	}
	return spec, nil
}

// token returns a random URL-safe token.
func token() string {
	b := make([]byte, 18)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// RecipientToken is the token a recipient's web app uses for the inbox:
// the tenant and recipient, signed.
func (s *Service) RecipientToken(tenantID, recipientID string) string {
	payload := base64.RawURLEncoding.EncodeToString([]byte(tenantID + "\x00" + recipientID))
	return "rt_" + payload + "." + s.mac(payload)
}

func (s *Service) mac(payload string) string {
	m := hmac.New(sha256.New, s.cfg.TokenKey)
	m.Write([]byte("inbox\x00" + payload))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// parseRecipientToken checks a token and returns its tenant and
// recipient.
func (s *Service) parseRecipientToken(tok string) (tenantID, recipientID string, ok bool) {
	rest, found := strings.CutPrefix(tok, "rt_")
	if !found {
		return "", "", false
	}
	payload, sig, found := strings.Cut(rest, ".")
	if !found || !hmac.Equal([]byte(sig), []byte(s.mac(payload))) {
		return "", "", false
	}
	raw, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		return "", "", false
	}
	tenantID, recipientID, found = strings.Cut(string(raw), "\x00")
	return tenantID, recipientID, found
}

// recipientOf loads a recipient from the store, or from the rule's
// directory collection.
func (s *Service) recipientOf(ctx context.Context, tenantID string, r *Rule, id string) (Recipient, error) {
	if r.dir == nil {
		sr, err := s.cfg.Store.GetRecipient(ctx, tenantID, id)
		if err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return Recipient{}, permanent(fmt.Errorf("no recipient %q", id))
			}
			return Recipient{}, err
		}
		return RecipientOf(sr), nil
	}
	rec, err := s.cfg.Store.GetRecord(ctx, tenantID, r.dir.collection, id)
	if err != nil || rec.Deleted {
		if err == nil || errors.Is(err, store.ErrNotFound) {
			return Recipient{}, permanent(fmt.Errorf("collection %s has no record %q for the recipient", r.dir.collection, id))
		}
		return Recipient{}, err
	}
	var data map[string]any
	if err := json.Unmarshal(rec.Data, &data); err != nil {
		return Recipient{}, err
	}
	vars := map[string]any{"record": data, "key": id}
	out := Recipient{ID: id, Data: data}
	for _, f := range []struct {
		p   *expr.Program
		dst *string
	}{{r.dir.email, &out.Email}, {r.dir.name, &out.Name}, {r.dir.locale, &out.Locale}, {r.dir.tz, &out.TimeZone}} {
		if f.p == nil {
			continue
		}
		v, err := f.p.Eval(vars)
		if err != nil {
			return out, permanent(fmt.Errorf("directory: %w", err))
		}
		*f.dst, _ = expr.Text(v)
	}
	return out, nil
}

// lookups loads the rule's records for templates.
func (s *Service) lookups(ctx context.Context, tenantID string, r *Rule, vars map[string]any) (map[string]any, error) {
	out := map[string]any{}
	for _, l := range r.lookups {
		if l.key != nil {
			v, err := l.key.Eval(vars)
			if err != nil {
				return nil, permanent(fmt.Errorf("lookup %s: key: %w", l.name, err))
			}
			key, _ := expr.Text(v)
			rec, err := s.cfg.Store.GetRecord(ctx, tenantID, l.collection, key)
			switch {
			case errors.Is(err, store.ErrNotFound):
				out[l.name] = nil
				continue
			case err != nil:
				return nil, err
			case rec.Deleted:
				out[l.name] = nil
				continue
			}
			var data any
			if err := json.Unmarshal(rec.Data, &data); err != nil {
				return nil, err
			}
			out[l.name] = data
			continue
		}
		u, err := l.url.Render(vars)
		if err != nil {
			return nil, permanent(fmt.Errorf("lookup %s: url: %w", l.name, err))
		}
		lctx, cancel := context.WithTimeout(ctx, lookupTTL)
		req, err := http.NewRequestWithContext(lctx, http.MethodGet, u, nil)
		if err != nil {
			cancel()
			return nil, permanent(fmt.Errorf("lookup %s: %w", l.name, err))
		}
		req.Header.Set("Accept", "application/json")
		if s.cfg.UserAgent != "" {
			req.Header.Set("User-Agent", s.cfg.UserAgent)
		}
		for h, t := range l.headers {
			v, err := t.Render(vars)
			if err != nil {
				cancel()
				return nil, permanent(fmt.Errorf("lookup %s: header %s: %w", l.name, h, err))
			}
			req.Header.Set(h, v)
		}
		resp, err := s.cfg.Client.Do(req)
		if err != nil {
			cancel()
			return nil, fmt.Errorf("lookup %s: %w", l.name, err)
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, maxLookupDoc+1))
		resp.Body.Close()
		cancel()
		if err != nil {
			return nil, fmt.Errorf("lookup %s: %w", l.name, err)
		}
		if resp.StatusCode < 200 || resp.StatusCode > 299 {
			return nil, fmt.Errorf("lookup %s: GET %s answered %s", l.name, u, resp.Status)
		}
		var doc any
		if len(body) > maxLookupDoc || json.Unmarshal(body, &doc) != nil {
			return nil, permanent(fmt.Errorf("lookup %s: GET %s: the answer is not JSON of at most %d bytes", l.name, u, maxLookupDoc))
		}
		out[l.name] = doc
	}
	return out, nil
}

// permanentError is a failure retrying cannot fix.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

func permanent(err error) error { return &permanentError{err: err} }

// IsPermanent reports whether retrying err cannot help.
func IsPermanent(err error) bool {
	var p *permanentError
	return errors.As(err, &p)
}

// Permanent marks the error as not worth retrying (for callers outside
// this package, such as workflow steps).
func (e *permanentError) Permanent() bool { return true }

// NotifyStep runs a workflow's notify step: rule (without events) about
// ev, with the run's vars; id makes the messages' ids.
func (s *Service) NotifyStep(ctx context.Context, tenantID string, rule RuleDef, ev *event.Event, vars map[string]any, id string) ([]string, error) {
	r, err := CompileRule(rule, false)
	if err != nil {
		return nil, permanent(err)
	}
	// A step's rule is not a stored rule: its name never matches one.
	r.Name = "step:" + rule.Name
	msgs, err := s.Notify(ctx, Notification{TenantID: tenantID, Rule: r, Event: ev, Vars: vars, ID: id})
	if err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(msgs))
	var failed []string
	for _, m := range msgs {
		ids = append(ids, m.ID)
		if m.Status == store.MessageFailed {
			failed = append(failed, m.Channel+": "+m.Error)
		}
	}
	if len(failed) == len(msgs) && len(msgs) > 0 {
		return ids, permanent(errors.New(strings.Join(failed, "; ")))
	}
	return ids, nil
}

// CheckRule validates a notify step's rule. Settings read when messages
// are sent (directory, webhook_type, digest_template) belong to stored
// rules only: a step refuses them rather than ignore them.
func CheckRule(rule RuleDef) error {
	switch {
	case rule.Directory != nil:
		return fieldErr("directory", "is for notify rules only; a step's recipients come from the recipient list")
	case rule.WebhookType != "":
		return fieldErr("webhook_type", "is for notify rules only; a step's webhook messages are content.message events")
	case rule.DigestTemplate != "":
		return fieldErr("digest_template", "is for notify rules only")
	}
	_, err := CompileRule(rule, false)
	return err
}
