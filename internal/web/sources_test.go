package web_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/client"
	"github.com/hookline/hookline/internal/config"
)

const githubSecret = "It's a Secret to Everybody"

// githubSource creates a source verifying GitHub's signatures.
func (b *bundle) githubSource(name string) *client.Source {
	b.t.Helper()
	src, err := b.api.CreateSource(context.Background(), client.SourceCreate{Name: name,
		Verification: &client.Verification{Kind: "github", Secrets: []string{githubSecret}}})
	require.NoError(b.t, err)
	return src
}

// postGitHub sends body to the source as GitHub does, signed with secret,
// and returns the status.
func (b *bundle) postGitHub(name, secret, delivery, body string) int {
	b.t.Helper()
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(body))
	req, err := http.NewRequest(http.MethodPost, b.url+"/in/"+name, strings.NewReader(body))
	require.NoError(b.t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-GitHub-Event", "push")
	req.Header.Set("X-GitHub-Delivery", delivery)
	req.Header.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(mac.Sum(nil)))
	resp, err := http.DefaultClient.Do(req)
	require.NoError(b.t, err)
	resp.Body.Close()
	return resp.StatusCode
}

func TestSourcePages(t *testing.T) {
	t.Parallel()
	b, c := setupSignedIn(t)

	_, page := b.get(c, "/sources")
	require.Contains(t, page, "No sources yet")

	src := b.githubSource("github")
	require.Equal(t, http.StatusOK, b.postGitHub("github", githubSecret, "d-1", `{"ref": "refs/heads/main"}`))
	require.Equal(t, http.StatusUnauthorized, b.postGitHub("github", "wrong secret", "d-2", `{"ref": "x"}`))
	evs, err := b.api.ListEvents(context.Background(), client.EventListOptions{Source: "github"})
	require.NoError(t, err)
	require.Len(t, evs.Data, 1)

	resp, page := b.get(c, "/sources")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, page, `href="/sources/`+src.ID+`"`)
	require.Contains(t, page, b.url+"/in/github")

	resp, page = b.get(c, "/sources/"+src.ID)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, page, `<code id="source-url">`+b.url+`/in/github</code>`, "the absolute URL, from the request")
	require.Contains(t, page, `<span class="mono" id="source-scheme">github</span>`)
	require.Contains(t, page, "1 configured")
	require.NotContains(t, page, "Secret to Everybody")
	require.NotContains(t, page, "body****", "not even the masked tail")
	require.Contains(t, page, `href="/events/`+evs.Data[0].ID+`"`, "the event received")
	require.Contains(t, page, "X-Hub-Signature-256 matches no configured secret", "the rejection's reason")
	require.Contains(t, page, "POST</span> from <span class=\"mono\">127.0.0.1:")
	require.Contains(t, page, " · 12 bytes", "the size of the refused body")
	require.NotRegexp(t, inline, page)

	// The event's page shows the headers it was received with.
	_, page = b.get(c, "/events/"+evs.Data[0].ID)
	require.Contains(t, page, "X-Github-Delivery")

	resp, page = b.get(c, "/sources/"+src.ID+"?cursor=nope")
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)
	require.Contains(t, page, "cursor")
	resp, _ = b.get(c, "/sources/src_01m98mbz1jvbgd0hysghn5dn13")
	require.Equal(t, http.StatusNotFound, resp.StatusCode)

	// Another tenant sees none of it.
	oc, _ := b.otherTenant()
	resp, _ = b.get(oc, "/sources/"+src.ID)
	require.Equal(t, http.StatusNotFound, resp.StatusCode)
	_, page = b.get(oc, "/sources")
	require.NotContains(t, page, src.ID)
}

// With public_url set, a source's URL starts with it, whatever host the
// browser used.
func TestSourceURLFromPublicURL(t *testing.T) {
	t.Parallel()
	b := setupWith(t, func(cfg *config.Config) { cfg.PublicURL = "https://hooks.example.com" })
	c := b.signedIn()
	src := b.githubSource("gh")
	_, page := b.get(c, "/sources/"+src.ID)
	require.Contains(t, page, `<code id="source-url">https://hooks.example.com/in/gh</code>`)
}
