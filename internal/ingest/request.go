package ingest

import (
	"maps"
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/hookline/hookline/internal/redact"
)

// Bounds of the request headers kept to forward a received event again.
const (
	// MaxRequestHeaders is how many headers are kept at most.
	MaxRequestHeaders = 64
	// MaxRequestHeader is the longest value kept: a longer one is left
	// out whole (a cut signature would only fail).
	MaxRequestHeader = 8 << 10
	// MaxRequestHeaderBytes bounds names and values together.
	MaxRequestHeaderBytes = 32 << 10
)

// notForwarded are headers that belong to one hop, or that the HTTP
// client sets from the body it sends.
var notForwarded = []string{
	"Connection", "Keep-Alive", "Proxy-Connection", "Te", "Trailer", "Transfer-Encoding", "Upgrade",
	"Host", "Content-Length", "Expect",
}

// requestHeaders are the headers of a received request kept to forward
// it again as it came (event.Event.RequestHeaders), by name, several
// values of one name joined with ", ". Left out: hop-by-hop headers,
// credentials (redact.Credential: Authorization, cookies, X-Api-Key, …
// and the source's API-key header) — they authenticated the request to
// Hookline and are never stored — and what passes the bounds, whole
// headers in name order. Signatures are kept: the app the event is
// forwarded to verifies them against the body kept byte for byte.
func requestHeaders(h http.Header, src *Source) map[string]string {
	out := make(map[string]string)
	size := 0
	for _, k := range slices.Sorted(maps.Keys(h)) {
		if slices.Contains(notForwarded, k) || redact.Credential(k) || slices.ContainsFunc(keyHeader(src), func(n string) bool { return strings.EqualFold(n, k) }) {
			continue
		}
		v := strings.Join(h[k], ", ")
		if len(v) > MaxRequestHeader || !utf8.ValidString(v) || size+len(k)+len(v) > MaxRequestHeaderBytes || len(out) == MaxRequestHeaders {
			continue
		}
		out[k] = v
		size += len(k) + len(v)
	}
	return out
}
