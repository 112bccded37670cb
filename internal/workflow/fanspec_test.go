package workflow_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/internal/workflow"
)

const fanValid = `name: fulfil
on: { events: ["order.paid"] }
steps:
  - id: prepare
    parallel:
      join: any
      branches:
        - name: payment
          steps:
            - id: capture
              http: { method: POST, url: "https://pay.example/capture" }
              retry: { attempts: 3 }
        - steps:
            - id: lines
              foreach:
                items: "event.data.lines"
                concurrency: 5
                steps:
                  - id: reserve
                    http: { method: POST, url: "https://stock.example/{{ item.sku }}?n={{ index }}" }
  - id: each_customer
    foreach:
      collection: { name: customers, prefix: "eu-", filter: 'record.plan == "pro"', limit: 10 }
      steps:
        - id: greet
          set: { who: "item.key" }
  - id: invoice
    call: { workflow: invoicing, input: { order: "{{ event.data.id }}", lines: "{{ event.data.lines }}" } }
`

func TestCompileFanSteps(t *testing.T) {
	_, err := workflow.Compile(decode(t, fanValid), workflow.Options{})
	require.NoError(t, err)
	_, err = workflow.Compile(decode(t, nest(workflow.MaxNesting)), workflow.Options{})
	require.NoError(t, err, "as deep as allowed")
}

// nest is a workflow of depth parallel steps, each in the branch of the
// one before.
func nest(depth int) string {
	inner := "- id: leaf\n  set: { a: \"1\" }\n"
	for d := range depth {
		inner = fmt.Sprintf("- id: fan%d\n  parallel:\n    branches:\n      - steps:\n%s", d, indent(inner, 10))
	}
	return "name: deep\non: { events: [a.b] }\nsteps:\n" + indent(inner, 2)
}

// TestFanValidationErrors: each mistake in a parallel, foreach or call
// step is reported at its path, nested lists included.
func TestFanValidationErrors(t *testing.T) {
	branches := "name: wide\non: { events: [a.b] }\nsteps:\n  - id: fan\n    parallel:\n      branches:\n" +
		strings.Repeat("        - steps: [ { id: s, set: { a: \"1\" } } ]\n", 1)
	for i := range workflow.MaxBranches {
		branches += fmt.Sprintf("        - steps: [ { id: s%d, set: { a: \"1\" } } ]\n", i)
	}
	for _, tc := range []struct {
		name, src, field, msg string
	}{
		{"join", strings.Replace(fanValid, "join: any", "join: most", 1), "steps[0].parallel.join", `must be "all" or "any"`},
		{"too many branches", branches, "steps[0].parallel.branches", "needs 1 to 16 branches"},
		{"branch without steps", strings.Replace(fanValid, "        - steps:\n            - id: lines", "        - steps: []\n        - steps:\n            - id: lines", 1),
			"steps[0].parallel.branches[1].steps", "at least one step is required"},
		{"bad branch name", strings.Replace(fanValid, "name: payment", "name: 'pay ment'", 1), "steps[0].parallel.branches[0].name", "is not a branch name"},
		{"nested step mistake", strings.Replace(fanValid, "https://pay.example/capture", "ftp://pay.example", 1),
			"steps[0].parallel.branches[0].steps[0].http.url", "http or https"},
		{"duplicate id across lists", strings.Replace(fanValid, "id: greet", "id: capture", 1),
			"steps[1].foreach.steps[0].id", `step id "capture" is already used by steps[0].parallel.branches[0].steps[0]`},
		{"next leaves the list", strings.Replace(fanValid, `retry: { attempts: 3 }`, "retry: { attempts: 3 }\n              next: invoice", 1),
			"steps[0].parallel.branches[0].steps[0].next", `no step "invoice"`},
		{"too deep", nest(workflow.MaxNesting + 1), "steps[0].parallel.branches[0].steps[0].parallel.branches[0].steps[0].parallel.branches[0].steps[0].parallel",
			"nests too deep"},
		{"items and collection", strings.Replace(fanValid, "items: \"event.data.lines\"", "items: \"event.data.lines\"\n                collection: { name: x }", 1),
			"steps[0].parallel.branches[1].steps[0].foreach", "give one of items"},
		{"concurrency", strings.Replace(fanValid, "concurrency: 5", "concurrency: 51", 1),
			"steps[0].parallel.branches[1].steps[0].foreach.concurrency", "must be 1 to 50"},
		{"collection limit", strings.Replace(fanValid, "limit: 10", "limit: 1001", 1), "steps[1].foreach.collection.limit", "must be 1 to 1000"},
		{"collection filter", strings.Replace(fanValid, `record.plan == "pro"`, "record.plan ==", 1), "steps[1].foreach.collection.filter", ""},
		{"item outside a foreach", strings.Replace(fanValid, `order: "{{ event.data.id }}"`, `order: "{{ item.id }}"`, 1), "steps[2].call.input.order", "item"},
		{"call workflow", strings.Replace(fanValid, "workflow: invoicing", "workflow: Invoicing!", 1), "steps[2].call.workflow", "is not a workflow name"},
		{"retry on a call", strings.Replace(fanValid, "workflow: invoicing, input", "workflow: invoicing, input", 1) + "    retry: { attempts: 2 }\n",
			"steps[2].retry", "applies to http, emit, sync and notify steps only"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := workflow.Compile(decode(t, tc.src), workflow.Options{})
			require.Error(t, err)
			var paths []string
			for _, e := range workflow.Errors(err) {
				paths = append(paths, e.Path)
				if e.Path == tc.field {
					require.ErrorContains(t, e, tc.msg)
				}
			}
			require.Contains(t, paths, tc.field, "%v", err)
		})
	}
}

func indent(s string, n int) string {
	pad := strings.Repeat(" ", n)
	return pad + strings.ReplaceAll(strings.TrimSuffix(s, "\n"), "\n", "\n"+pad) + "\n"
}
