package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/client"
)

// orderFlow computes a value and emits an event: it needs no outside
// service.
const orderFlow = `name: order-flow
description: confirm orders
on: { events: ["order.created"], if: "data.total > 0" }
steps:
  - id: total
    set: { doubled: "event.data.total * 2" }
  - id: confirm
    emit:
      type: order.confirmed
      data: { order: "{{ event.data.id }}", doubled: "{{ vars.doubled }}" }
`

// offline runs the CLI without a server: validate needs none.
func offline(t *testing.T, args ...string) result {
	t.Helper()
	b := &bundle{env: map[string]string{"STEP_TYPE": "order.checked"}}
	return b.run(t, "", args...)
}

func TestWorkflowsValidateOK(t *testing.T) {
	t.Parallel()
	one := writeTemp(t, "order-flow.yaml", orderFlow)
	decl := writeTemp(t, "hookline.yaml", `addr: 127.0.0.1:8080
endpoints:
  - name: relay
    url: https://relay.example/hooks
workflows:
  - name: a
    on: { events: ["a.*"] }
    steps:
      - id: s
        emit: { type: "${STEP_TYPE}" }
  - name: b
    on: { events: ["b.created"] }
    steps:
      - id: s
        fail: { message: "b {{ event.data.id }}" }
`)
	none := writeTemp(t, "resources.yaml", "endpoints:\n  - name: relay\n    url: https://relay.example/hooks\n")

	// Files after the first -f are arguments too, as a shell glob gives them.
	res := offline(t, "workflows", "validate", "-f", one, decl, none).ok(t)
	require.Equal(t, one+": ok (1 workflow)\n"+decl+": ok (2 workflows)\n"+none+": ok (0 workflows)\n", res.stdout)
	require.Empty(t, res.stderr)

	res = offline(t, "workflow", "validate", "-f", one, "-o", "json").ok(t)
	require.JSONEq(t, `[{"file": "`+one+`", "workflows": 1, "mistakes": []}]`, res.stdout)

	offline(t, "workflows", "validate").fails(t, "error: -f FILE is required")
}

func TestWorkflowsValidateMistakes(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, file string
		want       []string // the lines printed, after "FILE:"
	}{
		{
			name: "bad workflow name",
			file: strings.Replace(orderFlow, "name: order-flow", "name: Order Flow", 1),
			want: []string{`1: name: must be 1-63 lowercase letters, digits, '-' or '_', starting with a letter or digit`},
		},
		{
			name: "unknown step kind",
			file: orderFlow + "  - id: x\n    shell: { cmd: ls }\n",
			want: []string{`12:5: unknown field "shell"`},
		},
		{
			name: "YAML syntax",
			file: "name: a\non: [\n",
			want: []string{`2:5: sequence end token ']' not found`},
		},
		{
			name: "missing key, at the top of the file",
			file: "name: a\nsteps:\n  - id: s\n    fail: { message: x }\n",
			want: []string{`1: on.events: is required: the event types that start a run, e.g. ["order.created"] (or give on.schedule, or on.manual: true)`},
		},
		{
			name: "several mistakes at their lines",
			file: `name: a
on: { events: ["a.b"] }
steps:
  - id: s
    fail: { message: "{{ steps. " }
  - id: s
    delay: { for: soon }
`,
			want: []string{
				`5: steps[0].fail.message: template: "{{ steps. " has no closing }}`,
				`6: steps[1].id: step id "s" is already used by steps[0]`,
			},
		},
		{
			name: "unknown target",
			file: orderFlow + "    next: nowhere\n",
			want: []string{`11: steps[1].next: no step "nowhere"`},
		},
		{
			// Offline, notify steps are checked by the content rules too.
			name: "notify step with a rule-only setting",
			file: orderFlow + "  - id: tell\n    notify: { recipient: data.customer, template: receipt, channels: [email], webhook_type: x.y }\n",
			want: []string{`12: steps[2].notify: webhook_type: is for notify rules only; a step's webhook messages are content.message events`},
		},
		{
			name: "declaration",
			file: `endpoints:
  - name: relay
    url: https://relay.example/hooks
workflows:
  - name: a
    on: { events: ["a.b"] }
    steps:
      - id: s
        emit: { type: x.y }
  - name: a
    on: { events: ["a.b"] }
    steps:
      - id: s
        http: { url: "ftp://x" }
`,
			want: []string{
				`10: workflows[1] (a): name: workflow "a" is declared twice (also workflows[0])`,
				`14: workflows[1] (a): steps[0].http.url: `,
			},
		},
		{
			name: "unset variable in a declaration",
			file: "workflows:\n  - name: a\n    on: { events: [\"a.b\"] }\n    steps:\n      - id: s\n        emit: { type: \"${NOT_SET}\" }\n",
			want: []string{`6: workflows[0].steps[0].emit.type: ${NOT_SET} is not set`},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := writeTemp(t, "bad.yaml", tc.file)
			res := offline(t, "workflows", "validate", "-f", path).fails(t)
			require.Empty(t, res.stdout)
			lines := strings.Split(strings.TrimSuffix(res.stderr, "\n"), "\n")
			require.Len(t, lines, len(tc.want)+1, res.stderr)
			for i, want := range tc.want {
				if strings.HasSuffix(want, ": ") {
					require.True(t, strings.HasPrefix(lines[i], path+":"+want), "got %q", lines[i])
					continue
				}
				require.Equal(t, path+":"+want, lines[i])
			}
			n := "1 mistake"
			if len(tc.want) > 1 {
				n = "2 mistakes"
			}
			require.Equal(t, "error: "+n+" in 1 file", lines[len(lines)-1])
		})
	}
}

func TestWorkflowsValidateReportsEachFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	good := writeTemp(t, "good.yaml", orderFlow)
	bad := writeTemp(t, "bad.yaml", "name: a\nstepz: []\n")

	res := offline(t, "workflows", "validate", "-f", bad, "-f", good).fails(t)
	require.Equal(t, good+": ok (1 workflow)\n", res.stdout)
	require.Equal(t, bad+":2:1: unknown field \"stepz\"\nerror: 1 mistake in 1 file\n", res.stderr)

	res = offline(t, "workflows", "validate", "-f", bad, "-o", "json").fails(t)
	var out []struct {
		File     string    `json:"file"`
		Mistakes []mistake `json:"mistakes"`
	}
	require.NoError(t, json.Unmarshal([]byte(res.stdout), &out))
	require.Equal(t, []mistake{{File: bad, Line: 2, Column: 1, Message: `unknown field "stepz"`}}, out[0].Mistakes)
	require.Equal(t, "error: 1 mistake in 1 file\n", res.stderr, "mistakes are in the JSON, not repeated")

	offline(t, "workflows", "validate", "-f", filepath.Join(dir, "missing.yaml")).fails(t, "error: read workflow file: open "+filepath.Join(dir, "missing.yaml"))
}

// TestWorkflowsApplyRefusedByServer: a file of one workflow is sent as
// it is written, and a field a server (of another version) refuses is put
// at its line.
func TestWorkflowsApplyRefusedByServer(t *testing.T) {
	t.Parallel()
	b := setup(t)
	got := make(chan string, 1)
	b.mux.HandleFunc("POST /v1/workflows", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		got <- r.Header.Get("Content-Type") + "\n" + string(body)
		answer(w, http.StatusUnprocessableEntity, `{"error": {"code": "validation_failed",
			"message": "steps[1].emit.type: not allowed here", "details": {"field": "steps[1].emit.type", "line": 9}}}`)
	})
	path := writeTemp(t, "order-flow.yaml", orderFlow)

	res := b.run(t, "", "workflows", "apply", "-f", path).fails(t)
	require.Equal(t, "application/yaml\n"+orderFlow, <-got)
	require.Empty(t, res.stdout)
	require.True(t, strings.HasPrefix(res.stderr, path+":9: steps[1].emit.type: not allowed here\n"), res.stderr)
	require.Contains(t, res.stderr, ">   9 |       type: order.confirmed")
}

// waitRun waits until the newest run of workflow has status and returns it.
func (l *live) waitRun(t *testing.T, workflow, status string) client.Run {
	t.Helper()
	var last client.Run
	require.Eventually(t, func() bool {
		page, err := l.client.ListRuns(t.Context(), client.RunListOptions{Workflow: workflow})
		if err != nil || len(page.Data) == 0 {
			return false
		}
		last = page.Data[0]
		return last.Status == status
	}, 10*time.Second, 10*time.Millisecond, "a run of %s reaches %s (last: %+v)", workflow, status, last)
	return last
}

