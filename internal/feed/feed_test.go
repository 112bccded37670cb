package feed

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/internal/event"
)

func TestHub(t *testing.T) {
	t.Parallel()
	h := New()
	a := h.Listen("ten_a", func(e *event.Event) bool { return e.Source == "github" })
	b := h.Listen("ten_b", nil)
	h.Publish([]event.Event{{ID: "1", TenantID: "ten_a", Source: "github"}, {ID: "2", TenantID: "ten_a", Source: "api"},
		{ID: "3", TenantID: "ten_b"}})
	require.Equal(t, "1", (<-a.C).ID)
	require.Len(t, a.C, 0)
	require.Equal(t, "3", (<-b.C).ID)
	h.Close(a)
	for range Buffer + 5 {
		h.Publish([]event.Event{{ID: "x", TenantID: "ten_b"}})
	}
	require.Equal(t, 5, b.Dropped())
	require.Equal(t, 0, b.Dropped())
	h.Publish([]event.Event{{ID: "y", TenantID: "ten_a", Source: "github"}})
	require.Len(t, a.C, 0, "a closed listener gets nothing")
}
