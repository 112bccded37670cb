package api

import (
	"net/http"
	"path"
	"slices"
	"strings"
)

// rootCatchAll are the patterns Root registers on the server's mux: "/"
// for paths no route has, and "/v1", which ServeMux would otherwise
// redirect to the API's subtree "/v1/".
var rootCatchAll = []string{"/", "/v1"}

// Root returns the server's root handler around mux, once every route is
// on mux: what ServeMux would answer by itself is a JSON error instead.
// A path that is not clean (an empty, "." or ".." segment) is a 404,
// where ServeMux would redirect to the cleaned path (/v1/../../etc/passwd
// to /etc/passwd); a path no route has is a 404 and a path with routes for
// other methods a 405 with Allow, where ServeMux answers plain text. Root
// registers rootCatchAll on mux.
func (s *Server) Root(mux *http.ServeMux) http.Handler {
	notFound := s.fallback(mux, rootCatchAll...)
	for _, p := range rootCatchAll {
		mux.Handle(p, notFound)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The escaped path, as ServeMux cleans it; CONNECT's authority
		// form has no path at all.
		if p := r.URL.EscapedPath(); p == "" || p != cleanPath(p) {
			writeError(w, r, s.log, errorf(http.StatusNotFound, codeNotFound,
				"no route %s %s: a path has no empty, . or .. segments", r.Method, r.RequestURI))
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// cleanPath is p as ServeMux cleans it: rooted, without empty, "." or ".."
// segments, with its trailing slash.
func cleanPath(p string) string {
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	np := path.Clean(p)
	if strings.HasSuffix(p, "/") && np != "/" {
		np += "/"
	}
	return np
}

// fallback answers, for the catch-all patterns of mux, an unknown path
// with a JSON 404 and a path with routes for other methods with a JSON
// 405 and Allow (the mux's own answers are plain text).
func (s *Server) fallback(mux *http.ServeMux, catchAll ...string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Ask the mux which other methods the path has.
		var allowed []string
		for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions} {
			probe := r.Clone(r.Context())
			probe.Method = m
			if _, pattern := mux.Handler(probe); pattern != "" && !slices.Contains(catchAll, pattern) {
				allowed = append(allowed, m)
			}
		}
		if len(allowed) > 0 {
			w.Header().Set("Allow", strings.Join(allowed, ", "))
			writeError(w, r, s.log, errorf(http.StatusMethodNotAllowed, codeMethodNotAllowed, "method %s is not allowed on %s; allowed: %s",
				r.Method, r.URL.Path, strings.Join(allowed, ", ")))
			return
		}
		writeError(w, r, s.log, errorf(http.StatusNotFound, codeNotFound, "no route %s %s", r.Method, r.URL.Path))
	})
}
