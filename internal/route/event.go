package route

import (
	"github.com/hookline/hookline/internal/event"
	"github.com/hookline/hookline/internal/expr"
)

// Event is an event being routed. Its data is parsed at most once, on the
// first call of Env or Data, and every filter and condition of the route
// sees that one parsed value. It is not safe for concurrent use.
type Event struct {
	*event.Event
	env    expr.Env
	err    error
	parsed bool
}

// NewEvent wraps e for routing.
func NewEvent(e *event.Event) *Event { return &Event{Event: e} }

// Env returns the variables filters see (expr.EventEnv), parsing the
// event's data on the first call.
func (e *Event) Env() (expr.Env, error) {
	if !e.parsed {
		e.env, e.err = expr.EventEnv(e.Event)
		e.parsed = true
	}
	return e.env, e.err
}

// Data returns the event's parsed data: nil when it has none or it is not
// JSON.
func (e *Event) Data() any {
	env, err := e.Env()
	if err != nil {
		return nil
	}
	return env["data"]
}

// Field returns the value at a path of object keys in the event's data,
// and whether it is there.
func (e *Event) Field(path ...string) (any, bool) {
	v := e.Data()
	for _, k := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		if v, ok = m[k]; !ok {
			return nil, false
		}
	}
	return v, true
}
