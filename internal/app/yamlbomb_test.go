package app_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// aliasBomb is a workflow whose emit data is n levels of nine aliases.
func aliasBomb(n int) string {
	var b strings.Builder
	b.WriteString("name: bomb\non: { events: [x.y] }\nsteps:\n  - id: e\n    emit:\n      type: x.z\n      data:\n")
	b.WriteString("        l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n")
	for i := 1; i <= n; i++ {
		prev := "*l" + strconv.Itoa(i-1)
		b.WriteString("        l" + strconv.Itoa(i) + ": &l" + strconv.Itoa(i) + " [" + strings.Repeat(prev+", ", 8) + prev + "]\n")
	}
	return b.String()
}

// TestWorkflowYAMLBombs posts the documents that took the server down
// (issue 12): each is refused with a JSON error before it is parsed or
// expanded, and the server goes on answering.
func TestWorkflowYAMLBombs(t *testing.T) {
	t.Parallel()
	b := setup(t)
	bombs := []struct {
		name, doc string
		status    int
		message   string
	}{
		{"flow sequences", "steps: " + strings.Repeat("[", 100000) + strings.Repeat("]", 100000), http.StatusBadRequest, "nests deeper than 64 levels"},
		{"flow sequences, 40k", "steps: " + strings.Repeat("[", 40000) + strings.Repeat("]", 40000), http.StatusBadRequest, "nests deeper than 64 levels"},
		{"entries", "steps:\n" + strings.Repeat("- ", 100000) + "x\n", http.StatusBadRequest, "nests deeper than 64 levels"},
		{"6 levels of aliases", aliasBomb(6), http.StatusRequestEntityTooLarge, "aliases expand to more than"},
		{"9 levels of aliases", aliasBomb(9), http.StatusRequestEntityTooLarge, "aliases expand to more than"},
		{"invalid UTF-8", "name: a\xff\non: { events: [x.y] }\n", http.StatusBadRequest, "not valid UTF-8 at byte 8"},
	}
	for _, tc := range bombs {
		status, out := b.do("POST", "/v1/workflows", tc.doc, "Content-Type", "application/yaml")
		require.Equal(t, tc.status, status, "%s: %v", tc.name, out)
		e, _ := out["error"].(map[string]any)
		require.Contains(t, e["message"], tc.message, tc.name)
	}
	// Aliases that stay small are fine.
	status, out := b.do("POST", "/v1/workflows", aliasBomb(1), "Content-Type", "application/yaml")
	require.Equal(t, http.StatusCreated, status, "%v", out)
	status, _ = b.do("GET", "/v1/workflows", "")
	require.Equal(t, http.StatusOK, status)
}
