package telemetry

import (
	"context"
	"encoding/hex"

	"go.opentelemetry.io/otel/trace"
)

// HeaderTraceparent is the W3C Trace Context header.
const HeaderTraceparent = "traceparent"

// Traceparent formats sc as a version 00 traceparent header value
// ("00-{trace id}-{span id}-{flags}"), or "" when sc is not valid.
func Traceparent(sc trace.SpanContext) string {
	if !sc.IsValid() {
		return ""
	}
	tid, sid := sc.TraceID(), sc.SpanID()
	var b [55]byte
	copy(b[:], "00-")
	hex.Encode(b[3:35], tid[:])
	b[35] = '-'
	hex.Encode(b[36:52], sid[:])
	b[52] = '-'
	hex.Encode(b[53:55], []byte{byte(sc.TraceFlags() & trace.FlagsSampled)})
	return string(b[:])
}

// FromContext returns the traceparent of ctx's span (recording or
// remote), or "" when ctx carries no trace.
func FromContext(ctx context.Context) string {
	return Traceparent(trace.SpanContextFromContext(ctx))
}

// WithParent returns ctx with tp, a stored traceparent, as its remote
// parent: spans started in it, and requests sent with it, continue that
// trace. A tp that does not parse leaves ctx as it is.
func WithParent(ctx context.Context, tp string) context.Context {
	if tp == "" {
		return ctx
	}
	return propagator.Extract(ctx, one(tp))
}

// one is a carrier of a single traceparent.
type one string

func (o one) Get(key string) string {
	if key == HeaderTraceparent {
		return string(o)
	}
	return ""
}
func (one) Set(string, string) {}
func (one) Keys() []string     { return []string{HeaderTraceparent} }
