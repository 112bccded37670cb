package engine

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/hookline/hookline/internal/event"
	"github.com/hookline/hookline/internal/store"
	"github.com/hookline/hookline/internal/telemetry"
)

// noSpan is the span of tracing off: it records nothing and costs no
// allocation.
var noSpan = trace.SpanFromContext(context.Background())

// startCommit starts the span of one publish — routing, the group commit
// and its answer — and gives each event without a traceparent the one of
// ctx: the commit span's when tracing is on (a child of the request's
// span), else the trace the request came with, if any. The traceparent is
// committed with the event, and its attempts continue that trace.
func (e *Engine) startCommit(ctx context.Context, evs []event.Event) (context.Context, trace.Span) {
	span := noSpan
	if e.cfg.Tracer != nil {
		ctx, span = e.cfg.Tracer.Start(ctx, "commit", trace.WithAttributes(attribute.Int("hookline.events", len(evs))))
	}
	if tp := telemetry.FromContext(ctx); tp != "" {
		for i := range evs {
			if evs[i].Traceparent == "" {
				evs[i].Traceparent = tp
			}
		}
	}
	return ctx, span
}

// startAttempt returns ctx with the trace of t's event (or of the attempt
// that scheduled t, see store.Task.Traceparent) as parent and, when
// tracing is on, the span of the attempt (one delivery, workflow step,
// sync, notify rule or message send), named "attempt {kind}". An
// executor's HTTP requests are its children and carry its traceparent;
// off, they carry the event's.
func (e *Engine) startAttempt(ctx context.Context, t *store.Task) (context.Context, trace.Span) {
	switch {
	case t.Traceparent != "":
		ctx = telemetry.WithParent(ctx, t.Traceparent)
	case t.Event != nil:
		ctx = telemetry.WithParent(ctx, t.Event.Traceparent)
	}
	if e.cfg.Tracer == nil {
		return ctx, noSpan
	}
	return e.cfg.Tracer.Start(ctx, "attempt "+t.Kind, trace.WithAttributes(
		attribute.String("hookline.task.kind", t.Kind),
		attribute.String("hookline.task.id", t.ID),
		attribute.String("hookline.event.id", t.EventID),
		attribute.String("hookline.destination.id", t.DestinationID),
		attribute.Int("hookline.attempt", t.Attempts+1),
	))
}

// endSpan marks span failed with err; nil leaves it unset (ok).
func endSpan(span trace.Span, err error) {
	if err != nil && span.IsRecording() {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
}
