package telemetry

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Vars are the OTEL_* environment variables FromEnv reads; docs/config.md
// describes each.
var Vars = []string{
	"OTEL_SDK_DISABLED",
	"OTEL_TRACES_EXPORTER",
	"OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
	"OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
	"OTEL_EXPORTER_OTLP_HEADERS", "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
	"OTEL_EXPORTER_OTLP_TIMEOUT", "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT",
	"OTEL_EXPORTER_OTLP_COMPRESSION", "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION",
	"OTEL_SERVICE_NAME", "OTEL_RESOURCE_ATTRIBUTES",
	"OTEL_TRACES_SAMPLER", "OTEL_TRACES_SAMPLER_ARG",
	"OTEL_BSP_SCHEDULE_DELAY", "OTEL_BSP_MAX_QUEUE_SIZE",
}

// DefaultEndpoint is where traces go when tracing is turned on with
// OTEL_TRACES_EXPORTER=otlp and no endpoint: a collector on this host.
const DefaultEndpoint = "http://localhost:4318/v1/traces"

// Config is the tracing configuration. The zero Config is tracing off.
type Config struct {
	// Enabled turns the exporter on; off, no span is recorded but a
	// received traceparent is still carried through.
	Enabled bool
	// Endpoint is the full URL spans are POSTed to (OTLP/HTTP protobuf).
	Endpoint string
	// Headers are sent with every export (an API key of the backend).
	Headers map[string]string
	// Timeout bounds one export; zero is the exporter's 10 s.
	Timeout time.Duration
	// Gzip compresses exports.
	Gzip bool
	// ServiceName is the resource's service.name; default "hookline".
	ServiceName string
	// Attributes are the resource attributes of OTEL_RESOURCE_ATTRIBUTES.
	Attributes map[string]string
	// Sampler is an OTEL_TRACES_SAMPLER name and SamplerArg its ratio;
	// default parentbased_always_on.
	Sampler    string
	SamplerArg float64
	// BatchDelay is how long spans wait to be sent in a batch (default
	// 5 s); QueueSize bounds the spans waiting (default 2048: more are
	// dropped, never block a request).
	BatchDelay time.Duration
	QueueSize  int
}

