package apply

// Helpers of the mappings between the wire types and the domains' own
// (collection_wire.go, workflow_wire.go, content_wire.go). Each keeps nil
// nil and empty empty, so a document stores and shows as it was written.

// each maps the elements of s with f.
func each[T, U any](s []T, f func(T) U) []U {
	if s == nil {
		return nil
	}
	out := make([]U, len(s))
	for i, v := range s {
		out[i] = f(v)
	}
	return out
}

// eachValue maps the values of m with f.
func eachValue[K comparable, V, W any](m map[K]V, f func(V) W) map[K]W {
	if m == nil {
		return nil
	}
	out := make(map[K]W, len(m))
	for k, v := range m {
		out[k] = f(v)
	}
	return out
}

// setIf sets *dst to *v when v is not nil: a field an update sets.
func setIf[T any](dst, v *T) {
	if v != nil {
		*dst = *v
	}
}

// ptr maps *p with f.
func ptr[T, U any](p *T, f func(T) U) *U {
	if p == nil {
		return nil
	}
	v := f(*p)
	return &v
}
