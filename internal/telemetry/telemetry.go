// Package telemetry is Hookline's OpenTelemetry tracing: the tracer
// provider built from the OTEL_* variables (an OTLP/HTTP exporter, or a
// no-op provider when tracing is off), the server spans of the API and of
// /in/{source}, the client spans and traceparent header of outgoing
// requests, and the W3C traceparent kept with each event.
//
// Off, nothing is recorded and no span is allocated, but a traceparent
// received with an event is still carried to its deliveries: propagation
// costs a header.
package telemetry

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"strings"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// TracerName names Hookline's tracer (the instrumentation scope).
const TracerName = "github.com/hookline/hookline"

// Tracing is the process's tracer provider. Build it with New; the zero
// value and nil are tracing off.
type Tracing struct {
	provider trace.TracerProvider
	sdk      *sdktrace.TracerProvider
}

// Off is tracing off: a no-op provider.
var Off = &Tracing{}

// New returns the tracing of cfg: a provider exporting to cfg.Endpoint
// when cfg.Enabled, else Off. version is the service.version resource
// attribute. Shutdown flushes and stops it.
func New(cfg Config, version string) (*Tracing, error) {
	if !cfg.Enabled {
		return Off, nil
	}
	opts := []otlptracehttp.Option{otlptracehttp.WithEndpointURL(cfg.Endpoint)}
	if len(cfg.Headers) > 0 {
		opts = append(opts, otlptracehttp.WithHeaders(cfg.Headers))
	}
	if cfg.Timeout > 0 {
		opts = append(opts, otlptracehttp.WithTimeout(cfg.Timeout))
	}
	if cfg.Gzip {
		opts = append(opts, otlptracehttp.WithCompression(otlptracehttp.GzipCompression))
	} else {
		opts = append(opts, otlptracehttp.WithCompression(otlptracehttp.NoCompression))
	}
	exp, err := otlptracehttp.New(context.Background(), opts...)
	if err != nil {
		return nil, fmt.Errorf("tracing: otlp exporter: %w", err)
	}
	attrs := []attribute.KeyValue{
		attribute.String("service.name", cmp.Or(cfg.ServiceName, cfg.Attributes["service.name"], "hookline")),
		attribute.String("service.version", version),
	}
	for k, v := range cfg.Attributes {
		if k != "service.name" {
			attrs = append(attrs, attribute.String(k, v))
		}
	}
	var bsp []sdktrace.BatchSpanProcessorOption
	if cfg.BatchDelay > 0 {
		bsp = append(bsp, sdktrace.WithBatchTimeout(cfg.BatchDelay))
	}
	if cfg.QueueSize > 0 {
		bsp = append(bsp, sdktrace.WithMaxQueueSize(cfg.QueueSize))
	}
	sdk := sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(exp, bsp...),
		sdktrace.WithResource(resource.NewSchemaless(attrs...)),
		sdktrace.WithSampler(sampler(cfg.Sampler, cfg.SamplerArg)),
	)
	return &Tracing{provider: sdk, sdk: sdk}, nil
}

// sampler is the sampler OTEL_TRACES_SAMPLER names.
func sampler(name string, ratio float64) sdktrace.Sampler {
	switch name {
	case "always_on":
		return sdktrace.AlwaysSample()
	case "always_off":
		return sdktrace.NeverSample()
	case "traceidratio":
		return sdktrace.TraceIDRatioBased(ratio)
	case "parentbased_always_off":
		return sdktrace.ParentBased(sdktrace.NeverSample())
	case "parentbased_traceidratio":
		return sdktrace.ParentBased(sdktrace.TraceIDRatioBased(ratio))
	default:
		return sdktrace.ParentBased(sdktrace.AlwaysSample())
	}
}

// Enabled says whether spans are recorded and exported.
func (t *Tracing) Enabled() bool { return t != nil && t.sdk != nil }

