// Package publicurl says where this server is reached from outside, for
// the absolute links it hands out (a source's URL, a portal link).
package publicurl

import (
	"net/http"
	"strings"
)

// Base is the configured public URL without a trailing slash when there
// is one, else the scheme and host the request came to.
func Base(configured string, r *http.Request) string {
	if configured != "" {
		return strings.TrimRight(configured, "/")
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}