// FromEnv reads the OTEL_* variables of Vars through lookup (never the
// process environment). Tracing is on when an OTLP endpoint is set or
// OTEL_TRACES_EXPORTER is "otlp", and off with OTEL_SDK_DISABLED=true or
// OTEL_TRACES_EXPORTER=none. A value that does not parse is an error
// naming the variable.
func FromEnv(lookup func(string) (string, bool)) (Config, error) {
	get := func(name string) string {
		if lookup == nil {
			return ""
		}
		v, _ := lookup(name)
		return strings.TrimSpace(v)
	}
	// signal returns the traces variable of a pair, else the general one.
	signal := func(general string) (string, string) {
		name := strings.Replace(general, "OTEL_EXPORTER_OTLP_", "OTEL_EXPORTER_OTLP_TRACES_", 1)
		if v := get(name); v != "" {
			return name, v
		}
		return general, get(general)
	}
	var cfg Config
	var errs []error
	bad := func(name, v, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s=%q: %s", name, v, fmt.Sprintf(format, args...)))
	}

	exporter := strings.ToLower(get("OTEL_TRACES_EXPORTER"))
	switch exporter {
	case "", "otlp", "none":
	default:
		bad("OTEL_TRACES_EXPORTER", exporter, "only otlp (OTLP over HTTP) or none")
	}
	if name, v := signal("OTEL_EXPORTER_OTLP_PROTOCOL"); v != "" && v != "http/protobuf" {
		bad(name, v, "only http/protobuf is supported")
	}
	endpoint := get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
	endpointVar := "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
	if endpoint == "" {
		if base := get("OTEL_EXPORTER_OTLP_ENDPOINT"); base != "" {
			endpointVar = "OTEL_EXPORTER_OTLP_ENDPOINT"
			endpoint = strings.TrimSuffix(base, "/") + "/v1/traces"
		}
	}
	cfg.Enabled = endpoint != "" || exporter == "otlp"
	if exporter == "none" {
		cfg.Enabled = false
	}
	if v := get("OTEL_SDK_DISABLED"); v != "" {
		off, err := strconv.ParseBool(v)
		if err != nil {
			bad("OTEL_SDK_DISABLED", v, "must be true or false")
		}
		if off {
			cfg.Enabled = false
		}
	}
	cfg.Endpoint = endpoint
	if cfg.Enabled && cfg.Endpoint == "" {
		cfg.Endpoint = DefaultEndpoint
	}
	if endpoint != "" {
		if u, err := url.Parse(endpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad(endpointVar, endpoint, "must be an http:// or https:// URL")
		}
	}
	if name, v := signal("OTEL_EXPORTER_OTLP_HEADERS"); v != "" {
		h, err := keyValues(v)
		if err != nil {
			// The value may hold an API key: name the variable only.
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
		}
		cfg.Headers = h
	}
	if name, v := signal("OTEL_EXPORTER_OTLP_TIMEOUT"); v != "" {
		cfg.Timeout = millis(name, v, bad)
	}
	if name, v := signal("OTEL_EXPORTER_OTLP_COMPRESSION"); v != "" {
		switch v {
		case "gzip":
			cfg.Gzip = true
		case "none":
		default:
			bad(name, v, "must be gzip or none")
		}
	}
	cfg.ServiceName = get("OTEL_SERVICE_NAME")
	if v := get("OTEL_RESOURCE_ATTRIBUTES"); v != "" {
		attrs, err := keyValues(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("OTEL_RESOURCE_ATTRIBUTES: %w", err))
		}
		cfg.Attributes = attrs
	}
	cfg.Sampler = strings.ToLower(get("OTEL_TRACES_SAMPLER"))
	switch cfg.Sampler {
	case "", "always_on", "always_off", "traceidratio", "parentbased_always_on", "parentbased_always_off", "parentbased_traceidratio":
	default:
		bad("OTEL_TRACES_SAMPLER", cfg.Sampler, "must be always_on, always_off, traceidratio or parentbased_ one of those")
	}
	if strings.HasSuffix(cfg.Sampler, "traceidratio") {
		cfg.SamplerArg = 1
	}
	if v := get("OTEL_TRACES_SAMPLER_ARG"); v != "" && strings.HasSuffix(cfg.Sampler, "traceidratio") {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f < 0 || f > 1 {
			bad("OTEL_TRACES_SAMPLER_ARG", v, "must be a ratio from 0 to 1")
		}
		cfg.SamplerArg = f
	}
	if v := get("OTEL_BSP_SCHEDULE_DELAY"); v != "" {
		cfg.BatchDelay = millis("OTEL_BSP_SCHEDULE_DELAY", v, bad)
	}
	if v := get("OTEL_BSP_MAX_QUEUE_SIZE"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			bad("OTEL_BSP_MAX_QUEUE_SIZE", v, "must be a positive number of spans")
		}
		cfg.QueueSize = n
	}
	return cfg, errors.Join(errs...)
}

// millis parses a whole number of milliseconds.
func millis(name, v string, bad func(name, v, format string, args ...any)) time.Duration {
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		bad(name, v, "must be a whole number of milliseconds")
		return 0
	}
	return time.Duration(n) * time.Millisecond
}

// keyValues parses the W3C baggage-like list of OTEL_*_HEADERS and
// OTEL_RESOURCE_ATTRIBUTES: key=value pairs separated by commas, values
// percent-encoded.
func keyValues(s string) (map[string]string, error) {
	out := map[string]string{}
	for pair := range strings.SplitSeq(s, ",") {
		if strings.TrimSpace(pair) == "" {
			continue
		}
		k, v, ok := strings.Cut(pair, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, errors.New("must be key=value pairs separated by commas")
		}
		dv, err := url.PathUnescape(strings.TrimSpace(v))
		if err != nil {
			return nil, fmt.Errorf("value of %s is not percent-encoded", k)
		}
		out[k] = dv
	}
	return out, nil
}
