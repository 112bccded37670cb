// Package accesslog gives every HTTP request a request id, answered in
// X-Request-Id, and writes one access log line per request: method, route
// pattern, status, duration, tenant and request id. It logs no path, query
// string or header, so no token or key can reach the log through it.
package accesslog

import (
	"cmp"
	"context"
	"crypto/rand"
	"log/slog"
	"net/http"

	"github.com/hookline/hookline/internal/clock"
)

// Header is the request and response header of the request id.
const Header = "X-Request-Id"

// MaxIDLen bounds a request id taken from a request; a longer one is
// replaced by a generated id.
const MaxIDLen = 128

// Config configures Handler.
type Config struct {
	Logger *slog.Logger
	Clock  clock.Clock
	// Quiet are the route patterns logged at debug rather than info:
	// health probes and metric scrapes, which come every few seconds.
	Quiet map[string]bool
}

// record is what the handlers of one request tell its log line.
type record struct {
	id     string
	tenant string
	route  string
}

type ctxKey struct{}

// state is what Handler keeps of one request: its record, its writer and
// the value of its X-Request-Id header.
type state struct {
	record  record
	sw      statusWriter
	idValue [1]string
}

// SetTenant records the tenant a request acts for (known once the handler
// has authenticated it or found its source). Outside Handler it does
// nothing.
func SetTenant(ctx context.Context, tenantID string) {
	if rec, ok := ctx.Value(ctxKey{}).(*record); ok {
		rec.tenant = tenantID
	}
}

// RequestID returns the request id of ctx, or "" outside Handler.
func RequestID(ctx context.Context) string {
	if rec, ok := ctx.Value(ctxKey{}).(*record); ok {
		return rec.id
	}
	return ""
}

// Handler serves next with the request's id in X-Request-Id (taken from
// the request when it is sane, else generated) and logs one line per
// request when next returns. The route is the pattern of the ServeMux
// that served the request (ServeMux sets Request.Pattern on the request
// it is given); "" when none matched.
func Handler(next http.Handler, cfg Config) http.Handler {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	clk := cfg.Clock
	if clk == nil {
		clk = clock.Real{}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := clk.Now()
		// One allocation for what lives as long as the request.
		st := &state{record: record{id: requestID(r.Header.Get(Header))}, sw: statusWriter{ResponseWriter: w}}
		rec, sw := &st.record, &st.sw
		st.idValue[0] = rec.id
		w.Header()[Header] = st.idValue[:] // Header is canonical: Set without its allocation
		r = r.WithContext(context.WithValue(r.Context(), ctxKey{}, rec))
		defer func() {
			level := slog.LevelInfo
			if cfg.Quiet[r.Pattern] {
				level = slog.LevelDebug
			}
			ctx := r.Context()
			if !log.Enabled(ctx, level) {
				return
			}
			status := sw.status
			if status == 0 {
				// Nothing written: net/http answers 200.
				status = http.StatusOK
			}
			log.LogAttrs(ctx, level, "http request",
				slog.String("method", r.Method),
				slog.String("route", cmp.Or(rec.route, r.Pattern)),
				slog.Int("status", status),
				slog.Float64("duration_ms", float64(clk.Now().Sub(start).Microseconds())/1000),
				slog.Int64("bytes", sw.written),
				slog.String("tenant_id", rec.tenant),
				slog.String("request_id", rec.id),
			)
		}()
		next.ServeHTTP(sw, r)
	})
}

// Routed returns h recording, for the access log, the route pattern that h
// (a ServeMux, or a handler around one) matched. Handler reads the pattern
// from the request it passed on, which a ServeMux sets; a handler between
// them that serves a copy of the request (a tracing middleware) hides it,
// so h behind such a handler is wrapped in Routed.
func Routed(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r)
		if rec, ok := r.Context().Value(ctxKey{}).(*record); ok && r.Pattern != "" {
			rec.route = r.Pattern
		}
	})
}

// requestID returns the id the client sent when it is sane (1 to
// MaxIDLen characters of letters, digits and "-_.:"), else a new random
// one: an id goes into logs and back to the client, so nothing that could
// forge a log line or a header is kept.
func requestID(sent string) string {
	if sane(sent) {
		return sent
	}
	return rand.Text()
}

func sane(id string) bool {
	if id == "" || len(id) > MaxIDLen {
		return false
	}
	for i := range len(id) {
		switch c := id[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '_', c == '.', c == ':':
		default:
			return false
		}
	}
	return true
}

// statusWriter remembers the status and counts the body bytes. Unwrap
// lets http.ResponseController reach the connection's writer (flushes and
// write deadlines of the event streams).
type statusWriter struct {
	http.ResponseWriter
	status  int
	written int64
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 && code >= 200 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(p)
	w.written += int64(n)
	return n, err
}

// Flush keeps statusWriter an http.Flusher for code that asserts one.
func (w *statusWriter) Flush() {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

var _ http.Flusher = (*statusWriter)(nil)
