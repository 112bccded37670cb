package main

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// cliSection returns the part of docs/cli.md from heading to the next
// "## " heading.
func cliSection(t *testing.T, heading string) string {
	t.Helper()
	raw, err := os.ReadFile("../../docs/cli.md")
	require.NoError(t, err)
	_, sec, ok := strings.Cut(string(raw), "\n"+heading+"\n")
	require.True(t, ok, "docs/cli.md has no %q", heading)
	sec, _, _ = strings.Cut(sec, "\n## ")
	return sec
}

// TestCLIDocServeAndApply fails when docs/cli.md leaves out a flag of
// serve or a key resources are declared under.
func TestCLIDocServeAndApply(t *testing.T) {
	t.Parallel()
	serve := cliSection(t, "## `hookline serve`")
	res := setup(t).run(t, "", "serve", "--help").ok(t)
	_, flags, _ := strings.Cut(res.stdout, "\nFlags:\n")
	flags, _, _ = strings.Cut(flags, "\nGlobal Flags:")
	names := regexp.MustCompile(`(?m)^\s+(?:-\w, )?--([a-z-]+)`).FindAllStringSubmatch(flags, -1)
	require.NotEmpty(t, names)
	for _, m := range names {
		if m[1] != "help" {
			assert.True(t, strings.Contains(serve, "`--"+m[1]), "docs/cli.md: hookline serve lacks --%s", m[1])
		}
	}
	apply := cliSection(t, "## `hookline apply -f FILE`")
	for _, key := range declarationKeys(t) {
		assert.True(t, strings.Contains(serve, "`"+key+"`"), "docs/cli.md: hookline serve lacks %s", key)
		assert.True(t, strings.Contains(apply, "`"+key+"`"), "docs/cli.md: hookline apply lacks %s", key)
	}
}
