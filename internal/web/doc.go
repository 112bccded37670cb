// Package web is Hookline's web dashboard: server-rendered pages
// (html/template) enhanced by htmx, with one stylesheet, all embedded in
// the binary and served on the API's listener under a prefix.
//
// A user signs in with an API key and sees that key's tenant only. The
// session is a sealed cookie (HttpOnly, SameSite=Strict, Secure over TLS)
// holding the key's hash, never the key; every request checks that the
// key still exists. Every answer carries a strict Content-Security-Policy
// (no inline script or style), and every state-changing request passes
// http.CrossOriginProtection.
//
// Pages read and write through small interfaces declared here (Store,
// Engine, EndpointChecker, EventPreparer), which the store, the engine,
// the applier and the API's event checks satisfy: the same rules as the
// API, no SQL and no second copy of them.
package web
