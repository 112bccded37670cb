package workflow_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/internal/config"
	"github.com/hookline/hookline/internal/content"
	"github.com/hookline/hookline/internal/workflow"
)

const valid = `name: order-fulfilment
on: { events: ["order.created"], if: "data.total > 0" }
steps:
  - id: reserve
    http: { method: POST, url: "https://inventory.example/reserve", body: "{{ toJSON(event.data.items) }}" }
    retry: { attempts: 5, backoff: exponential, initial: 2s }
  - id: charge
    http: { method: POST, url: "https://pay.example/charges", headers: { Idempotency-Key: "{{ run.id }}-charge" } }
    on_error: refund
  - id: confirm
    emit: { type: order.confirmed, data: { order: "{{ event.data.id }}" } }
    next: end
  - id: refund
    fail: { message: "charge failed: {{ steps.charge.error }}" }
`

func decode(t *testing.T, src string) workflow.Def {
	t.Helper()
	var in workflow.Def
	require.NoError(t, yaml.UnmarshalWithOptions([]byte(src), &in, yaml.Strict(), yaml.UseJSONUnmarshaler()))
	return in
}

func TestCompileValid(t *testing.T) {
	w, err := workflow.Compile(decode(t, valid), workflow.Options{})
	require.NoError(t, err)
	require.Equal(t, []string{"order.created"}, w.Patterns(), `"on" is a key, not YAML 1.1's true`)
}

// TestValidationErrors: mistakes are rejected before anything runs, each
// with the line of the file it is on and the reason.
func TestValidationErrors(t *testing.T) {
	for _, tc := range []struct {
		name, edit, field string
		line              int
		msg               string
	}{
		{"unknown kind", "  - id: x\n    shell: { cmd: ls }\n", "", 0, "unknown field"},
		{"no kind", "  - id: x\n    timeout: 5s\n", "steps[4]", 15, `step "x" has no kind`},
		{"two kinds", "  - id: x\n    fail: { message: a }\n    set: { a: \"1\" }\n", "steps[4]", 15, "has 2 kinds"},
		{"bad expression", "  - id: x\n    set: { total: \"data.price *\" }\n", "steps[4].set.total", 16, "invalid expression"},
		{"bad template", "  - id: x\n    fail: { message: \"{{ steps.\" }\n", "steps[4].fail.message", 16, "no closing }}"},
		{"duplicate id", "  - id: charge\n    fail: { message: a }\n", "steps[4].id", 15, `step id "charge" is already used by steps[1]`},
		{"unknown target", "  - id: x\n    fail: { message: a }\n    on_error: nowhere\n", "steps[4].on_error", 18, `no step "nowhere"`},
		{"unreachable", "  - id: x\n    fail: { message: a }\n", "steps[4]", 15, `step "x" is unreachable`},
		{"cycle without wait", "  - id: a\n    set: { n: \"1\" }\n  - id: b\n    if: { condition: \"true\", then: a }\n", "steps[4]", 16, "steps a → b form a loop without a delay or wait_for"},
		{"bad retry", "  - id: x\n    http: { url: \"https://x.example\" }\n    retry: { attempts: 0 }\n", "steps[4].retry.attempts", 17, "must be 1 to 100"},
		{"bad url", "  - id: x\n    http: { url: \"ftp://x.example\" }\n", "steps[4].http.url", 16, "http or https"},
		{"bad wait", "  - id: x\n    wait_for: { event: \"a b\" }\n", "steps[4].wait_for.event", 16, ""},
		{"key without equals", "  - id: x\n    wait_for: { event: a.b, key: event.data.id }\n", "steps[4].wait_for", 16, "key and equals go together"},
		{"bad key", "  - id: x\n    wait_for: { event: a.b, key: data.id, equals: \"{{ vars.id }}\" }\n", "steps[4].wait_for.key", 16, "not a field of the event's data"},
		{"bad equals", "  - id: x\n    wait_for: { event: a.b, key: event.data.id, equals: \"{{ vars. }}\" }\n", "steps[4].wait_for.equals", 16, ""},
		{"buffer without key", "  - id: x\n    wait_for: { event: a.b, match: \"event.data.ok\", buffer: 5m }\n", "steps[4].wait_for.buffer", 16, "needs a key"},
		{"buffer too long", "  - id: x\n    wait_for: { event: a.b, key: event.data.id, equals: x, buffer: 200h }\n", "steps[4].wait_for.buffer", 16, "up to 168h"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := valid + tc.edit
			if strings.Contains(tc.name, "unreachable") || strings.Contains(tc.name, "cycle") || strings.Contains(tc.name, "target") {
				// Reach the new steps from refund.
				first := strings.TrimPrefix(strings.SplitN(tc.edit, "\n", 2)[0], "  - id: ")
				if tc.name != "unreachable" {
					src = strings.Replace(src, `fail: { message: "charge failed: {{ steps.charge.error }}" }`, `set: { why: "1" }`+"\n    next: "+first, 1)
				}
			}
			var in workflow.Def
			err := yaml.UnmarshalWithOptions([]byte(src), &in, yaml.Strict(), yaml.UseJSONUnmarshaler())
			if tc.field == "" {
				require.ErrorContains(t, err, tc.msg)
				return
			}
			require.NoError(t, err)
			_, err = workflow.Compile(in, workflow.Options{})
			require.Error(t, err)
			errs := workflow.Errors(err)
			require.NotEmpty(t, errs, "%v", err)
			require.Equal(t, tc.field, errs[0].Path, err.Error())
			require.ErrorContains(t, errs[0], tc.msg)
			line, ok := config.LocateField([]byte(src), errs[0].Path)
			require.True(t, ok)
			require.Equal(t, tc.line, line, "line of %s", errs[0].Path)
		})
	}
}