func TestWorkflowsApplyGetAndRunLog(t *testing.T) {
	t.Parallel()
	srv := startLive(t)
	dir := t.TempDir()
	path := writeTemp(t, "order-flow.yaml", orderFlow)

	res := srv.run(t, "", "workflows", "apply", "-f", path).ok(t)
	require.Regexp(t, `^NAME\s+VERSION\s+ACTION\s+ENABLED\norder-flow\s+1\s+created\s+true\n$`, res.stdout)

	res = srv.run(t, "", "workflows", "apply", "-f", path).ok(t)
	require.Regexp(t, `(?m)^order-flow\s+1\s+unchanged\s+true$`, res.stdout)

	// A declaration: its ${NAME} are expanded and each workflow is saved.
	decl := filepath.Join(dir, "hookline.yaml")
	v2 := strings.ReplaceAll(orderFlow, "\n", "\n    ")
	v2 = strings.Replace(v2, "order.confirmed", "${CONFIRMED}", 1)
	require.NoError(t, os.WriteFile(decl, []byte("workflows:\n  - "+strings.TrimSpace(v2)+"\n"), 0o600))
	b := &bundle{env: map[string]string{envServer: srv.url, envAPIKey: liveKey, "CONFIRMED": "order.ok"}}
	res = b.run(t, "", "workflows", "apply", "-f", decl, "-o", "json").ok(t)
	var saved []client.WorkflowSaved
	require.NoError(t, json.Unmarshal([]byte(res.stdout), &saved))
	require.Len(t, saved, 1)
	require.Equal(t, "updated", saved[0].Action)
	require.Equal(t, 2, saved[0].Version)
	require.Equal(t, "order.ok", saved[0].Steps[1].Emit.Type)

	// A mistake anywhere: nothing is saved.
	bad := writeTemp(t, "bad.yaml", strings.Replace(orderFlow, "order-flow", "other", 1)+"    next: nowhere\n")
	res = srv.run(t, "", "workflows", "apply", "-f", path, "-f", bad).fails(t)
	require.Equal(t, bad+":11: steps[1].next: no step \"nowhere\"\nerror: 1 mistake in 1 file\n", res.stderr)
	ws, err := srv.client.ListWorkflows(t.Context())
	require.NoError(t, err)
	require.Len(t, ws, 1)

	res = srv.run(t, "", "workflows", "list").ok(t)
	require.Regexp(t, `^NAME\s+VERSION\s+ENABLED\s+EVENTS\s+STEPS\s+CREATED\norder-flow\s+2\s+true\s+order\.created\s+2\s+\d{4}-\S+\n$`, res.stdout)

	// get prints a workflow file: applying it changes nothing.
	res = srv.run(t, "", "workflows", "get", "order-flow", "--version", "1").ok(t)
	require.Regexp(t, `^# version:\s+1 \(versions: 2, 1\)\n# enabled:\s+true\n# created:\s+\d{4}-\S+\nname: order-flow\n`, res.stdout)
	require.Contains(t, res.stdout, "\n  emit:\n    type: order.confirmed\n")
	got := writeTemp(t, "got.yaml", res.stdout)
	srv.run(t, "", "workflows", "validate", "-f", got).ok(t)

	res = srv.run(t, "", "workflows", "get", "order-flow", "-o", "json").ok(t)
	var shown struct {
		Workflow client.Workflow `json:"workflow"`
		Versions []int           `json:"versions"`
	}
	require.NoError(t, json.Unmarshal([]byte(res.stdout), &shown))
	require.Equal(t, 2, shown.Workflow.Version)
	require.Equal(t, []int{2, 1}, shown.Versions, "newest first")

	srv.run(t, "", "workflows", "get", "order-flow", "--version", "9").fails(t, "HTTP 404")

	// A run, started by an event sent with the CLI.
	srv.run(t, "", "send", "order.created", "--data", `{"id": "o-1", "total": 21}`).ok(t)
	run := srv.waitRun(t, "order-flow", "succeeded")
	require.Equal(t, 2, run.Version)

	res = srv.run(t, "", "workflows", "runs", "order-flow").ok(t)
	require.Regexp(t, `^ID\s+WORKFLOW\s+VERSION\s+STATUS\s+STEP\s+ERROR\s+UPDATED\n`+run.ID+`\s+order-flow\s+2\s+succeeded\s+-\s+-\s+\d{4}-\S+\n$`, res.stdout)
	res = srv.run(t, "", "workflows", "runs", "--status", "failed").ok(t)
	require.Regexp(t, `^ID\s+WORKFLOW.*\n$`, res.stdout, "no failed run")

	res = srv.run(t, "", "workflows", "run-log", run.ID).ok(t)
	require.Regexp(t, `(?m)^id:\s+`+run.ID+`$`, res.stdout)
	require.Regexp(t, `(?m)^workflow:\s+order-flow \(version 2\)$`, res.stdout)
	require.Regexp(t, `(?m)^status:\s+succeeded$`, res.stdout)
	require.Regexp(t, `(?m)^event:\s+evt_\w+$`, res.stdout)
	require.Regexp(t, `(?m)^vars:\s+\{"doubled":42\}$`, res.stdout)
	require.Regexp(t, `(?m)^SEQ\s+STEP\s+KIND\s+STATUS\s+ATTEMPTS\s+DURATION\s+ERROR / OUTPUT$`, res.stdout)
	require.Regexp(t, `(?m)^1\s+total\s+set\s+succeeded\s+1\s+\d+ms\s+\{"doubled":42\}$`, res.stdout)
	require.Regexp(t, `(?m)^2\s+confirm\s+emit\s+succeeded\s+1\s+\d+ms\s+\{"type":"order\.ok"\}$`, res.stdout)

	res = srv.run(t, "", "workflows", "run-log", run.ID, "-o", "json").ok(t)
	var full client.Run
	require.NoError(t, json.Unmarshal([]byte(res.stdout), &full))
	require.Len(t, full.Steps, 2)
	require.Equal(t, "confirm", full.Steps[1].Step)

	srv.run(t, "", "workflows", "retry", run.ID).fails(t, "error: run "+run.ID+" is succeeded; only failed runs can be retried (conflict, HTTP 409)")
	srv.run(t, "", "workflows", "cancel", run.ID).fails(t, "error: run "+run.ID+" already succeeded (conflict, HTTP 409)")
	srv.run(t, "", "workflows", "run-log", "run_nope").fails(t, "HTTP 404")
}

