package telemetry_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/trace"

	"github.com/hookline/hookline/internal/telemetry"
)

func lookup(env map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := env[k]; return v, ok }
}

func TestFromEnv(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		env  map[string]string
		want telemetry.Config
	}{
		"nothing set is off": {env: nil, want: telemetry.Config{}},
		"a base endpoint turns it on": {
			env:  map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318/"},
			want: telemetry.Config{Enabled: true, Endpoint: "http://collector:4318/v1/traces"},
		},
		"the traces endpoint is used as it is and wins": {
			env:  map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://a:4318", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "https://b/otlp/traces"},
			want: telemetry.Config{Enabled: true, Endpoint: "https://b/otlp/traces"},
		},
		"otlp exporter without endpoint goes to localhost": {
			env:  map[string]string{"OTEL_TRACES_EXPORTER": "otlp"},
			want: telemetry.Config{Enabled: true, Endpoint: telemetry.DefaultEndpoint},
		},
		"none turns it off": {
			env:  map[string]string{"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://a:4318"},
			want: telemetry.Config{Endpoint: "http://a:4318/v1/traces"},
		},
		"sdk disabled turns it off": {
			env:  map[string]string{"OTEL_SDK_DISABLED": "true", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://a:4318"},
			want: telemetry.Config{Endpoint: "http://a:4318/v1/traces"},
		},
		"every setting": {
			env: map[string]string{
				"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://a/v1/traces",
				"OTEL_EXPORTER_OTLP_PROTOCOL":        "http/protobuf",
				"OTEL_EXPORTER_OTLP_HEADERS":         "x-api-key=abc%20def, tenant=1",
				"OTEL_EXPORTER_OTLP_TRACES_HEADERS":  "x-api-key=traces",
				"OTEL_EXPORTER_OTLP_TIMEOUT":         "2500",
				"OTEL_EXPORTER_OTLP_COMPRESSION":     "gzip",
				"OTEL_SERVICE_NAME":                  "hooks",
				"OTEL_RESOURCE_ATTRIBUTES":           "deployment.environment=prod,team=pay",
				"OTEL_TRACES_SAMPLER":                "parentbased_traceidratio",
				"OTEL_TRACES_SAMPLER_ARG":            "0.25",
				"OTEL_BSP_SCHEDULE_DELAY":            "100",
				"OTEL_BSP_MAX_QUEUE_SIZE":            "500",
			},
			want: telemetry.Config{Enabled: true, Endpoint: "http://a/v1/traces", Headers: map[string]string{"x-api-key": "traces"},
				Timeout: 2500 * time.Millisecond, Gzip: true, ServiceName: "hooks",
				Attributes: map[string]string{"deployment.environment": "prod", "team": "pay"},
				Sampler:    "parentbased_traceidratio", SamplerArg: 0.25, BatchDelay: 100 * time.Millisecond, QueueSize: 500},
		},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, err := telemetry.FromEnv(lookup(tc.env))
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

func TestFromEnvErrors(t *testing.T) {
	t.Parallel()
	_, err := telemetry.FromEnv(lookup(map[string]string{
		"OTEL_TRACES_EXPORTER":        "zipkin",
		"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
		"OTEL_EXPORTER_OTLP_ENDPOINT": "collector:4318",
		"OTEL_EXPORTER_OTLP_HEADERS":  "secret-token-no-equals",
		"OTEL_EXPORTER_OTLP_TIMEOUT":  "10s",
		"OTEL_TRACES_SAMPLER":         "sometimes",
	}))
	require.Error(t, err)
	for _, name := range []string{"OTEL_TRACES_EXPORTER", "OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_EXPORTER_OTLP_ENDPOINT",
		"OTEL_EXPORTER_OTLP_HEADERS", "OTEL_EXPORTER_OTLP_TIMEOUT", "OTEL_TRACES_SAMPLER"} {
		require.Contains(t, err.Error(), name)
	}
	require.NotContains(t, err.Error(), "secret-token", "headers may hold a key: their value is not shown")
}

func TestTraceparentRoundTrip(t *testing.T) {
	t.Parallel()
	const tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	ctx := telemetry.WithParent(context.Background(), tp)
	require.Equal(t, tp, telemetry.FromContext(ctx))
	sc := trace.SpanContextFromContext(ctx)
	require.True(t, sc.IsRemote())
	require.True(t, sc.IsSampled())

	for _, bad := range []string{"", "garbage", "00-00000000000000000000000000000000-00f067aa0ba902b7-01", "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01"} {
		require.Equal(t, "", telemetry.FromContext(telemetry.WithParent(context.Background(), bad)), "%q is no parent", bad)
	}
	unsampled := "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"
	require.Equal(t, unsampled, telemetry.FromContext(telemetry.WithParent(context.Background(), unsampled)))
}

// TestOffCarriesTheTraceparent checks tracing off: a request's traceparent
// reaches the handler's context, and a request sent in that context
// carries it on; without one nothing is added.
func TestOffCarriesTheTraceparent(t *testing.T) {
	t.Parallel()
	const tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	tr := telemetry.Off
	require.False(t, tr.Enabled())
	got := make(chan string, 2)
	downstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r.Header.Get("traceparent")
	}))
	defer downstream.Close()
	c := tr.Client(&http.Client{})
	srv := httptest.NewServer(tr.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, err := http.NewRequestWithContext(r.Context(), http.MethodPost, downstream.URL, nil)
		require.NoError(t, err)
		resp, err := c.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
	})))
	defer srv.Close()

	req, err := http.NewRequest(http.MethodGet, srv.URL, nil)
	require.NoError(t, err)
	req.Header.Set("traceparent", tp)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, tp, <-got)

	resp, err = http.Get(srv.URL)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, "", <-got, "no trace, no header")
}

func TestNewOff(t *testing.T) {
	t.Parallel()
	tr, err := telemetry.New(telemetry.Config{}, "v1")
	require.NoError(t, err)
	require.False(t, tr.Enabled())
	require.NoError(t, tr.Shutdown(context.Background()))
	_, span := tr.Tracer().Start(context.Background(), "x")
	require.False(t, span.IsRecording())
}
