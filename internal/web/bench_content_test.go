package web_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/event"
	"github.com/hookline/hookline/internal/store"
)

// benchWorkflowPages are the workflow and content pages BenchmarkPages
// measures, on what benchFillContent wrote.
func benchWorkflowPages(f benchContent) []struct{ name, path string } {
	return []struct{ name, path string }{
		{"workflows", "/workflows"},
		{"workflow", "/workflows/bench-orders"},
		{"runs", "/runs"},
		{"runs_failed", "/runs?status=failed"},
		{"runs_deep_page", "/runs?cursor=" + f.midRun},
		{"run", "/runs/" + f.midRun},
		{"templates", "/templates"},
		{"template_preview", "/templates/order-shipped?recipient=cus_5"},
		{"messages", "/messages"},
		{"messages_inbox", "/messages?channel=inbox"},
		{"messages_email_failed", "/messages?channel=email&status=failed"},
		{"recipients", "/recipients"},
		{"inbox", "/recipients/cus_5/inbox"},
	}
}

// benchContent is what benchFillContent wrote that pages name.
type benchContent struct {
	midRun string
}

// benchFillContent writes, through the store, a workflow with runs runs
// (each an http step that failed once then succeeded, and a set step; 5 %
// failed), a template with a French locale, 200 recipients and messages
// messages spread over the four channels (2 % failed), over the last 7
// days.
func benchFillContent(b *testing.B, dataDir string, runs, messages int) benchContent {
	ctx := context.Background()
	st, tenant := benchStore(b, dataDir)
	defer st.Close()
	now := time.Now()
	start := now.Add(-7 * 24 * time.Hour)
	if err := st.CreateWorkflow(ctx, store.Workflow{TenantID: tenant.ID, Name: "bench-orders", Version: 1, Enabled: true, CreatedAt: start,
		Spec: []byte(`{"name":"bench-orders","on":{"events":["order.created"]},"steps":[{"id":"charge","http":{"url":"https://pay.example.com/charges"}},{"id":"remember","set":{"charge":"steps.charge.output.body.id"}}]}`)}); err != nil {
		b.Fatal(err)
	}
	var f benchContent
	for i := range runs {
		at := start.Add(time.Duration(i) * 7 * 24 * time.Hour / time.Duration(runs))
		run := store.Run{ID: "run_" + idAt(event.PrefixDelivery, at)[4:], TenantID: tenant.ID, Workflow: "bench-orders", Version: 1,
			Status: store.RunSucceeded, EventID: idAt(event.PrefixEvent, at), State: []byte(`{"vars":{"charge":"ch_1"},"seq":2}`),
			CreatedAt: at, UpdatedAt: at.Add(time.Second)}
		if i%20 == 7 {
			run.Status, run.Error = store.RunFailed, "step charge: POST https://pay.example.com/charges answered 402 Payment Required"
		}
		if i == runs/2 {
			f.midRun = run.ID
		}
		in, out := []byte(`{"method":"POST","url":"https://pay.example.com/charges"}`), []byte(`{"status":200,"body":{"id":"ch_1"}}`)
		first := store.RunStep{Seq: 1, StepID: "charge", Kind: "http", Status: "retrying", Attempts: 1, Input: in,
			Output: []byte(`{"status":503}`), Error: "answered 503", StartedAt: at, Duration: 40 * time.Millisecond}
		second := store.RunStep{Seq: 1, StepID: "charge", Kind: "http", Status: "succeeded", Attempts: 2, Input: in, Output: out,
			StartedAt: at.Add(time.Second), Duration: 30 * time.Millisecond}
		set := store.RunStep{Seq: 2, StepID: "remember", Kind: "set", Status: "succeeded", Attempts: 1, Output: []byte(`{"charge":"ch_1"}`),
			StartedAt: at.Add(time.Second)}
		if err := st.SaveRun(ctx, store.RunSave{Run: run, Steps: []store.RunStep{first}}); err != nil {
			b.Fatal(err)
		}
		if err := st.SaveRun(ctx, store.RunSave{Run: run, Rev: 1, Steps: []store.RunStep{second, set}}); err != nil {
			b.Fatal(err)
		}
	}
	if err := st.CreateTemplate(ctx, store.Template{TenantID: tenant.ID, Name: "order-shipped", Version: 1, CreatedAt: start,
		Spec: []byte(`{"name":"order-shipped","subject":"{{.recipient.name}}, order {{.data.order_id}} has shipped","text":"Hi {{.recipient.name}}, your order is on its way.","locales":{"fr":{"subject":"{{.recipient.name}}, la commande {{.data.order_id}} est partie"}}}`)}); err != nil {
		b.Fatal(err)
	}
	const recipients = 200
	for i := range recipients {
		if err := st.UpsertRecipient(ctx, store.Recipient{TenantID: tenant.ID, ID: fmt.Sprintf("cus_%d", i), Name: fmt.Sprintf("Customer %d", i),
			Email: fmt.Sprintf("c%d@example.com", i), Locale: []string{"en", "fr"}[i%2], CreatedAt: start, UpdatedAt: start}); err != nil {
			b.Fatal(err)
		}
	}
	channels := []string{"email", "inbox", "page", "webhook"}
	const batch = 2000
	for lo := 0; lo < messages; lo += batch {
		var ms []store.Message
		for i := lo; i < min(lo+batch, messages); i++ {
			at := start.Add(time.Duration(i) * 7 * 24 * time.Hour / time.Duration(messages))
			ch := channels[i%len(channels)]
			m := store.Message{ID: "msg_" + idAt(event.PrefixDelivery, at)[4:] + "_" + ch, TenantID: tenant.ID, Rule: "shipped",
				RecipientID: fmt.Sprintf("cus_%d", i%recipients), Channel: ch, Category: "orders", Template: "order-shipped@1", Locale: "en",
				Subject: "Your order has shipped", Text: "Hi, your order is on its way.", Status: store.MessageSent, EventID: idAt(event.PrefixEvent, at),
				SendAt: at, SentAt: at, Attempts: 1, CreatedAt: at, UpdatedAt: at}
			if i%49 == 3 { // 2 %, on every channel
				m.Status, m.Error, m.SentAt = store.MessageFailed, "smtp: 550 mailbox unavailable", time.Time{}
			}
			ms = append(ms, m)
		}
		if err := st.SaveMessages(ctx, ms, nil, nil); err != nil {
			b.Fatal(err)
		}
	}
	return f
}
