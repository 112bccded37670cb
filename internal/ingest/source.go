// Package ingest is Hookline's receiving end: POST /in/{source} verifies a
// request against the source's scheme on the raw bytes, answers handshakes,
// normalises the body to JSON, picks the event type, deduplicates and
// commits the event before answering. Everything after that is tasks.
package ingest

import (
	"encoding/json"
	"errors"
	"regexp"
	"strings"
	"time"

	"github.com/hookline/hookline/internal/collection/capture"
	"github.com/hookline/hookline/internal/event"
	"github.com/hookline/hookline/internal/expr"
	"github.com/hookline/hookline/internal/field"
	"github.com/hookline/hookline/internal/signature"
	"github.com/hookline/hookline/internal/store"
)

// Defaults and limits of a source.
const (
	DefaultDedupWindow = 7 * 24 * time.Hour
	MaxDedupWindow     = 90 * 24 * time.Hour
	DefaultMaxBody     = 1 << 20
	MaxBody            = 16 << 20
	maxResponseBody    = 4 << 10
	maxKeepHeaders     = 50
)

// Rules is a source's routing configuration, stored as store.Source.Config.
type Rules struct {
	EventType   EventTypeRule `json:"event_type,omitzero" yaml:"event_type,omitempty"`
	Dedup       DedupRule     `json:"dedup,omitzero" yaml:"dedup,omitempty"`
	Response    ResponseRule  `json:"response,omitzero" yaml:"response,omitempty"`
	Handshake   HandshakeRule `json:"handshake,omitzero" yaml:"handshake,omitempty"`
	KeepHeaders []string      `json:"keep_headers,omitempty" yaml:"keep_headers,omitempty"`
	// MaxBodyBytes bounds the request body; default 1 MiB, at most 16 MiB.
	MaxBodyBytes int64 `json:"max_body_bytes,omitempty" yaml:"max_body_bytes,omitempty"`
	// Postgres is set on sources of kind postgres: the tables whose
	// changes become events (the DSN is the source's, Source.DSN).
	Postgres *PostgresRule `json:"postgres,omitempty" yaml:"postgres,omitempty"`
}

// PostgresRule names the watched tables of a postgres source and the
// schema that holds its outbox.
type PostgresRule struct {
	Tables []string `json:"tables" yaml:"tables"`
	Schema string   `json:"schema,omitempty" yaml:"schema,omitempty"`
}

// Capture returns the change capture configuration of a postgres source.
// Its owner is the tenant: another Hookline installation (or tenant) using
// the same source name and schema in the watched database is refused
// rather than sharing the source's triggers and changes.
func (s *Source) Capture() (capture.Config, bool) {
	if s.Kind != KindPostgres || s.Rules.Postgres == nil {
		return capture.Config{}, false
	}
	return capture.Config{DSN: s.DSN, Source: s.Name, Owner: s.TenantID,
		Tables: s.Rules.Postgres.Tables, Schema: s.Rules.Postgres.Schema}, true
}

// EventTypeRule picks the event type: Fixed, else the value of Header,
// else the value at Path in the normalised data, else Expression (over
// data, headers, query); Prefix is prepended. Without any, CloudEvents use
// ce-type and the verification scheme's provider default applies (e.g.
// GitHub's X-GitHub-Event as github.<event>), else "<source>.received".
type EventTypeRule struct {
	Fixed      string `json:"fixed,omitempty" yaml:"fixed,omitempty"`
	Header     string `json:"header,omitempty" yaml:"header,omitempty"`
	Path       string `json:"path,omitempty" yaml:"path,omitempty"`
	Expression string `json:"expression,omitempty" yaml:"expression,omitempty"`
	Prefix     string `json:"prefix,omitempty" yaml:"prefix,omitempty"`
}

// DedupRule says how duplicates are recognised: by the provider's delivery
// id (webhook-id, X-GitHub-Delivery, Stripe's event id, …), or by Header or
// the values at Paths when set; within Window (default 7 days).
type DedupRule struct {
	Disabled bool               `json:"disabled,omitempty" yaml:"disabled,omitempty"`
	Header   string             `json:"header,omitempty" yaml:"header,omitempty"`
	Paths    []string           `json:"paths,omitempty" yaml:"paths,omitempty"`
	Window   signature.Duration `json:"window,omitzero" yaml:"window,omitempty"`
}

// ResponseRule is the answer to an accepted request. Default: 200 with
// {"id": "<event id>"} (and "duplicate": true for duplicates).
type ResponseRule struct {
	Status      int    `json:"status,omitempty" yaml:"status,omitempty"`
	Body        string `json:"body,omitempty" yaml:"body,omitempty"`
	ContentType string `json:"content_type,omitempty" yaml:"content_type,omitempty"`
}

// HandshakeRule answers URL-validation requests: EchoQuery echoes a query
// parameter of a GET (e.g. "hub.challenge"), EchoBodyPath echoes the value
// at a path of a verified POST body when present (Slack's url_verification
// challenge is answered without configuration).
type HandshakeRule struct {
	EchoQuery    string `json:"echo_query,omitempty" yaml:"echo_query,omitempty"`
	EchoBodyPath string `json:"echo_body_path,omitempty" yaml:"echo_body_path,omitempty"`
}

// Source is a parsed, validated source ready to receive.
type Source struct {
	store.Source
	// Kind is KindHTTP or KindPostgres.
	Kind string
	// Scheme verifies the requests of a KindHTTP source; zero for others.
	Scheme signature.Scheme
	// DSN is the database of a KindPostgres source.
	DSN    string
	Rules  Rules
	typeEx *expr.Program
}

