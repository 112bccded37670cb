package content

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/internal/content/render"
	"github.com/hookline/hookline/internal/lru"
	"github.com/hookline/hookline/internal/store"
)

// TestTemplateCacheIsBounded renders more template versions than the
// cache holds: it stays at its size, a version still cached is the same
// compiled template, and an evicted one is compiled again from its stored
// spec and renders as before.
func TestTemplateCacheIsBounded(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	const tenant = "ten_cache"
	st, now := openStore(t, tenant, "cache")

	s := New(Config{Store: st})
	require.Equal(t, 0, s.templates.Len())
	const size = 3
	s.templates = lru.New[string, *render.Template](size)

	const versions = 3 * size
	for v := 1; v <= versions; v++ {
		spec, err := json.Marshal(render.Spec{Name: "shipped", Subject: fmt.Sprintf("v%d: order {{.data.id}}", v), Text: "shipped"})
		require.NoError(t, err)
		require.NoError(t, st.CreateTemplate(ctx, store.Template{TenantID: tenant, Name: "shipped", Version: v, Spec: spec, CreatedAt: now}))
	}
	subject := func(tmpl *render.Template) string {
		out, err := tmpl.Render(ctx, "en", time.UTC, map[string]any{"data": map[string]any{"id": "o1"}})
		require.NoError(t, err)
		return out.Subject
	}

	first, _, err := s.Template(ctx, tenant, "shipped", 1)
	require.NoError(t, err)
	again, _, err := s.Template(ctx, tenant, "shipped", 1)
	require.NoError(t, err)
	require.Same(t, first, again, "a cached version is not compiled again")

	for v := 2; v <= versions; v++ {
		tmpl, sv, err := s.Template(ctx, tenant, "shipped", v)
		require.NoError(t, err)
		require.Equal(t, v, sv.Version)
		require.Equal(t, fmt.Sprintf("v%d: order o1", v), subject(tmpl))
		require.LessOrEqual(t, s.templates.Len(), size)
	}
	require.Equal(t, size, s.templates.Len())

	latest, sv, err := s.Template(ctx, tenant, "shipped", 0)
	require.NoError(t, err)
	require.Equal(t, versions, sv.Version)
	last, _, err := s.Template(ctx, tenant, "shipped", versions)
	require.NoError(t, err)
	require.Same(t, latest, last, "the latest version is still cached")

	recompiled, _, err := s.Template(ctx, tenant, "shipped", 1)
	require.NoError(t, err)
	require.NotSame(t, first, recompiled, "version 1 was evicted and compiled again")
	require.Equal(t, "v1: order o1", subject(recompiled))
	require.Equal(t, size, s.templates.Len())
}
