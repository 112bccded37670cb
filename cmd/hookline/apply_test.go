package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/client"
	"github.com/hookline/hookline/internal/apply"
	"github.com/hookline/hookline/internal/field"
)

const applyFile = `# resources only
endpoints:
  - name: billing
    url: https://billing.example.com/hooks
sources:
  - name: github
    verification:
      kind: github
      secrets: ["${GITHUB_SECRET}"]
  - name: stripe
    verification:
      kind: strype
`

func TestApplyPrintsChanges(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.env["GITHUB_SECRET"] = "gh-s3cret"
	got := b.fake("POST /v1/apply", http.StatusOK, `{"changes":[
		{"kind":"endpoint","name":"billing","action":"created","id":"ep_1","secret":"whsec_bmV3"},
		{"kind":"source","name":"github","action":"unchanged","id":"src_1"},
		{"kind":"event_type","name":"order.created","action":"updated"}]}`)
	path := writeTemp(t, "hookline.yaml", strings.Replace(applyFile, "strype", "stripe", 1))

	res := b.run(t, "", "apply", "-f", path).ok(t)

	r := <-got
	require.Empty(t, r.URL.RawQuery)
	d := decode[client.Declaration](t, r)
	require.Equal(t, []string{"gh-s3cret"}, d.Sources[0].Verification.Secrets, "${NAME} is expanded from the environment")
	require.Equal(t, "https://billing.example.com/hooks", d.Endpoints[0].URL)

	lines := strings.Split(res.stdout, "\n")
	require.Regexp(t, `^KIND\s+NAME\s+ACTION\s+ID$`, lines[0])
	require.Regexp(t, `^endpoint\s+billing\s+created\s+ep_1$`, lines[1])
	require.Regexp(t, `^source\s+github\s+unchanged\s+src_1$`, lines[2])
	require.Regexp(t, `^event_type\s+order.created\s+updated\s+-$`, lines[3])
	require.Contains(t, res.stdout, "signing secret of endpoint billing: whsec_bmV3\n")
	require.Contains(t, res.stderr, "shown only this once")
	require.NotContains(t, res.stderr, "Dry run")
}

func TestApplyDryRunJSON(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.env["GITHUB_SECRET"] = "x"
	got := b.fake("POST /v1/apply", http.StatusOK, `{"dry_run":true,"changes":[{"kind":"source","name":"github","action":"created","id":"src_1"}]}`)
	path := writeTemp(t, "hookline.yaml", applyFile)

	res := b.run(t, "", "apply", "-f", path, "--dry-run", "-o", "json").ok(t)
	require.Equal(t, "dry_run=true", (<-got).URL.RawQuery)
	var out client.ApplyResult
	require.NoError(t, json.Unmarshal([]byte(res.stdout), &out))
	require.True(t, out.DryRun)
	require.Equal(t, "created", out.Changes[0].Action)
	require.Contains(t, res.stderr, "Dry run: nothing was changed.")
}

func TestApplyErrorNamesFileAndLine(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.env["GITHUB_SECRET"] = "x"
	b.fake("POST /v1/apply", http.StatusUnprocessableEntity, `{"error":{"code":"validation_failed",
		"message":"sources[1] (stripe): verification.kind: \"strype\" is not one of github, stripe",
		"details":{"resource":"sources[1]","name":"stripe","field":"verification.kind"}}}`)
	path := writeTemp(t, "hookline.yaml", applyFile)

	res := b.run(t, "", "apply", "-f", path).fails(t)
	require.Empty(t, res.stdout)
	want := path + `:12: sources[1] (stripe): verification.kind: "strype" is not one of github, stripe` + "\n"
	require.True(t, strings.HasPrefix(res.stderr, want), res.stderr)
	require.Contains(t, res.stderr, ">  12 |       kind: strype")
}

