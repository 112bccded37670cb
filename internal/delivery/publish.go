package delivery

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hookline/hookline/internal/delivery/broker"
	"github.com/hookline/hookline/internal/engine"
	"github.com/hookline/hookline/internal/redact"
	"github.com/hookline/hookline/internal/signature"
	"github.com/hookline/hookline/internal/store"
)

// publish delivers task t's message to ep, an endpoint whose URL names a
// message system, with the headers an HTTP delivery carries (Standard
// Webhooks signature, content type, delivery id, the endpoint's own), and
// classifies the broker's answer as send classifies an HTTP one: an
// acknowledgement succeeds, anything else is a failed attempt to retry.
func (x *Executor) publish(ctx context.Context, ep *store.Endpoint, t *store.Task, body []byte, contentType string, out engine.Outcome) engine.Outcome {
	now := x.cfg.Clock.Now()
	out.Attempt.Kind = store.AttemptPublish
	if x.cfg.Brokers == nil {
		return publishFailed(out, "invalid_request", errors.New("this server does not publish to message systems"), true)
	}
	keys, err := x.activeKeys(nil, ep.Secrets, now)
	if err != nil {
		return publishFailed(out, "invalid_request", err, true)
	}
	headers := make(map[string]string, len(ep.Headers)+5)
	for k, v := range ep.Headers {
		headers[strings.ToLower(k)] = v
	}
	headers[signature.HeaderID] = t.EventID
	headers[signature.HeaderTimestamp] = strconv.FormatInt(now.Unix(), 10)
	headers[signature.HeaderSignature] = string(signature.AppendSignKeys(nil, keys, t.EventID, now, body))
	headers["content-type"] = contentType
	headers[strings.ToLower(HeaderDeliveryID)] = t.ID
	configured := slices.Collect(maps.Keys(ep.Headers))
	out.Attempt.RequestURL = ep.URL
	out.Attempt.RequestHeaders = redact.Sent(headers, configured...)
	out.Attempt.RequestBody = truncate(body)

	timeout := cmp.Or(ep.Timeout, DefaultTimeout)
	pctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	key := t.EventID
	if ep.Ordered {
		key = ep.ID // one partition, in order
	}
	receipt, err := x.cfg.Brokers.Publish(pctx, ep.TenantID, ep.ID, redact.JoinURL(ep.URL, ep.URLSecret),
		broker.Message{Headers: headers, Body: body, Key: key})
	if receipt.System != "" {
		out.Attempt.Detail, _ = json.Marshal(receipt)
	}
	var connect *broker.ConnectError
	switch {
	case err == nil:
		out.Attempt.Outcome = "success"
	case errors.Is(err, broker.ErrInvalidURL):
		return publishFailed(out, "invalid_request", err, true)
	case errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil:
		out = publishFailed(out, "timeout", fmt.Errorf("publish: no acknowledgement within %s: %w", timeout, err), false)
	case errors.As(err, &connect):
		out = publishFailed(out, "network_error", err, false)
	default:
		out = publishFailed(out, "rejected", err, false)
	}
	if ctx.Err() == nil { // not our own shutdown
		x.track(ctx, ep, out, now)
	}
	return out
}

func publishFailed(out engine.Outcome, outcome string, err error, permanent bool) engine.Outcome {
	out = failed(out, outcome, err, permanent)
	out.Attempt.Kind = store.AttemptPublish
	return out
}

// retireBrokers closes the broker connections of tenantID's endpoints
// that were deleted, disabled or given another URL.
func (x *Executor) retireBrokers(tenantID string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	x.cfg.Brokers.Retire(tenantID, func(id, raw string) bool {
		ep, err := x.cfg.Store.GetEndpoint(ctx, tenantID, id)
		switch {
		case errors.Is(err, store.ErrNotFound):
			return false
		case err != nil:
			return true // unknown: the next delivery compares the URL
		}
		return ep.Enabled && redact.JoinURL(ep.URL, ep.URLSecret) == raw
	})
}

// Close closes the executor's broker connections; call it after the
// engine has stopped.
func (x *Executor) Close() {
	if x.cfg.Brokers != nil {
		x.cfg.Brokers.Close()
	}
}
