package config

import (
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// configDoc is docs/config.md, read from the package directory.
func configDoc(t *testing.T) string {
	t.Helper()
	raw, err := os.ReadFile("../../docs/config.md")
	require.NoError(t, err)
	return string(raw)
}

// section returns the lines of doc after heading up to the next heading of
// the same or a higher level, outside code blocks.
func section(t *testing.T, doc, heading string) string {
	t.Helper()
	level := strings.IndexByte(heading, ' ')
	var out []string
	in, fenced := false, false
	for line := range strings.Lines(doc) {
		if strings.HasPrefix(line, "```") {
			fenced = !fenced
		}
		if !fenced && strings.HasPrefix(line, "#") {
			n := len(line) - len(strings.TrimLeft(line, "#"))
			if in && n <= level {
				break
			}
			if strings.TrimRight(line, "\n") == heading {
				in = true
				continue
			}
		}
		if in {
			out = append(out, line)
		}
	}
	require.True(t, in, "docs/config.md has no heading %q", heading)
	return strings.Join(out, "")
}

// serverKeys returns the dotted YAML keys of the server settings in t
// ("addr", "smtp.host", …): every tagged field, recursing into structs
// other than durations, without the inlined declaration.
func serverKeys(t reflect.Type, prefix string) []string {
	var keys []string
	for i := range t.NumField() {
		f := t.Field(i)
		key := yamlKey(f)
		if key == "" {
			continue
		}
		if f.Type.Kind() == reflect.Struct && f.Type != reflect.TypeFor[time.Duration]() {
			keys = append(keys, serverKeys(f.Type, prefix+key+".")...)
			continue
		}
		keys = append(keys, prefix+key)
	}
	return keys
}

// mapKeys returns the dotted keys of the leaves of a decoded YAML mapping.
func mapKeys(m map[string]any, prefix string) []string {
	var keys []string
	for k, v := range m {
		if sub, ok := v.(map[string]any); ok {
			keys = append(keys, mapKeys(sub, prefix+k+".")...)
			continue
		}
		keys = append(keys, prefix+k)
	}
	return keys
}

func TestServerKeysFindNestedKeys(t *testing.T) {
	t.Parallel()
	keys := serverKeys(reflect.TypeFor[Config](), "")
	require.Contains(t, keys, "database")
	require.Contains(t, keys, "cluster_heartbeat")
	require.Contains(t, keys, "smtp.from")
	require.NotContains(t, keys, "smtp")
	require.NotContains(t, keys, "endpoints", "declared resources are not server keys")
}

// TestDocKeysTable fails when a server key has no row in the Keys table of
// docs/config.md, or the table has a row for a key that does not exist.
func TestDocKeysTable(t *testing.T) {
	t.Parallel()
	table := section(t, configDoc(t), "## Keys")
	var rows []string
	for _, m := range regexp.MustCompile("(?m)^\\| `([a-z_.]+)` \\|").FindAllStringSubmatch(table, -1) {
		rows = append(rows, m[1])
	}
	want := serverKeys(reflect.TypeFor[Config](), "")
	slices.Sort(want)
	slices.Sort(rows)
	require.Equal(t, want, rows, "the rows of the Keys table of docs/config.md")
}

// TestDocKeysTableEnvAndFlag fails when the environment variable or flag
// column of a row of the Keys table of docs/config.md is not the one the
// setting's tags give ("—" for no flag).
func TestDocKeysTableEnvAndFlag(t *testing.T) {
	t.Parallel()
	table := section(t, configDoc(t), "## Keys")
	type cols struct{ env, flag string }
	got := map[string]cols{}
	for _, m := range regexp.MustCompile("(?m)^\\| `([a-z_.]+)` \\| ([^|]*) \\| ([^|]*) \\|").FindAllStringSubmatch(table, -1) {
		got[m[1]] = cols{m[2], m[3]}
	}
	want := map[string]cols{}
	for _, s := range Settings() {
		c := cols{"—", "—"}
		if s.Env != "" {
			c.env = "`" + s.Env + "`"
		}
		if s.Flag != "" {
			c.flag = "`--" + s.Flag + "`"
		}
		want[s.Key] = c
	}
	require.Equal(t, want, got, "the environment variable and flag columns of the Keys table of docs/config.md")
}

// TestDocSampleHasEveryKey fails when the "every key" sample of
// docs/config.md misses a server key, names one that does not exist, or
// shows a value other than the default.
func TestDocSampleHasEveryKey(t *testing.T) {
	t.Parallel()
	sec := section(t, configDoc(t), "## Sample `hookline.yaml`")
	m := regexp.MustCompile("(?s)```yaml\n(.*?)```").FindStringSubmatch(sec)
	require.NotNil(t, m, "the sample section has a yaml block")
	sample := m[1]

	var tree map[string]any
	require.NoError(t, yaml.Unmarshal([]byte(sample), &tree))
	got := mapKeys(tree, "")
	want := serverKeys(reflect.TypeFor[Config](), "")
	slices.Sort(got)
	slices.Sort(want)
	require.Equal(t, want, got, "the keys of the sample in docs/config.md")

	cfg, err := Parse("config.md", []byte(sample), nil)
	require.NoError(t, err)
	require.NoError(t, cfg.Validate())
	def := Default()
	// The sample spells out the defaults that are empty values in code.
	def.SMTP.TLS = "starttls"
	cv, dv := reflect.ValueOf(cfg), reflect.ValueOf(def)
	for i := range cv.NumField() {
		f := cv.Type().Field(i)
		if f.Anonymous {
			continue
		}
		a, b := cv.Field(i), dv.Field(i)
		if a.Kind() == reflect.Slice && a.Len() == 0 && b.Len() == 0 {
			continue
		}
		assert.Equal(t, b.Interface(), a.Interface(), "sample value of %s", yamlKey(f))
	}
}

// TestDocDeclarationKeys fails when docs/config.md does not name a key
// resources are declared under.
func TestDocDeclarationKeys(t *testing.T) {
	t.Parallel()
	sec := section(t, configDoc(t), "## Declaring resources")
	intro, _, _ := strings.Cut(sec, "```")
	for _, key := range DeclarationKeys() {
		assert.Contains(t, intro, "`"+key+"`", "the list of declarable keys in docs/config.md")
	}
}

func TestDeclarationKeysAreAccepted(t *testing.T) {
	t.Parallel()
	keys := DeclarationKeys()
	require.Equal(t, []string{"event_types", "endpoints", "sources", "subscriptions", "collections",
		"workflows", "templates", "recipients", "notify_rules"}, keys)
	for _, key := range keys {
		_, err := Parse("hookline.yaml", []byte(key+": []\n"), nil)
		require.NoError(t, err, key)
	}
	_, err := Parse("hookline.yaml", []byte("widgets: []\n"), nil)
	require.Error(t, err, "an unknown key is refused, so the keys above were checked")
}
