package ingest

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/internal/signature"
)

func TestRequestHeaders(t *testing.T) {
	t.Parallel()
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("Stripe-Signature", "t=1,v1=abc")
	h.Set("Authorization", "Bearer hookline-key")
	h.Set("Cookie", "a=b")
	h.Set("X-Source-Key", "k")
	h.Set("Connection", "keep-alive")
	h.Set("Content-Length", "12")
	h.Set("Transfer-Encoding", "chunked")
	h.Add("X-Multi", "1")
	h.Add("X-Multi", "2")
	h.Set("X-Huge", strings.Repeat("x", MaxRequestHeader+1))
	h.Set("X-Not-Utf8", "\xff")
	src := &Source{Scheme: signature.Scheme{Kind: signature.KindAPIKey, Header: "X-Source-Key"}}
	require.Equal(t, map[string]string{
		"Content-Type": "application/json", "Stripe-Signature": "t=1,v1=abc", "X-Multi": "1, 2",
	}, requestHeaders(h, src), "credentials, the source's key, hop-by-hop headers and what passes the bounds are left out")

	many := http.Header{}
	for i := range MaxRequestHeaders + 10 {
		many.Set(fmt.Sprintf("X-H%03d", i), "v")
	}
	require.Len(t, requestHeaders(many, &Source{}), MaxRequestHeaders)

	big := http.Header{}
	for i := range 10 {
		big.Set(fmt.Sprintf("X-B%d", i), strings.Repeat("y", MaxRequestHeader-100))
	}
	got := requestHeaders(big, &Source{})
	size := 0
	for k, v := range got {
		size += len(k) + len(v)
	}
	require.LessOrEqual(t, size, MaxRequestHeaderBytes)
	require.Len(t, got, MaxRequestHeaderBytes/MaxRequestHeader)
}
