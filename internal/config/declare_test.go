package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/wire"
)

// writeFile writes content to a hookline.yaml in a temporary directory and
// returns its path.
func writeFile(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "hookline.yaml")
	require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
	return path
}

const serveAndResources = `addr: 0.0.0.0:9000
workers: 8
shutdown_timeout: 10s

event_types:
  - name: order.created
    description: An order was placed
    schema:
      type: object
      required: [total]
endpoints:
  - name: billing
    url: https://billing.example.com/hooks
    event_types: ["order.*"]
    headers:
      Authorization: Bearer ${BILLING_TOKEN}
    secret: ${BILLING_SECRET}
sources:
  - name: github
    verification:
      kind: github
      secrets: ["${GITHUB_SECRET}"]
    event_type:
      prefix: gh.
    dedup:
      window: 24h
subscriptions:
  - name: github-to-billing
    event_types: ["gh.push"]
    destination: {kind: forward, endpoint: billing}
`

func TestLoadServeConfigWithResources(t *testing.T) {
	t.Parallel()
	path := writeFile(t, serveAndResources)
	vars := map[string]string{
		"HOOKLINE_WORKERS": "16",
		"BILLING_TOKEN":    "tok_1",
		"BILLING_SECRET":   "whsec_c2VjcmV0",
		"GITHUB_SECRET":    "gh-secret",
	}
	cfg, err := Load(path, env(vars))
	require.NoError(t, err)
	require.NoError(t, cfg.Validate())

	require.Equal(t, "0.0.0.0:9000", cfg.Addr)
	require.Equal(t, 16, cfg.Workers, "env still overrides the file")
	require.Equal(t, "./hookline-data", cfg.DataDir, "default kept")

	require.Len(t, cfg.EventTypes, 1)
	require.Equal(t, "An order was placed", cfg.EventTypes[0].Description)
	require.JSONEq(t, `{"type":"object","required":["total"]}`, string(cfg.EventTypes[0].Schema))

	require.Equal(t, []wire.EndpointDecl{{
		EndpointCreate: wire.EndpointCreate{
			Name: "billing", URL: "https://billing.example.com/hooks", EventTypes: []string{"order.*"},
			Headers: map[string]string{"Authorization": "Bearer tok_1"},
		},
		Secret: "whsec_c2VjcmV0",
	}}, cfg.Endpoints)

	require.Len(t, cfg.Sources, 1)
	src := cfg.Sources[0]
	require.Equal(t, wire.Verification{Kind: "github", Secrets: []string{"gh-secret"}}, *src.Verification)
	require.Equal(t, "gh.", src.EventType.Prefix)
	require.Equal(t, "24h", src.Dedup.Window)

	require.Equal(t, []wire.SubscriptionDecl{{
		Name: "github-to-billing", EventTypes: []string{"gh.push"},
		Destination: wire.DeclDest{Kind: "forward", Endpoint: "billing"},
	}}, cfg.Subscriptions)

	// The declaration goes on the wire as the API expects it.
	b, err := json.Marshal(cfg.Declaration)
	require.NoError(t, err)
	require.Contains(t, string(b), `"destination":{"kind":"forward","endpoint":"billing"}`)
}

func TestLoadDeclaration(t *testing.T) {
	t.Parallel()
	content := "sources:\n  - name: hooks\n    verification: {kind: none}\n"
	path := writeFile(t, content)
	d, raw, err := LoadDeclaration(path, nil)
	require.NoError(t, err)
	require.Equal(t, content, string(raw))
	require.Equal(t, []wire.SourceCreate{{Name: "hooks", Verification: &wire.Verification{Kind: "none"}}}, d.Sources)

	// A whole serve config is accepted; its server keys are not returned.
	path = writeFile(t, serveAndResources)
	d, _, err = LoadDeclaration(path, env(map[string]string{"BILLING_TOKEN": "t", "BILLING_SECRET": "s", "GITHUB_SECRET": "g"}))
	require.NoError(t, err)
	require.Len(t, d.Endpoints, 1)
	require.Len(t, d.Subscriptions, 1)

	_, _, err = LoadDeclaration(filepath.Join(t.TempDir(), "missing.yaml"), nil)
	require.ErrorIs(t, err, os.ErrNotExist)
}

// fileCase is a declaration file that does not load: the mistake is
// reported at line with msg.
type fileCase struct {
	name    string
	content string
	line    int
	msg     string
}

// declarationFails loads the declaration content with lookup and returns
// the file and its *FileError, which must name the file and tc's line.
func declarationFails(t *testing.T, tc fileCase, lookup func(string) (string, bool)) (string, *FileError) {
	t.Helper()
	path := writeFile(t, tc.content)
	_, _, err := LoadDeclaration(path, lookup)
	var fe *FileError
	require.ErrorAs(t, err, &fe)
	require.Equal(t, path, fe.Path)
	require.Equal(t, tc.line, fe.Line, err.Error())
	return path, fe
}

