package content

import (
	"encoding/json"

	"github.com/hookline/hookline/internal/engine"
)

// The attempt details of notify, message and digest tasks: what an attempt
// decided, as JSON built by json.Marshal (never by fmt: %q does not quote
// control bytes the way JSON does).
type (
	// skipped is why an attempt sent nothing.
	skipped struct {
		Reason string `json:"reason"`
	}
	// notified lists the messages a notify rule made.
	notified struct {
		Messages []notifiedMessage `json:"messages"`
	}
	notifiedMessage struct {
		ID      string `json:"id"`
		Channel string `json:"channel"`
		Status  string `json:"status"`
		Error   string `json:"error"`
	}
	// sent is a message sent on its channel; Subject is cut at 200 bytes.
	sent struct {
		Channel string `json:"channel"`
		Subject string `json:"subject"`
	}
	// digestSent is a digest sent as one email.
	digestSent struct {
		Digest   string `json:"digest"`
		Messages int    `json:"messages"`
	}
)

// describe records d as the attempt's detail.
func describe(out *engine.Outcome, d any) {
	// The details are structs of strings and ints: Marshal cannot fail.
	out.Attempt.Detail, _ = json.Marshal(d)
}
