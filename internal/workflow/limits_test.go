package workflow_test

import "testing"

func TestLimitsSpec(t *testing.T) {
	t.Parallel()
	head := "name: s\non: { events: [a.b] }\nsteps:\n  - id: a\n    set: { x: \"1\" }\n"
	for _, tc := range []struct {
		name, spec, field, msg string
	}{
		{"all three", "concurrency: { key: event.data.customer_id, limit: 1 }\nthrottle: { key: event.data.customer_id, limit: 10, period: 1m }\ndebounce: { key: event.data.customer_id, period: 30s }\n", "", ""},
		{"no key", "concurrency: { limit: 5 }\n", "", ""},
		{"bad key", "concurrency: { key: \"event.data.(\", limit: 1 }\n", "concurrency.key", "invalid expression"},
		{"key beyond event", "throttle: { key: vars.x, limit: 1, period: 1m }\n", "throttle.key", "invalid expression"},
		{"no limit", "concurrency: { key: event.type }\n", "concurrency.limit", "1 to 10000"},
		{"throttle period", "throttle: { limit: 3, period: 2d }\n", "throttle.period", "from 1s to 24h0m0s"},
		{"throttle limit", "throttle: { limit: 0, period: 1m }\n", "throttle.limit", "1 to 100000"},
		{"debounce period", "debounce: { period: 10ms }\n", "debounce.period", "from 1s to 168h0m0s"},
	} {
		t.Run(tc.name, func(t *testing.T) { requireCompiles(t, head+tc.spec, tc.field, tc.msg) })
	}
}