// failAndWait are workflows: payment, whose runs fail, shipping, whose
// runs wait for the order's shipment, and label-all, a foreach.
const failAndWait = `workflows:
  - name: payment
    on: { events: ["payment.created"] }
    steps:
      - id: check
        fail: { message: "payment {{ event.data.id }} refused" }
  - name: shipping
    on: { events: ["order.paid"] }
    steps:
      - id: wait
        wait_for: { event: order.shipped, match: "event.data.id == trigger.data.id" }
  - name: label-all
    on: { events: ["labels.due"] }
    steps:
      - id: each_parcel
        foreach: { items: "event.data.parcels", steps: [ { id: label, set: { parcel: "item" } } ] }
`

func TestWorkflowsRetryCancelEnableDelete(t *testing.T) {
	t.Parallel()
	srv := startLive(t)
	res := srv.run(t, "", "workflows", "apply", "-f", writeTemp(t, "flows.yaml", failAndWait)).ok(t)
	require.Regexp(t, `(?m)^payment\s+1\s+created\s+true\n^shipping\s+1\s+created\s+true$`, res.stdout)

	// A foreach's iterations are runs of their own, listed by parent.
	srv.run(t, "", "send", "labels.due", "--data", `{"parcels": ["p1", "p2"]}`).ok(t)
	var top client.Run
	require.Eventually(t, func() bool {
		page, err := srv.client.ListRuns(t.Context(), client.RunListOptions{Workflow: "label-all", Status: "succeeded"})
		for _, r := range page.Data {
			if err == nil && r.ParentID == "" {
				top = r
			}
		}
		return top.ID != ""
	}, 10*time.Second, 10*time.Millisecond, "the foreach run succeeds")
	res = srv.run(t, "", "workflows", "runs", "--parent", top.ID).ok(t)
	require.Len(t, regexp.MustCompile(`(?m)^run_\w+\s+label-all\s+1\s+succeeded\s`).FindAllString(res.stdout, -1), 2, res.stdout)
	res = srv.run(t, "", "workflows", "run-log", strings.Fields(strings.Split(res.stdout, "\n")[1])[0]).ok(t)
	require.Regexp(t, `(?m)^parent:\s+`+top.ID+`$`, res.stdout)

	// A failed run is retried, and fails again at the same step.
	srv.run(t, "", "send", "payment.created", "--data", `{"id": "p-1"}`).ok(t)
	failed := srv.waitRun(t, "payment", "failed")
	res = srv.run(t, "", "workflows", "runs", "--status", "failed").ok(t)
	require.Regexp(t, `(?m)^`+failed.ID+`\s+payment\s+1\s+failed\s+check\s+step check: payment p-1 refused\s+\d{4}-`, res.stdout)
	res = srv.run(t, "", "workflows", "retry", failed.ID).ok(t)
	require.Regexp(t, `(?m)^status:\s+running$`, res.stdout)
	require.Regexp(t, `(?m)^step:\s+check$`, res.stdout)
	require.Eventually(t, func() bool {
		r, err := srv.client.GetRun(t.Context(), failed.ID)
		return err == nil && r.Status == "failed" && len(r.Steps) == 2
	}, 10*time.Second, 10*time.Millisecond, "the retry runs the step again")
	res = srv.run(t, "", "workflows", "run-log", failed.ID).ok(t)
	require.Regexp(t, `(?m)^1\s+check\s+fail\s+failed\s+1\s+\S+\s+payment p-1 refused$`, res.stdout)
	require.Regexp(t, `(?m)^error:\s+step check: payment p-1 refused$`, res.stdout)

	// A waiting run is cancelled, once.
	srv.run(t, "", "send", "order.paid", "--data", `{"id": "o-1"}`).ok(t)
	waiting := srv.waitRun(t, "shipping", "waiting")
	res = srv.run(t, "", "workflows", "cancel", waiting.ID, "-o", "json").ok(t)
	var cancelled client.Run
	require.NoError(t, json.Unmarshal([]byte(res.stdout), &cancelled))
	require.Equal(t, "cancelled", cancelled.Status)
	srv.run(t, "", "workflows", "cancel", waiting.ID).fails(t, "error: run "+waiting.ID+" already cancelled (conflict, HTTP 409)")
	srv.run(t, "", "workflows", "retry", waiting.ID).fails(t, "only failed runs can be retried (conflict, HTTP 409)")

	// Disabled, a workflow shows so, and its YAML keeps it disabled.
	res = srv.run(t, "", "workflows", "disable", "shipping").ok(t)
	require.Regexp(t, `(?m)^enabled:\s+false$`, res.stdout)
	res = srv.run(t, "", "workflows", "get", "shipping").ok(t)
	require.Regexp(t, `(?m)^# enabled:\s+false$`, res.stdout)
	require.Regexp(t, `(?m)^enabled: false$`, res.stdout)
	res = srv.run(t, "", "workflows", "enable", "shipping", "-o", "json").ok(t)
	var wf client.Workflow
	require.NoError(t, json.Unmarshal([]byte(res.stdout), &wf))
	require.True(t, wf.Enabled)

	srv.deletes(t, "workflows", "workflow", "shipping")
	res = srv.run(t, "", "workflows", "runs", "shipping", "-o", "json").ok(t)
	var runs client.Page[client.Run]
	require.NoError(t, json.Unmarshal([]byte(res.stdout), &runs))
	require.Len(t, runs.Data, 1, "the runs of a deleted workflow are kept")

	srv.run(t, "", "workflows", "runs", "a", "b").fails(t, `error: unexpected argument "b"`)
}

