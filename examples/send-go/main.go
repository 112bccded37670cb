// Command send-go uses Hookline's Go client to create an endpoint, send an
// event to it and follow the delivery until it succeeds or fails.
//
//	export HOOKLINE_SERVER=http://127.0.0.1:8080 HOOKLINE_API_KEY=hk_…
//	go run ./examples/send-go -url http://127.0.0.1:9000/webhook
package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/hookline/hookline/client"
)

func main() {
	url := flag.String("url", "http://127.0.0.1:9000/webhook", "URL of the endpoint to create")
	endpointID := flag.String("endpoint", "", "use this existing endpoint id instead of creating one")
	wait := flag.Duration("wait", 30*time.Second, "how long to wait for the delivery to finish")
	flag.Parse()

	server := cmp.Or(os.Getenv("HOOKLINE_SERVER"), "http://127.0.0.1:8080")
	apiKey := os.Getenv("HOOKLINE_API_KEY")
	if apiKey == "" {
		fmt.Fprintln(os.Stderr, "set HOOKLINE_API_KEY to an API key (hk_…)")
		os.Exit(2)
	}
	ctx, cancel := context.WithTimeout(context.Background(), *wait+30*time.Second)
	defer cancel()
	if err := run(ctx, client.New(server, apiKey), *url, *endpointID, *wait); err != nil {
		var apiErr *client.Error
		if errors.As(err, &apiErr) {
			// Every non-2xx answer is a *client.Error with a stable code.
			fmt.Fprintf(os.Stderr, "error: %s (%s, HTTP %d) %v\n", apiErr.Message, apiErr.Code, apiErr.Status, apiErr.Details)
		} else {
			fmt.Fprintf(os.Stderr, "error: %v\n", err)
		}
		os.Exit(1)
	}
}

func run(ctx context.Context, c *client.Client, url, endpointID string, wait time.Duration) error {
	if endpointID == "" {
		ep, err := c.CreateEndpoint(ctx, client.EndpointCreate{
			URL:         url,
			Description: "send-go example",
			EventTypes:  []string{"order.*"},
		})
		if err != nil {
			return fmt.Errorf("create endpoint: %w", err)
		}
		endpointID = ep.ID
		// The secret is returned only here; the receiver needs it to verify
		// signatures.
		fmt.Printf("endpoint %s -> %s\nsigning secret %s\n", ep.ID, ep.URL, ep.Secret)
	}

	data, err := json.Marshal(map[string]any{"id": "ord_1", "amount": 4200, "currency": "EUR"})
	if err != nil {
		return err
	}
	// The idempotency key makes a resend of this request (for example after
	// a timeout) return the first event instead of creating a second one.
	ev, err := c.SendEvent(ctx, client.EventCreate{
		Type:           "order.created",
		Data:           data,
		IdempotencyKey: fmt.Sprintf("send-go-%d", time.Now().UnixNano()),
	})
	if err != nil {
		return fmt.Errorf("send event: %w", err)
	}
	fmt.Printf("event %s accepted; deliveries created: %d\n", ev.ID, deref(ev.Deliveries))

	d, err := awaitDelivery(ctx, c, ev.ID, endpointID, wait)
	if err != nil {
		return err
	}
	fmt.Printf("delivery %s: %s after %d attempt(s)\n", d.ID, d.Status, d.Attempts)
	for _, a := range d.AttemptLog {
		fmt.Printf("  #%d %s %s HTTP %d %dms %s\n", a.Number, a.StartedAt.Format(time.RFC3339), a.Outcome,
			a.ResponseStatus, a.DurationMS, a.Error)
	}
	if d.Status != client.DeliverySucceeded {
		return fmt.Errorf("delivery %s is %s: %s", d.ID, d.Status, d.LastError)
	}
	return nil
}

// awaitDelivery polls the delivery of event eventID to endpointID until it
// succeeded or failed, or until wait has passed, and returns it with its
// attempt log.
func awaitDelivery(ctx context.Context, c *client.Client, eventID, endpointID string, wait time.Duration) (*client.Delivery, error) {
	deadline := time.Now().Add(wait)
	var last *client.Delivery
	for {
		page, err := c.ListDeliveries(ctx, client.DeliveryListOptions{EventID: eventID, EndpointID: endpointID})
		if err != nil {
			return nil, fmt.Errorf("list deliveries: %w", err)
		}
		if len(page.Data) == 0 {
			return nil, fmt.Errorf("event %s was not routed to endpoint %s (event types or filter do not match, or it is disabled)", eventID, endpointID)
		}
		d, err := c.GetDelivery(ctx, page.Data[0].ID)
		if err != nil {
			return nil, fmt.Errorf("get delivery: %w", err)
		}
		if last == nil || d.Attempts != last.Attempts || d.Status != last.Status {
			fmt.Printf("  status %s, %d attempt(s)%s\n", d.Status, d.Attempts, nextAttempt(d))
		}
		last = d
		switch d.Status {
		case client.DeliverySucceeded, client.DeliveryFailed:
			return d, nil
		}
		if time.Now().After(deadline) {
			return d, fmt.Errorf("delivery %s still %s after %s: %s", d.ID, d.Status, wait, d.LastError)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

func nextAttempt(d *client.Delivery) string {
	if d.NextAttemptAt == nil {
		return ""
	}
	return ", next at " + d.NextAttemptAt.Format(time.RFC3339)
}

func deref(p *int) int {
	if p == nil {
		return 0
	}
	return *p
}