var sourceName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

// ValidName reports whether name can be a source name (it is a URL path
// segment: lowercase letters, digits, '-' and '_').
func ValidName(name string) error {
	if !sourceName.MatchString(name) {
		return errors.New("must be 1-63 lowercase letters, digits, '-' or '_', starting with a letter or digit")
	}
	return nil
}

// Parse decodes and validates a stored source. Errors name the field.
func Parse(src store.Source) (*Source, error) {
	s := &Source{Source: src}
	if err := ValidName(src.Name); err != nil {
		return nil, field.Wrap("name", err)
	}
	if isPostgres(src.Verification) {
		dsn, err := parsePostgres(src.Verification)
		if err != nil {
			return nil, err
		}
		s.Kind, s.DSN = KindPostgres, dsn
	} else {
		if err := json.Unmarshal(src.Verification, &s.Scheme); err != nil {
			return nil, field.Wrap("verification", err)
		}
		if err := s.Scheme.Validate(); err != nil {
			return nil, err
		}
		s.Kind = KindHTTP
	}
	if len(src.Config) > 0 {
		dec := json.NewDecoder(strings.NewReader(string(src.Config)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&s.Rules); err != nil {
			return nil, field.Wrap("rules", err)
		}
	}
	if err := s.validateRules(); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Source) validateRules() error {
	r := &s.Rules
	et := r.EventType
	set := 0
	for _, v := range []string{et.Fixed, et.Header, et.Path, et.Expression} {
		if v != "" {
			set++
		}
	}
	if set > 1 {
		return field.Errorf("event_type", "set only one of fixed, header, path or expression")
	}
	if et.Fixed != "" {
		if err := event.ValidateType(et.Prefix + et.Fixed); err != nil {
			return field.Wrap("event_type.fixed", err)
		}
	}
	if et.Prefix != "" && !strings.HasSuffix(et.Prefix, ".") {
		return field.Errorf("event_type.prefix", `must end with "." such as "github."`)
	}
	if et.Expression != "" {
		p, err := expr.Compile(et.Expression, "data", "headers", "query")
		if err != nil {
			return field.Wrap("event_type.expression", err)
		}
		s.typeEx = p
	}
	if w := r.Dedup.Window.Duration; w < 0 || w > MaxDedupWindow {
		return field.Errorf("dedup.window", "must be from 0s to %s", MaxDedupWindow)
	}
	if len(r.Dedup.Paths) > 10 {
		return field.Errorf("dedup.paths", "at most 10 paths")
	}
	if st := r.Response.Status; st != 0 && (st < 200 || st > 299) {
		return field.Errorf("response.status", "must be a 2xx status, got %d", st)
	}
	if len(r.Response.Body) > maxResponseBody {
		return field.Errorf("response.body", "at most %d bytes", maxResponseBody)
	}
	if len(r.KeepHeaders) > maxKeepHeaders {
		return field.Errorf("keep_headers", "at most %d headers", maxKeepHeaders)
	}
	if r.MaxBodyBytes < 0 || r.MaxBodyBytes > MaxBody {
		return field.Errorf("max_body_bytes", "must be from 0 (default %d) to %d", DefaultMaxBody, MaxBody)
	}
	switch {
	case s.Kind == KindPostgres && r.Postgres == nil:
		return field.Errorf("postgres", "tables are required for a postgres source")
	case s.Kind != KindPostgres && r.Postgres != nil:
		return field.Errorf("postgres", "applies only to sources of kind postgres")
	case r.Postgres != nil:
		cfg, _ := s.Capture()
		if err := cfg.Validate(); err != nil {
			var ce *capture.ConfigError
			if errors.As(err, &ce) {
				return field.Wrap("postgres", &field.Error{Path: strings.TrimPrefix(ce.Field, "postgres."), Err: ce.Err})
			}
			return field.Wrap("postgres", err)
		}
	}
	return nil
}

func (s *Source) maxBody() int64 {
	if s.Rules.MaxBodyBytes > 0 {
		return s.Rules.MaxBodyBytes
	}
	return DefaultMaxBody
}

func (s *Source) dedupWindow() time.Duration {
	if w := s.Rules.Dedup.Window.Duration; w > 0 {
		return w
	}
	return DefaultDedupWindow
}

// providerType is the default event-type rule of each verification scheme.
func providerType(kind string) EventTypeRule {
	switch kind {
	case signature.KindGitHub:
		return EventTypeRule{Header: "X-GitHub-Event", Prefix: "github."}
	case signature.KindStripe:
		return EventTypeRule{Path: "type", Prefix: "stripe."}
	case signature.KindShopify:
		return EventTypeRule{Header: "X-Shopify-Topic", Prefix: "shopify."}
	case signature.KindSlack:
		return EventTypeRule{Path: "event.type", Prefix: "slack."}
	case signature.KindStandardWebhooks:
		return EventTypeRule{Path: "type"}
	}
	return EventTypeRule{}
}

var typeJunk = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)

// sanitizeType turns a provider's name ("orders/create", "Pull Request")
// into a valid event type segment list.
func sanitizeType(s string) string {
	s = strings.NewReplacer("/", ".", ":", ".").Replace(strings.TrimSpace(s))
	s = typeJunk.ReplaceAllString(s, "_")
	s = strings.Trim(s, ".")
	for strings.Contains(s, "..") {
		s = strings.ReplaceAll(s, "..", ".")
	}
	return s
}