// TestWorkflowsValidateYAMLBombs: a file that nests too deep or whose
// aliases explode is a mistake at its line, found before it is parsed.
func TestWorkflowsValidateYAMLBombs(t *testing.T) {
	t.Parallel()
	laughs := "name: a\non: { events: [x.y] }\nsteps:\n  - id: e\n    emit:\n      type: x.z\n      data:\n        l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
	for i := 1; i <= 9; i++ {
		p := fmt.Sprintf("*l%d", i-1)
		laughs += fmt.Sprintf("        l%d: &l%d [%s%s]\n", i, i, strings.Repeat(p+", ", 8), p)
	}
	for file, want := range map[string]string{
		"name: a\nsteps: " + strings.Repeat("[", 100000) + "\n": ":2:71: document nests deeper than 64 levels",
		strings.Repeat("- ", 100000) + "\n":                     ":1:",
		laughs:                                                  ":14:17: document's aliases expand to more than",
	} {
		path := writeTemp(t, "bomb.yaml", file)
		res := offline(t, "workflows", "validate", "-f", path)
		require.Equal(t, 1, res.code, res.stderr)
		require.Contains(t, res.stderr, path+want)
		require.Contains(t, res.stderr, "error: 1 mistake in 1 file")
	}
}

func TestWorkflowsRun(t *testing.T) {
	t.Parallel()
	srv := startLive(t)
	path := writeTemp(t, "order-flow.yaml", orderFlow)
	srv.run(t, "", "workflows", "apply", "-f", path).ok(t)

	// By hand, from a file: the input is the run's event.data.
	input := writeTemp(t, "order.json", `{"id": "o-7", "total": 5}`)
	res := srv.run(t, "", "workflows", "run", "order-flow", "--input", input, "--idempotency-key", "o-7").ok(t)
	require.Regexp(t, `(?m)^id:\s+run_\w+$`, res.stdout)
	require.Regexp(t, `(?m)^status:\s+running$`, res.stdout)
	run := srv.waitRun(t, "order-flow", "succeeded")
	require.Equal(t, map[string]any{"doubled": 10.0}, run.Vars)
	res = srv.run(t, "", "workflows", "run", "order-flow", "--input", input, "--idempotency-key", "o-7", "-o", "json").ok(t)
	var again client.Run
	require.NoError(t, json.Unmarshal([]byte(res.stdout), &again))
	require.Equal(t, run.ID, again.ID, "the same key answers the run it started")

	// From standard input.
	res = srv.run(t, `{"id": "o-8", "total": 1.5}`, "workflows", "run", "order-flow", "--input", "-", "-o", "json").ok(t)
	var fromStdin client.Run
	require.NoError(t, json.Unmarshal([]byte(res.stdout), &fromStdin))
	require.NotEqual(t, run.ID, fromStdin.ID)

	srv.run(t, "not json", "workflows", "run", "order-flow", "--input", "-").fails(t, "input on standard input is not valid JSON")
	srv.run(t, "[1]", "workflows", "run", "order-flow", "--input", "-").fails(t, "input: must be a JSON object")
	srv.run(t, "", "workflows", "run", "nope").fails(t, "HTTP 404")
	srv.run(t, "", "workflows", "disable", "order-flow").ok(t)
	srv.run(t, "", "workflows", "run", "order-flow").fails(t, "error: workflow order-flow is disabled; enable it to start runs (conflict, HTTP 409)")
}