func TestDeclarationErrorsNameTheLine(t *testing.T) {
	t.Parallel()
	cases := []fileCase{
		{
			name:    "unknown key in a source",
			content: "addr: x\nsources:\n  - name: a\n    verificaton: {kind: none}\n",
			line:    4, msg: `unknown field "verificaton"`,
		},
		{
			name:    "unknown key in an inlined endpoint",
			content: "endpoints:\n  - name: a\n    url: https://x.test\n    urll: y\n",
			line:    4, msg: `unknown field "urll"`,
		},
		{
			name:    "unknown top-level key",
			content: "addr: x\nsubscription:\n  - name: a\n",
			line:    2, msg: `unknown field "subscription"`,
		},
		{
			name:    "integer expected",
			content: "sources:\n  - name: a\n    max_body_bytes: lots\n",
			line:    3, msg: "expected an integer, got a string",
		},
		{
			name:    "string expected",
			content: "endpoints:\n  - name: a\n    url: https://x.test\n    timeout: [1s]\n",
			line:    4, msg: "expected a string, got a list",
		},
		{
			name:    "bool expected",
			content: "subscriptions:\n  - name: a\n    enabled: {x: 1}\n",
			line:    3, msg: "expected true or false",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path, fe := declarationFails(t, tc, nil)
			require.Contains(t, fe.Msg, tc.msg)
			require.Contains(t, fe.Error(), path+":"+itoa(tc.line)+":")
			require.Contains(t, fe.Snippet, ">")

			_, err := Load(path, nil)
			require.ErrorAs(t, err, &fe, "Load reports the same mistake")
			require.Equal(t, tc.line, fe.Line)
		})
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func TestExpandReferences(t *testing.T) {
	t.Parallel()
	path := writeFile(t, `endpoints:
  - name: e-${ENV}
    url: https://${HOST}/hooks?a=$x
    headers:
      X-Empty: "[${EMPTY}]"
      X-Literal: "$${HOST} and $$HOST"
sources:
  - name: s
    description: ${HOST}${HOST}
    keep_headers: ["X-${ENV}"]
    verification: {kind: hmac, secrets: ["${SECRET}"]}
event_types:
  - name: a.b
    schema: {const: "${HOST}"}
`)
	d, _, err := LoadDeclaration(path, env(map[string]string{"ENV": "prod", "HOST": "h.test", "EMPTY": "", "SECRET": "s3"}))
	require.NoError(t, err)
	ep := d.Endpoints[0]
	require.Equal(t, "e-prod", ep.Name)
	require.Equal(t, "https://h.test/hooks?a=$x", ep.URL, "a lone $ stays")
	require.Equal(t, "[]", ep.Headers["X-Empty"], "a set but empty variable expands to nothing")
	require.Equal(t, "${HOST} and $$HOST", ep.Headers["X-Literal"], "$${ escapes")
	src := d.Sources[0]
	require.Equal(t, "h.testh.test", *src.Description)
	require.Equal(t, []string{"X-prod"}, *src.KeepHeaders)
	require.Equal(t, []string{"s3"}, src.Verification.Secrets)
	require.JSONEq(t, `{"const":"${HOST}"}`, string(d.EventTypes[0].Schema), "schemas are JSON, not expanded")
}

func TestExpandUnsetVariable(t *testing.T) {
	t.Parallel()
	cases := []fileCase{
		{
			name:    "list item",
			content: "sources:\n  - name: s\n    verification:\n      kind: github\n      secrets:\n        - ok\n        - ${GITHUB_SECRET}\n",
			line:    7, msg: "sources[0].verification.secrets[1]: ${GITHUB_SECRET} is not set",
		},
		{
			name:    "map value",
			content: "endpoints:\n  - name: e\n    url: https://x.test\n    headers:\n      X-A: a\n      X-Token: ${TOKEN}\n",
			line:    6, msg: "endpoints[0].headers.X-Token: ${TOKEN} is not set",
		},
		{
			name:    "inlined field",
			content: "endpoints:\n  - name: e\n    url: https://${HOST}/x\n",
			line:    3, msg: "endpoints[0].url: ${HOST} is not set",
		},
		{
			name:    "multi-line value",
			content: "subscriptions:\n  - name: s\n    transform: |\n      {\"a\": 1,\n       \"b\": \"${B}\"}\n",
			line:    3, msg: "subscriptions[0].transform: ${B} is not set",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path, fe := declarationFails(t, tc, env(nil))
			require.Equal(t, tc.msg, fe.Msg)
			require.Equal(t, path+":"+itoa(tc.line)+": "+tc.msg, fe.Error())
		})
	}

	// Load expands too, and a nil lookup knows no variable.
	path := writeFile(t, "addr: x\nendpoints:\n  - name: e\n    url: ${URL}\n")
	_, err := Load(path, nil)
	require.ErrorContains(t, err, path+":4: endpoints[0].url: ${URL} is not set")
}

