package web

// Route is a route of the dashboard or of the portal, for the tests of
// package web_test that go through every one.
type Route struct{ Method, Path string }

// Routes are the operator's routes (its live streams among them), under
// the prefix.
func Routes() []Route {
	var out []Route
	for _, rt := range append(append([]route{}, routes...), streams...) {
		out = append(out, Route{rt.method, rt.path})
	}
	return out
}

// PortalRoutes are the portal session's routes, under a session's root.
func PortalRoutes() []Route {
	var out []Route
	for _, rt := range portalRoutes {
		out = append(out, Route{rt.method, rt.path})
	}
	return out
}
