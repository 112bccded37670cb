package workflow

// The attempt details of workflow tasks, marshalled as the attempt's
// Detail (never built with fmt: %q does not quote control bytes the way
// JSON does). The fields are in the order of their names, as the maps they
// replace wrote them.
type (
	// skipped is why a task did nothing; EventID is the event a waiting run
	// was offered and did not match.
	skipped struct {
		EventID string `json:"event_id,omitempty"`
		Reason  string `json:"reason"`
	}
	// started is the run a start task made.
	started struct {
		RunID   string `json:"run_id"`
		Version int    `json:"version"`
	}
	// kept is an event a buffer task kept for keyed waits, and how many
	// waiting runs it was offered to.
	kept struct {
		Key     string `json:"key"`
		Offered int    `json:"offered"`
		Value   string `json:"value"`
	}
	// debouncedDetail is the event a debounced workflow's task recorded
	// for its key, and when the run starts unless a later one replaces it.
	debouncedDetail struct {
		Key   string `json:"key"`
		Until string `json:"until"`
	}
	// cut stands in the step log for an input or output longer than
	// maxLogged.
	cut struct {
		Bytes     int    `json:"bytes"`
		Preview   string `json:"preview"`
		Truncated bool   `json:"truncated"`
	}
	// progressed is where a step task left its run.
	progressed struct {
		CurrentStep string `json:"current_step"`
		RunID       string `json:"run_id"`
		Status      string `json:"status"`
	}
)
