package workflow_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/internal/workflow"
)

func TestScheduleSpec(t *testing.T) {
	t.Parallel()
	steps := "steps:\n  - id: a\n    set: { x: \"1\" }\n"
	for _, tc := range []struct {
		name, on, field, msg string
	}{
		{"one schedule", `{ schedule: [{ cron: "0 9 * * MON-FRI", timezone: Europe/Berlin }] }`, "", ""},
		{"several, every and policies", `{ schedule: [{ cron: "@daily", missed: skip }, { every: 15m, missed: run_all, catch_up: 5 }] }`, "", ""},
		{"manual only", `{ manual: true }`, "", ""},
		{"nothing starts it", `{ }`, "on.events", "or give on.schedule, or on.manual: true"},
		{"if without events", `{ manual: true, if: "data.x" }`, "on.if", "applies to events"},
		{"bad cron", `{ schedule: [{ cron: "61 * * * *" }] }`, "on.schedule[0].cron", "five fields"},
		{"never fires", `{ schedule: [{ cron: "0 0 30 2 *" }] }`, "on.schedule[0].cron", "never fires"},
		{"time zone in cron", `{ schedule: [{ cron: "CRON_TZ=Europe/Berlin 0 9 * * *" }] }`, "on.schedule[0].cron", "in timezone"},
		{"bad zone", `{ schedule: [{ cron: "0 9 * * *", timezone: Mars/Olympus }] }`, "on.schedule[0].timezone", "IANA"},
		{"both", `{ schedule: [{ cron: "0 9 * * *", every: 1h }] }`, "on.schedule[0]", "give one of"},
		{"too often", `{ schedule: [{ every: 10s }] }`, "on.schedule[0].every", "from 1m0s"},
		{"bad policy", `{ schedule: [{ every: 1h, missed: later }] }`, "on.schedule[0].missed", "run_once"},
		{"catch_up without run_all", `{ schedule: [{ every: 1h, catch_up: 3 }] }`, "on.schedule[0].catch_up", "run_all only"},
		{"catch_up too big", `{ schedule: [{ every: 1h, missed: run_all, catch_up: 1000 }] }`, "on.schedule[0].catch_up", "1 to 100"},
		{"same twice", `{ schedule: [{ every: 1h }, { every: 60m }] }`, "on.schedule[1]", "same schedule as on.schedule[0]"},
	} {
		t.Run(tc.name, func(t *testing.T) { requireCompiles(t, "name: s\non: "+tc.on+"\n"+steps, tc.field, tc.msg) })
	}
}

// requireCompiles compiles a spec: without field it must compile,
// otherwise its first mistake must be at field and say msg.
func requireCompiles(t *testing.T, src, field, msg string) {
	t.Helper()
	_, err := workflow.Compile(decode(t, src), workflow.Options{})
	if field == "" {
		require.NoError(t, err)
		return
	}
	errs := workflow.Errors(err)
	require.NotEmpty(t, errs, "%v", err)
	require.Equal(t, field, errs[0].Path, err.Error())
	require.ErrorContains(t, errs[0], msg)
}
