package signature

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func basicAuth(user, password string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+password))
}

func TestSchemeBasic(t *testing.T) {
	t.Parallel()
	req := func(auth string) Request { return Request{Header: hdr("Authorization", auth), Body: []byte("{}")} }
	// net/http's client writes the header the way senders do.
	stdlib, err := http.NewRequest(http.MethodPost, "http://example.com", nil)
	require.NoError(t, err)
	stdlib.SetBasicAuth("hooks", "s3cret:with:colons")

	runVerifyCases(t, Scheme{Kind: KindBasic, Secrets: []string{"hooks:s3cret:with:colons"}}, time.Time{}, []verifyCase{
		{name: "set by net/http", req: Request{Header: stdlib.Header}},
		{name: "lower-case scheme", req: req("basic " + basicAuth("hooks", "s3cret:with:colons")[len("Basic "):])},
		{name: "second of two secrets", secrets: []string{"hooks:new", "hooks:s3cret:with:colons"}, req: req(basicAuth("hooks", "s3cret:with:colons"))},
		{name: "new secret", secrets: []string{"hooks:new", "hooks:s3cret:with:colons"}, req: req(basicAuth("hooks", "new"))},

		{name: "wrong password", req: req(basicAuth("hooks", "s3cret")), wantErr: ErrNoMatch},
		{name: "wrong user", req: req(basicAuth("admin", "s3cret:with:colons")), wantErr: ErrNoMatch},
		{name: "user and password of different secrets", secrets: []string{"hooks:new", "other:s3cret:with:colons"}, req: req(basicAuth("hooks", "s3cret:with:colons")), wantErr: ErrNoMatch},
		{name: "rotated-out secret", secrets: []string{"hooks:new"}, req: req(basicAuth("hooks", "s3cret:with:colons")), wantErr: ErrNoMatch},
		{name: "missing header", req: Request{Header: http.Header{}}, wantErr: ErrMissingHeaders},
		{name: "bearer token", req: req("Bearer hooks:s3cret"), wantErr: ErrMalformed},
		{name: "no credentials", req: req("Basic"), wantErr: ErrMalformed},
		{name: "not base64", req: req("Basic hooks:s3cret"), wantErr: ErrMalformed},
		{name: "no colon", req: req("Basic " + base64.StdEncoding.EncodeToString([]byte("hooks"))), wantErr: ErrMalformed},
	})
}

func TestSchemeAPIKey(t *testing.T) {
	t.Parallel()
	const key = "hk_live_3f9a2c"
	base := Scheme{Kind: KindAPIKey, Secrets: []string{key}}
	inHeader := func(name, value string) Request { return Request{Header: hdr(name, value)} }
	inQuery := func(value string) Request {
		return Request{Header: http.Header{}, Query: url.Values{"api_key": {value}}}
	}
	query := func(s *Scheme) { s.QueryParam = "api_key" }
	bearer := func(s *Scheme) { s.Header, s.Prefix = "Authorization", "Bearer " }
	both := func(s *Scheme) { s.Header, s.QueryParam = "X-Hook-Key", "api_key" }

	runVerifyCases(t, base, time.Time{}, []verifyCase{
		{name: "default header", req: inHeader("X-API-Key", key)},
		{name: "header name is case-insensitive", req: inHeader("x-api-key", key)},
		{name: "bearer header", scheme: bearer, req: inHeader("Authorization", "Bearer "+key)},
		{name: "bearer prefix case-insensitive", scheme: bearer, req: inHeader("Authorization", "bearer "+key)},
		{name: "query parameter", scheme: query, req: inQuery(key)},
		{name: "header or query: query", scheme: both, req: inQuery(key)},
		{name: "header or query: header", scheme: both, req: inHeader("X-Hook-Key", key)},
		{name: "second of two keys", secrets: []string{"hk_live_new", key}, req: inHeader("X-API-Key", key)},

		{name: "wrong key", req: inHeader("X-API-Key", key+"x"), wantErr: ErrNoMatch},
		{name: "prefix of the key", req: inHeader("X-API-Key", key[:5]), wantErr: ErrNoMatch},
		{name: "rotated-out key", secrets: []string{"hk_live_new"}, req: inHeader("X-API-Key", key), wantErr: ErrNoMatch},
		{name: "missing header", req: inHeader("Authorization", key), wantErr: ErrMissingHeaders},
		{name: "query not read unless configured", req: inQuery(key), wantErr: ErrMissingHeaders},
		{name: "header not read when only query is configured", scheme: query, req: inHeader("X-API-Key", key), wantErr: ErrMissingHeaders},
		{name: "missing query parameter", scheme: query, req: Request{Query: url.Values{"key": {key}}}, wantErr: ErrMissingHeaders},
		{name: "missing bearer prefix", scheme: bearer, req: inHeader("Authorization", key), wantErr: ErrMalformed},
		{name: "basic instead of bearer", scheme: bearer, req: inHeader("Authorization", basicAuth("u", key)), wantErr: ErrMalformed},
	})
}

func FuzzSchemeBasic(f *testing.F) {
	f.Add("user", "pass", "Basic dXNlcjpwYXNz")
	f.Add("u", "p:q", "basic")
	f.Add("u", "p", "Basic !!!")
	f.Add("", "", " ")
	f.Fuzz(func(t *testing.T, user, password, auth string) {
		if user == "" || password == "" {
			return
		}
		s := Scheme{Kind: KindBasic, Secrets: []string{user + ":" + password}}
		if err := s.Verify(Request{Header: hdr("Authorization", auth)}, time.Time{}); err != nil {
			require.ErrorIs(t, err, ErrVerification)
		}
		// The credentials of the secret pass, and another password fails.
		require.NoError(t, s.Verify(Request{Header: hdr("Authorization", basicAuth(user, password))}, time.Time{}))
		require.ErrorIs(t, s.Verify(Request{Header: hdr("Authorization", basicAuth(user, password+"!"))}, time.Time{}), ErrNoMatch)
	})
}

func FuzzSchemeAPIKey(f *testing.F) {
	f.Add("key", "X-API-Key", "", "", "key")
	f.Add("k", "Authorization", "Bearer ", "", "Bearer k")
	f.Add("k", "", "", "api_key", "")
	f.Add("k", "X Bad", "b", "q", "bb")
	f.Fuzz(func(t *testing.T, key, header, prefix, query, presented string) {
		if key == "" {
			return
		}
		s := Scheme{Kind: KindAPIKey, Secrets: []string{key}, Header: header, Prefix: prefix, QueryParam: query}
		r := Request{Header: http.Header{}, Query: url.Values{}}
		if header != "" {
			r.Header.Set(header, presented)
		}
		if query != "" {
			r.Query.Set(query, presented)
		}
		if err := s.Verify(r, time.Time{}); err != nil {
			require.ErrorIs(t, err, ErrVerification)
		}
		if s.Validate() != nil || header == "" {
			return
		}
		// The key in the configured header passes; a longer one fails.
		r = Request{Header: http.Header{}}
		r.Header.Set(header, prefix+key)
		require.NoError(t, s.Verify(r, time.Time{}))
		r.Header.Set(header, prefix+key+"x")
		require.ErrorIs(t, s.Verify(r, time.Time{}), ErrNoMatch)
	})
}