// Provider returns the tracer provider: the SDK's, or a no-op one.
func (t *Tracing) Provider() trace.TracerProvider {
	if !t.Enabled() {
		return noop.NewTracerProvider()
	}
	return t.provider
}

// Tracer returns Hookline's tracer: a no-op one when tracing is off.
func (t *Tracing) Tracer() trace.Tracer { return t.Provider().Tracer(TracerName) }

// Shutdown exports the spans still queued and stops the exporter.
func (t *Tracing) Shutdown(ctx context.Context) error {
	if !t.Enabled() {
		return nil
	}
	if err := t.sdk.Shutdown(ctx); err != nil {
		return fmt.Errorf("tracing: shutdown: %w", err)
	}
	return nil
}

// propagator reads and writes the W3C traceparent header only: it is what
// is stored with events, and baggage is not carried.
var propagator = propagation.TraceContext{}

// Handler returns next with a server span per request, named by the route
// pattern the mux inside next matched ("POST /v1/events",
// "POST /in/{source}"), child of the request's traceparent when it has
// one. Off, it only takes the request's traceparent into the context, so
// what the request publishes still carries it.
func (t *Tracing) Handler(next http.Handler) http.Handler {
	if !t.Enabled() {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			// Indexed by its canonical form: Header.Get would allocate
			// the canonical key on every request.
			if len(r.Header["Traceparent"]) > 0 {
				r = r.WithContext(propagator.Extract(r.Context(), propagation.HeaderCarrier(r.Header)))
			}
			next.ServeHTTP(w, r)
		})
	}
	named := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r)
		if r.Pattern != "" {
			// The pattern of the inner mux, more precise than the one
			// the handler started with ("/v1/").
			_, route, _ := strings.Cut(r.Pattern, " ")
			trace.SpanFromContext(r.Context()).SetAttributes(attribute.String("http.route", cmp.Or(route, r.Pattern)))
		}
	})
	return otelhttp.NewHandler(named, "http",
		otelhttp.WithTracerProvider(t.provider),
		otelhttp.WithMeterProvider(metricnoop.NewMeterProvider()),
		otelhttp.WithPropagators(propagator),
		// Called again once next has served, with the pattern it matched.
		otelhttp.WithSpanNameFormatter(spanName),
	)
}

// spanName is the server span's name: the pattern, with the method in
// front when the pattern has none.
func spanName(_ string, r *http.Request) string {
	switch {
	case r.Pattern == "":
		return r.Method
	case strings.Contains(r.Pattern, " "):
		return r.Pattern
	default:
		return r.Method + " " + r.Pattern
	}
}

// Client returns c with its transport traced: a client span per request
// and the traceparent of the request's context in its headers. Off, only
// the header is added, and only when the context carries a trace (an event
// published with a traceparent). c is changed and returned.
func (t *Tracing) Client(c *http.Client) *http.Client {
	base := c.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	if t.Enabled() {
		c.Transport = otelhttp.NewTransport(base,
			otelhttp.WithTracerProvider(t.provider),
			otelhttp.WithMeterProvider(metricnoop.NewMeterProvider()),
			otelhttp.WithPropagators(propagator),
		)
		return c
	}
	c.Transport = propagating{base}
	return c
}

// propagating adds the traceparent of a request's context to it.
type propagating struct{ base http.RoundTripper }

func (p propagating) RoundTrip(r *http.Request) (*http.Response, error) {
	sc := trace.SpanContextFromContext(r.Context())
	if !sc.IsValid() {
		return p.base.RoundTrip(r)
	}
	// A RoundTripper must not change the request it is given.
	r = r.Clone(r.Context())
	r.Header.Set(HeaderTraceparent, Traceparent(sc))
	return p.base.RoundTrip(r)
}

// CloseIdleConnections lets http.Client.CloseIdleConnections reach the
// transport.
func (p propagating) CloseIdleConnections() {
	if c, ok := p.base.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}