func TestApplyFileMistakes(t *testing.T) {
	t.Parallel()
	b := setup(t)
	requests := b.fake("POST /v1/apply", http.StatusOK, `{"changes":[]}`)
	cases := []struct {
		content string
		env     string
		want    string
	}{
		{"sources:\n  - name: a\n    verificaton: {kind: none}\n", "", `hookline.yaml:3:5: unknown field "verificaton"`},
		{"sources:\n  - name: a\n    max_body_bytes: big\n", "", "hookline.yaml:3:21: expected an integer, got a string"},
		{applyFile, "", "hookline.yaml:9: sources[0].verification.secrets[0]: ${GITHUB_SECRET} is not set"},
	}
	for _, tc := range cases {
		path := writeTemp(t, "hookline.yaml", tc.content)
		b.run(t, "", "apply", "-f", path).fails(t, tc.want)
	}
	require.Empty(t, requests, "nothing is sent for a file with a mistake")

	b.run(t, "", "apply").fails(t, "-f FILE is required")
}

func TestApplyErrorDetails(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name                 string
		err                  error
		resource, field, msg string
		ok                   bool
	}{
		{
			name: "http",
			err: &client.Error{Status: 422, Code: "validation_failed", Message: "sources[0] (a): name: bad",
				Details: map[string]any{"resource": "sources[0]", "name": "a", "field": "name"}},
			resource: "sources[0]", field: "name", msg: "sources[0] (a): name: bad", ok: true,
		},
		{
			name: "in process",
			err: &apply.Error{Resource: "subscriptions[2]", Name: "s",
				Err: field.Errorf("destination.endpoint", `no endpoint named "x" (declare it under endpoints or create it first)`)},
			resource: "subscriptions[2]", field: "destination.endpoint",
			msg: `subscriptions[2] (s): destination.endpoint: no endpoint named "x" (declare it under endpoints or create it first)`, ok: true,
		},
		{
			name:     "in process without a field",
			err:      &apply.Error{Resource: "sources[0]", Name: "gh", Err: &apply.ConflictError{Msg: `source name "gh" is taken`}},
			resource: "sources[0]", msg: `sources[0] (gh): source name "gh" is taken`, ok: true,
		},
		{
			name:     "in process, wrapped",
			err:      fmt.Errorf("apply: %w", &apply.Error{Resource: "sources[1]", Name: "x", Err: field.Errorf("postgres", "cannot install change capture: refused")}),
			resource: "sources[1]", field: "postgres", msg: `sources[1] (x): postgres: cannot install change capture: refused`, ok: true,
		},
		{
			// Only the typed error is read: a text that looks the same is not.
			name: "text of an apply error",
			err:  errors.New(`sources[0] (gh): name: bad`),
		},
		{name: "http without a resource", err: &client.Error{Status: 400, Code: "invalid_json", Message: "malformed"}},
		{name: "other", err: errors.New("apply source gh: database is locked")},
	}
	for _, tc := range cases {
		resource, field, msg, ok := applyErrorDetails(tc.err)
		assert.Equal(t, tc.ok, ok, tc.name)
		assert.Equal(t, tc.resource, resource, tc.name)
		assert.Equal(t, tc.field, field, tc.name)
		assert.Equal(t, tc.msg, msg, tc.name)
	}
}

// declarationKeys returns the top-level keys of client.Declaration, read
// from its json tags as the YAML decoder reads them.
func declarationKeys(t *testing.T) []string {
	t.Helper()
	typ := reflect.TypeFor[client.Declaration]()
	var keys []string
	for i := range typ.NumField() {
		name, _, _ := strings.Cut(typ.Field(i).Tag.Get("json"), ",")
		require.NotEmpty(t, name, typ.Field(i).Name)
		keys = append(keys, name)
	}
	require.Len(t, keys, 9)
	return keys
}

func TestHelpNamesEveryDeclarableKey(t *testing.T) {
	t.Parallel()
	for _, cmd := range []string{"serve", "apply"} {
		res := setup(t).run(t, "", cmd, "--help").ok(t)
		for _, key := range declarationKeys(t) {
			assert.Regexp(t, `\b`+key+`\b`, res.stdout, "hookline %s --help", cmd)
		}
	}
}

func TestApplyErrorDetailsOfEveryKind(t *testing.T) {
	t.Parallel()
	for _, key := range declarationKeys(t) {
		resource, field, _, ok := applyErrorDetails(&apply.Error{Resource: key + "[1]", Name: "x", Err: field.Errorf("name", "is required in declarations")})
		assert.True(t, ok, key)
		assert.Equal(t, key+"[1]", resource)
		assert.Equal(t, "name", field, key)
	}
}
