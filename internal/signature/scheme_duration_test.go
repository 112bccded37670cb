package signature

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/stretchr/testify/require"
)

func TestDurationJSON(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in      string
		want    time.Duration
		wantErr string
	}{
		{in: `"5m"`, want: 5 * time.Minute},
		{in: `"1h30m"`, want: 90 * time.Minute},
		{in: `"0s"`, want: 0},
		{in: `null`, want: 0},
		{in: `300`, wantErr: `want a duration string such as "5m", got 300`},
		{in: `"5 minutes"`, wantErr: `want a duration string such as "5m"`},
		{in: `"300"`, wantErr: "missing unit"},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			t.Parallel()
			var d Duration
			err := json.Unmarshal([]byte(c.in), &d)
			if c.wantErr != "" {
				require.ErrorContains(t, err, c.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, c.want, d.Duration)
		})
	}

	out, err := json.Marshal(Duration{90 * time.Second})
	require.NoError(t, err)
	require.JSONEq(t, `"1m30s"`, string(out))
}

func TestDurationYAML(t *testing.T) {
	t.Parallel()
	type doc struct {
		Tolerance Duration `yaml:"tolerance"`
	}
	var d doc
	require.NoError(t, yaml.UnmarshalWithOptions([]byte("tolerance: 90s\n"), &d, yaml.Strict()))
	require.Equal(t, 90*time.Second, d.Tolerance.Duration)

	out, err := yaml.Marshal(doc{Tolerance: Duration{10 * time.Minute}})
	require.NoError(t, err)
	require.Equal(t, "tolerance: 10m0s\n", string(out))

	require.ErrorContains(t, yaml.Unmarshal([]byte("tolerance: ten minutes\n"), &d), `want a duration string such as "5m"`)
	require.ErrorContains(t, yaml.Unmarshal([]byte("tolerance: [1]\n"), &d), "cannot unmarshal")
}

func TestSchemeEncoding(t *testing.T) {
	t.Parallel()
	s := Scheme{
		Kind: KindHMAC, Secrets: []string{"s1", "s2"}, Tolerance: Duration{2 * time.Minute}, Algorithm: "sha512",
		Header: "X-Sig", Prefix: "v1=", Encoding: "base64", SignedContent: "{timestamp}.{body}",
		TimestampHeader: "X-Ts",
	}
	wantJSON := `{"kind":"hmac","secrets":["s1","s2"],"tolerance":"2m0s","algorithm":"sha512","header":"X-Sig",
		"prefix":"v1=","encoding":"base64","signed_content":"{timestamp}.{body}","timestamp_header":"X-Ts"}`

	out, err := json.Marshal(s)
	require.NoError(t, err)
	require.JSONEq(t, wantJSON, string(out))
	var fromJSON Scheme
	require.NoError(t, json.Unmarshal(out, &fromJSON))
	require.Equal(t, s, fromJSON)

	// The configuration file's form, read strictly as internal/config does.
	const written = `kind: hmac
secrets: [s1, s2]
tolerance: 2m
algorithm: sha512
header: X-Sig
prefix: v1=
encoding: base64
signed_content: "{timestamp}.{body}"
timestamp_header: X-Ts
`
	var fromYAML Scheme
	require.NoError(t, yaml.UnmarshalWithOptions([]byte(written), &fromYAML, yaml.Strict()))
	require.Equal(t, s, fromYAML)
	require.NoError(t, fromYAML.Validate())
	out, err = yaml.Marshal(s)
	require.NoError(t, err)
	var roundTrip Scheme
	require.NoError(t, yaml.Unmarshal(out, &roundTrip))
	require.Equal(t, s, roundTrip)

	// Unset fields are left out, the zero tolerance included.
	out, err = json.Marshal(Scheme{Kind: KindGitHub, Secrets: []string{"s"}})
	require.NoError(t, err)
	require.JSONEq(t, `{"kind":"github","secrets":["s"]}`, string(out))
	out, err = yaml.Marshal(Scheme{Kind: KindNone})
	require.NoError(t, err)
	require.Equal(t, "kind: none\n", string(out))
}