func TestLoopWithWaitIsFine(t *testing.T) {
	src := `name: poll
on: { events: ["job.started"] }
steps:
  - id: check
    http: { url: "https://jobs.example/status" }
  - id: done
    if: { condition: "steps.check.output.body.done == true", then: end, else: later }
  - id: later
    delay: { for: 1m }
    next: check
`
	_, err := workflow.Compile(decode(t, src), workflow.Options{})
	require.NoError(t, err)
}

// TestCompileNotifyOption: a notify step is checked by the CheckNotify the
// caller passes, and refused when it passes none.
func TestCompileNotifyOption(t *testing.T) {
	t.Parallel()
	const src = `name: tell
on: { events: ["order.created"] }
steps:
  - id: tell
    notify: { channels: [email], template: receipt }
`
	refuse := errors.New("no such template")
	var checked []content.RuleDef
	cases := []struct {
		name  string
		check func(content.RuleDef) error
		want  string
	}{
		{name: "none", want: "steps[0].notify: notify steps are not available"},
		{name: "refused", check: func(content.RuleDef) error { return refuse }, want: "steps[0].notify: no such template"},
		{name: "accepted", check: func(r content.RuleDef) error { checked = append(checked, r); return nil }},
	}
	for _, tc := range cases {
		_, err := workflow.Compile(decode(t, src), workflow.Options{CheckNotify: tc.check})
		if tc.want == "" {
			require.NoError(t, err, tc.name)
			continue
		}
		require.EqualError(t, err, tc.want, tc.name)
	}
	require.Len(t, checked, 1)
	require.Equal(t, "receipt", checked[0].Template)
}

// TestCompileCancelOn: cancel_on entries are checked as wait_for's keys
// are, with their own paths.
func TestCompileCancelOn(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ entry, want string }{
		{`{ event: order.cancelled, key: event.data.id, equals: "{{ trigger.data.id }}" }`, ""},
		{`{ event: order.cancelled, match: "event.data.id == trigger.data.id" }`, ""},
		{`{ event: "a b" }`, "cancel_on[0].event"},
		{`{ event: order.cancelled, key: data.id, equals: x }`, "cancel_on[0].key: \"data.id\" is not a field of the event's data"},
		{`{ event: order.cancelled, key: event.data.id }`, "cancel_on[0]: key and equals go together"},
		{`{ event: order.cancelled, match: "event.data.id ==" }`, "cancel_on[0].match"},
	} {
		compileCase(t, "name: c\non: { events: [order.created] }\ncancel_on: ["+tc.entry+"]\nsteps:\n  - id: a\n    set: { x: \"1\" }\n", tc.want)
	}
}

// compileCase compiles src: with want empty it must compile, else fail
// with an error containing want.
func compileCase(t *testing.T, src, want string) {
	t.Helper()
	_, err := workflow.Compile(decode(t, src), workflow.Options{})
	if want == "" {
		require.NoError(t, err, src)
		return
	}
	require.ErrorContains(t, err, want, src)
}

func TestCompileApproval(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ step, want string }{
		{`{ message: "Refund {{ event.data.amount }}?", timeout: 48h, on_timeout: b }`, ""},
		{`{}`, ""},
		{`{ timeout: soon }`, "steps[0].approval.timeout: must be a duration"},
		{`{ timeout: 9000h }`, "steps[0].approval.timeout"},
		{`{ on_timeout: nowhere }`, `steps[0].approval.on_timeout: no step "nowhere"`},
		{`{ message: "{{ event. }}" }`, "steps[0].approval.message"},
	} {
		compileCase(t, "name: c\non: { events: [order.created] }\nsteps:\n  - id: a\n    approval: "+tc.step+"\n  - id: b\n    set: { x: \"1\" }\n", tc.want)
	}
	// A loop through an approval waits, so it is allowed.
	compileCase(t, "name: c\non: { events: [order.created] }\nsteps:\n  - id: a\n    approval: {}\n  - id: b\n    set: { x: \"1\" }\n    next: a\n", "")
}
