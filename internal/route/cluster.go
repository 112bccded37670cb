package route

import (
	"context"
	"encoding/json"
	"strings"
	"time"
)

// Cluster messages: a prefix, the sending process's origin on the second
// line, then the tenant id (invalidate) or the wait as JSON.
const (
	msgInvalidate = "route-invalidate\n"
	msgWait       = "route-wait\n"
)

// announceTimeout bounds telling the other nodes of a change; one not
// told sees it after MaxAge.
const announceTimeout = 5 * time.Second

// wireWait is a Wait with its tenant, as a cluster message carries it.
type wireWait struct {
	TenantID string `json:"tenant_id"`
	Kind     string `json:"kind"`
	RunID    string `json:"run_id"`
	Rev      int    `json:"rev"`
	Pattern  string `json:"pattern,omitempty"`
	EventID  string `json:"event_id,omitempty"`
	Key      string `json:"key,omitempty"`
	Value    string `json:"value,omitempty"`
}

func invalidateMessage(origin, tenantID string) string {
	return msgInvalidate + origin + "\n" + tenantID
}

func waitMessage(origin, tenantID string, w Wait) string {
	b, _ := json.Marshal(wireWait{TenantID: tenantID, Kind: w.Kind, RunID: w.RunID, Rev: w.Rev, Pattern: w.Pattern, EventID: w.EventID,
		Key: w.Key, Value: w.Value})
	return msgWait + origin + "\n" + string(b)
}

// announce tells the other nodes, if any, of a change already applied
// here.
func (t *Table) announce(ctx context.Context, msg string) {
	if t.cfg.Cluster == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), announceTimeout)
	defer cancel()
	if err := t.cfg.Cluster.Notify(ctx, msg); err != nil {
		t.cfg.Logger.WarnContext(ctx, "cluster: announce routing change; other nodes see it within max age",
			"max_age", t.cfg.MaxAge, "error", err)
	}
}

// Receive applies a cluster message from another node and reports
// whether msg was a routing message (this node's own are ignored).
func (t *Table) Receive(msg string) bool {
	var body string
	var wait bool
	switch {
	case strings.HasPrefix(msg, msgInvalidate):
		body = msg[len(msgInvalidate):]
	case strings.HasPrefix(msg, msgWait):
		body, wait = msg[len(msgWait):], true
	default:
		return false
	}
	origin, body, ok := strings.Cut(body, "\n")
	if !ok || origin == t.origin {
		return true
	}
	if !wait {
		t.invalidate(body)
		return true
	}
	var w wireWait
	if err := json.Unmarshal([]byte(body), &w); err != nil || w.TenantID == "" || w.RunID == "" {
		t.cfg.Logger.Warn("cluster: a routing message that does not parse", "error", err)
		return true
	}
	t.setWait(w.TenantID, Wait{Kind: w.Kind, RunID: w.RunID, Rev: w.Rev, Pattern: w.Pattern, EventID: w.EventID, Key: w.Key, Value: w.Value})
	return true
}
