package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"github.com/stretchr/testify/require"
)

// testSecret is a whsec_ secret: base64 of 24 bytes.
const testSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

// signedRequest returns a request with body, signed with the official
// Standard Webhooks library.
func signedRequest(t *testing.T, body string) *http.Request {
	t.Helper()
	wh, err := standardwebhooks.NewWebhook(testSecret)
	require.NoError(t, err)
	now := time.Now()
	sig, err := wh.Sign("msg_1", now, []byte(body))
	require.NoError(t, err)
	r := httptest.NewRequest(http.MethodPost, "/hooks?x=1", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set(standardwebhooks.HeaderWebhookID, "msg_1")
	r.Header.Set(standardwebhooks.HeaderWebhookTimestamp, strconv.FormatInt(now.Unix(), 10))
	r.Header.Set(standardwebhooks.HeaderWebhookSignature, sig)
	return r
}

// serveListen runs one request through the listen handler and returns the
// answer and what it printed.
func serveListen(t *testing.T, cfg listenConfig, r *http.Request) (*httptest.ResponseRecorder, string) {
	t.Helper()
	var out bytes.Buffer
	rec := httptest.NewRecorder()
	newListenHandler(&out, cfg).ServeHTTP(rec, r)
	return rec, out.String()
}

func TestListenVerifiesSignature(t *testing.T) {
	t.Parallel()
	wh, err := parseSecret(testSecret)
	require.NoError(t, err)
	cfg := listenConfig{verifier: wh, status: http.StatusAccepted}

	rec, out := serveListen(t, cfg, signedRequest(t, `{"type":"order.created","data":{"total":42}}`))
	require.Equal(t, http.StatusAccepted, rec.Code)
	require.JSONEq(t, `{"ok":true}`, rec.Body.String())
	require.Contains(t, out, "POST /hooks?x=1\n")
	require.Contains(t, out, "webhook-id: msg_1\n")
	require.Contains(t, out, "content-type: application/json\n")
	require.Contains(t, out, "\n  \"data\": {\n    \"total\": 42\n  }\n")
	require.Contains(t, out, "signature: verified\n")

	tampered := signedRequest(t, `{"total":42}`)
	tampered.Body = io.NopCloser(strings.NewReader(`{"total":4200}`))
	_, out = serveListen(t, cfg, tampered)
	require.Contains(t, out, "signature: INVALID (no signature matches the secret)\n")

	unsigned := signedRequest(t, `{}`)
	unsigned.Header.Del(standardwebhooks.HeaderWebhookSignature)
	_, out = serveListen(t, cfg, unsigned)
	require.Contains(t, out, "signature: INVALID (missing webhook-id, webhook-timestamp or webhook-signature header)\n")
}

func TestListenWithoutSecret(t *testing.T) {
	t.Parallel()
	rec, out := serveListen(t, listenConfig{status: http.StatusOK}, signedRequest(t, "plain text"))
	require.Equal(t, http.StatusOK, rec.Code)
	require.Contains(t, out, "body (10 bytes):\nplain text\n")
	require.Contains(t, out, "signature: not checked (no --secret)\n")
}

func TestListenLimitsBody(t *testing.T) {
	t.Parallel()
	big := `"` + strings.Repeat("a", maxListenBody) + `"`
	rec, out := serveListen(t, listenConfig{status: http.StatusOK}, signedRequest(t, big))
	require.Equal(t, http.StatusRequestEntityTooLarge, rec.Code)
	require.Contains(t, out, "body: rejected, larger than 1048576 bytes")

	shown := showBody([]byte(strings.Repeat("b", maxShownBody+10)))
	require.Contains(t, shown, "… (cut at 4 KiB)")
	require.Less(t, len(shown), maxShownBody+100)
}

func TestParseSecretRejectsBadSecrets(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"whsec_", "whsec_not base64!"} {
		_, err := parseSecret(s)
		require.Error(t, err, s)
	}
}

func TestServeUntilDoneStopsOnCancel(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := &http.Server{Handler: newListenHandler(&bytes.Buffer{}, listenConfig{status: http.StatusNoContent})}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- serveUntilDone(ctx, srv, ln) }()

	resp, err := http.Post("http://"+ln.Addr().String()+"/", "text/plain", strings.NewReader("hi"))
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	require.Equal(t, http.StatusNoContent, resp.StatusCode)

	cancel()
	require.NoError(t, <-done)
}