// TestWorkflowsBulkRetryCancel: retry and cancel --all act on the runs
// their filter flags select and print the counts.
func TestWorkflowsBulkRetryCancel(t *testing.T) {
	t.Parallel()
	srv := startLive(t)
	srv.run(t, "", "workflows", "apply", "-f", writeTemp(t, "flows.yaml", failAndWait)).ok(t)
	for _, id := range []string{"a", "b"} {
		srv.run(t, "", "send", "payment.created", "--data", `{"id": "`+id+`"}`).ok(t)
		srv.run(t, "", "send", "order.paid", "--data", `{"id": "`+id+`"}`).ok(t)
	}
	require.Eventually(t, func() bool {
		failed, err := srv.client.ListRuns(t.Context(), client.RunListOptions{Status: "failed"})
		require.NoError(t, err)
		waiting, err := srv.client.ListRuns(t.Context(), client.RunListOptions{Status: "waiting"})
		require.NoError(t, err)
		return len(failed.Data) == 2 && len(waiting.Data) == 2
	}, 10*time.Second, 10*time.Millisecond, "runs not settled")

	res := srv.run(t, "", "workflows", "retry", "--all", "--workflow", "payment", "--limit", "1").ok(t)
	require.Regexp(t, `(?m)^matched:\s+1\n^changed:\s+1\n^skipped:\s+0\n^more:\s+true$`, res.stdout)
	res = srv.run(t, "", "workflows", "cancel", "--all", "--status", "waiting", "--after", "2020-01-01T00:00:00Z", "-o", "json").ok(t)
	var changed client.RunsChanged
	require.NoError(t, json.Unmarshal([]byte(res.stdout), &changed))
	require.Equal(t, client.RunsChanged{Matched: 2, Changed: 2}, changed)

	srv.run(t, "", "workflows", "cancel", "--all", "run_x").fails(t, "give RUN_ID or --all, not both")
	srv.run(t, "", "workflows", "cancel", "--status", "waiting").fails(t, "select runs for --all")
	srv.run(t, "", "workflows", "cancel", "--all", "--after", "yesterday").fails(t, `invalid --after "yesterday"`)
	srv.run(t, "", "workflows", "cancel", "--all", "--status", "failed").fails(t, "status: must be running or waiting")
}
