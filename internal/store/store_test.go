package store_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/internal/store"
)

// TestPageSizes pins the page sizes every driver uses: a list's page is
// 100 unless it asks for 1 to 1000; records and changes take any
// positive size.
func TestPageSizes(t *testing.T) {
	t.Parallel()
	for limit, want := range map[int]int{-1: 100, 0: 100, 1: 1, 250: 250, 1000: 1000, 1001: 100} {
		require.Equal(t, want, store.Page{Limit: limit}.Size(), "page limit %d", limit)
	}
	for n, want := range map[int]int{-1: 100, 0: 100, 1: 1, 5000: 5000} {
		require.Equal(t, want, store.Limit(n), "limit %d", n)
	}
}