const locateDoc = `# hookline.yaml
endpoints:
  - name: billing
    url: https://x.test
    headers:
      "X.Dotted": v
sources:
  - name: github
    verification: {kind: github}
  - name: stripe
    description: payments
    verification:
      kind: strype
      secrets:
        - a
subscriptions:
  - name: s
    destination:
      kind: forward
      endpoint: nope
`

func TestLocate(t *testing.T) {
	t.Parallel()
	cases := []struct {
		resource, field string
		line            int
		ok              bool
	}{
		{"sources[1]", "verification.kind", 13, true},
		{"sources[1]", "verification", 12, true},
		{"sources[1]", "verification.secrets", 14, true},
		{"sources[1]", "", 10, true},
		{"sources[1]", "name", 10, true},
		{"sources[0]", "verification.kind", 9, true},
		{"sources[0]", "verification.secrets", 9, true},
		{"sources[1]", "event_type.header", 10, true},
		{"sources[1]", "source", 10, true},
		{"subscriptions[0]", "destination.endpoint", 20, true},
		{"endpoints[0]", "url", 4, true},
		{"endpoints[0]", "headers", 5, true},
		{"sources[2]", "name", 0, false},
		{"event_types[0]", "name", 0, false},
		{"bogus path!", "", 0, false},
	}
	for _, tc := range cases {
		line, ok := Locate([]byte(locateDoc), tc.resource, tc.field)
		require.Equal(t, tc.ok, ok, "%s %s", tc.resource, tc.field)
		require.Equal(t, tc.line, line, "%s %s", tc.resource, tc.field)
	}

	line, ok := locatePath([]byte(locateDoc), yamlPath{}.key("endpoints").index(0).key("headers").key("X.Dotted"), 1)
	require.True(t, ok)
	require.Equal(t, 6, line, "keys that need quoting are found")

	_, ok = Locate([]byte("a: [unclosed"), "sources[0]", "")
	require.False(t, ok, "a file that does not parse locates nothing")
}

func TestRestartKeys(t *testing.T) {
	t.Parallel()
	a := Default()
	b := Default()
	b.Sources = []wire.SourceCreate{{Name: "x"}}
	b.AllowNetworks = []string{}
	require.Empty(t, a.RestartKeys(b), "resources and empty lists are not restart keys")

	b.Addr = "0.0.0.0:1"
	b.Workers = 1
	b.AllowNetworks = []string{"10.0.0.0/8"}
	require.Equal(t, []string{"addr", "allow_networks", "workers"}, a.RestartKeys(b))
}

// TestYAMLBombsInFiles holds that a config file, and every file the CLI
// reads through DecodeYAML, is bounded before it is parsed: a deep or
// alias-expanding document is a *FileError at its line.
func TestYAMLBombsInFiles(t *testing.T) {
	t.Parallel()
	laughs := "x0: &x0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
	for i := 1; i <= 9; i++ {
		p, n := fmt.Sprintf("*x%d", i-1), fmt.Sprintf("x%d", i)
		laughs += n + ": &" + n + " [" + strings.Repeat(p+", ", 8) + p + "]\n"
	}
	cases := map[string]struct {
		content string
		line    int
		msg     string
	}{
		"deep":    {"workers: 1\nsources: " + strings.Repeat("[", 100000), 2, "nests deeper than 64 levels"},
		"aliases": {"workers: 1\nsources: []\nevent_types:\n  - name: a.b\n    schema:\n" + indent(laughs, "      "), 12, "aliases expand to more than"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			path := writeFile(t, tc.content)
			_, err := Load(path, nil)
			var fe *FileError
			require.ErrorAs(t, err, &fe)
			require.Equal(t, tc.line, fe.Line, "%v", err)
			require.Contains(t, fe.Msg, tc.msg)
			_, _, err = LoadDeclaration(path, nil)
			require.ErrorAs(t, err, &fe)
		})
	}
}

func indent(s, prefix string) string {
	return prefix + strings.ReplaceAll(strings.TrimSuffix(s, "\n"), "\n", "\n"+prefix) + "\n"
}

// FuzzDecodeYAML holds that no file makes the config decoder panic or run
// away: whatever it is, DecodeYAML returns a value or an error.
func FuzzDecodeYAML(f *testing.F) {
	f.Add([]byte(serveAndResources))
	f.Add([]byte("sources:\n  - name: hooks\n    verification: {kind: none}\n"))
	f.Add([]byte("a: &a [1, 2]\nworkflows: [*a, *a]\n"))
	f.Add([]byte("event_types: " + strings.Repeat("[", 100)))
	f.Fuzz(func(t *testing.T, data []byte) {
		var cfg Config
		err := DecodeYAML("fuzz.yaml", data, &cfg)
		var fe *FileError
		if err != nil && errors.As(err, &fe) && fe.Line < 1 {
			t.Fatalf("a FileError without a line: %v", err)
		}
	})
}
