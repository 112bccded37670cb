package workflow

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/internal/lru"
	"github.com/hookline/hookline/internal/store"
)

// TestCompiledCacheIsBounded compiles more workflow versions than the
// cache holds: it stays at its size, a version still cached is the same
// compiled workflow, and an evicted one is compiled again from its spec.
func TestCompiledCacheIsBounded(t *testing.T) {
	t.Parallel()
	r := New(Config{})
	require.Equal(t, 0, r.compiled.Len())
	const size = 4
	r.compiled = lru.New[string, *Workflow](size)

	created := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	version := func(v int) store.Workflow {
		spec, err := json.Marshal(Def{
			Name: "w", On: TriggerDef{Events: []string{fmt.Sprintf("order.v%d", v)}},
			Steps: []StepDef{{ID: "stop", Fail: &FailDef{Message: fmt.Sprintf("v%d", v)}}},
		})
		require.NoError(t, err)
		return store.Workflow{TenantID: "t1", Name: "w", Version: v, Spec: spec, CreatedAt: created}
	}

	first, err := r.compile(version(1))
	require.NoError(t, err)
	again, err := r.compile(version(1))
	require.NoError(t, err)
	require.Same(t, first, again, "a cached version is not compiled again")

	for v := 2; v <= 3*size; v++ {
		w, err := r.compile(version(v))
		require.NoError(t, err)
		require.Equal(t, v, w.Version)
		require.LessOrEqual(t, r.compiled.Len(), size)
	}
	require.Equal(t, size, r.compiled.Len())

	last, err := r.compile(version(3 * size))
	require.NoError(t, err)
	cachedLast, err := r.compile(version(3 * size))
	require.NoError(t, err)
	require.Same(t, last, cachedLast, "the most recent version is still cached")

	recompiled, err := r.compile(version(1))
	require.NoError(t, err)
	require.NotSame(t, first, recompiled, "version 1 was evicted and compiled again")
	require.Equal(t, 1, recompiled.Version)
	require.Equal(t, []string{"order.v1"}, recompiled.Patterns())
	require.Equal(t, first.Patterns(), recompiled.Patterns())
	require.Equal(t, first.steps[0].id, recompiled.steps[0].id)
	require.Equal(t, "v1", first.steps[0].message.String())
	require.Equal(t, "v1", recompiled.steps[0].message.String())
	require.Equal(t, size, r.compiled.Len())
}

// TestLimitsByDestination: a run's tasks run one at a time; tasks that
// start runs of a workflow run startInFlight at once; buffer, cancel and
// debounce tasks keep the engine's default.
func TestLimitsByDestination(t *testing.T) {
	t.Parallel()
	r := New(Config{})
	for dest, want := range map[string]int{
		"run_01abc":                   1,
		"order-flow":                  startInFlight,
		bufferPrefix + "data.order":   0,
		cancelPrefix + "order-flow":   0,
		"order-flow" + debounceSuffix: 0,
	} {
		got := r.Limits(t.Context(), &store.Task{DestinationID: dest})
		require.Equal(t, want, got.MaxInFlight, dest)
	}
}
