package app_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/client"
	"github.com/hookline/hookline/internal/clock"
	"github.com/hookline/hookline/internal/content/smtptest"
)

// contentSetup declares a customer collection (for enrichment), a
// recipient, a template and a notify rule.
func contentSetup(t *testing.T, b *bundle, channels string, prefs string) {
	t.Helper()
	decl := fmt.Sprintf(`{
	"collections": [{"name": "customers", "key": "data.id", "events": {"customer.updated": "upsert"}}],
	"subscriptions": [{"name": "customers", "destination": {"kind": "sync", "collection": "customers"}}],
	"recipients": [{"id": "c1", "email": "ada@example.com", "name": "Ada <Lovelace>", "locale": "fr-CA", "time_zone": "America/New_York", "prefs": %s}],
	"templates": [{"name": "shipped",
		"subject": "Order {{.data.id}} shipped, {{.recipient.name}}",
		"text": "Hello {{.recipient.name}}, your {{.records.customer.tier}} order of {{number .data.total 2}} is on its way. Note: {{.data.note}}",
		"html": "<p>Hello {{.recipient.name}}</p><p>Tier: {{.records.customer.tier}}</p><p>{{.data.note}}</p><a href=\"https://shop.example/orders/{{.data.id}}\">Track</a>",
		"locales": {"fr": {"subject": "Commande {{.data.id}} expédiée, {{.recipient.name}}"}}}],
	"notify_rules": [{"name": "order-shipped", "events": ["order.shipped"], "recipient": "data.customer_id", "template": "shipped",
		"channels": %s, "category": "orders",
		"lookups": [{"name": "customer", "collection": "customers", "key": "data.customer_id"}]}]
	}`, prefs, channels)
	status, out := b.do("POST", "/v1/apply", decl)
	require.Equal(t, http.StatusOK, status, "%v", out)
	b.send("customer.updated", `{"id": "c1", "tier": "gold"}`)
	b.settled()
}

func (b *bundle) messages(query string) []map[string]any {
	b.t.Helper()
	status, out := b.do("GET", "/v1/messages?"+query, "")
	require.Equal(b.t, http.StatusOK, status, "%v", out)
	var list []map[string]any
	for _, m := range out["data"].([]any) {
		list = append(list, m.(map[string]any))
	}
	return list
}

// firstMessage waits for a message that the query lists and returns the
// first.
func (b *bundle) firstMessage(query string) map[string]any {
	b.t.Helper()
	var msg map[string]any
	eventually(b.t, func() bool {
		ms := b.messages(query)
		if len(ms) == 0 {
			return false
		}
		msg = ms[0]
		return true
	}, "no message")
	return msg
}

// TestContentEmail: a personalised, enriched, escaped email reaches a
// real SMTP server as multipart text+HTML with List-Unsubscribe.
func TestContentEmail(t *testing.T) {
	srv := smtptest.Start(t)
	b := setup(t, withSMTP(srv))
	contentSetup(t, b, `["email"]`, `{}`)
	b.send("order.shipped", `{"id": "o-9", "customer_id": "c1", "total": 1234.5, "note": "<b>fragile</b>"}`)
	eventually(t, func() bool { return len(srv.Messages()) == 1 }, "no email")
	got := srv.Messages()[0]
	require.Equal(t, []string{"ada@example.com"}, got.To)
	p := smtptest.Parse(t, got.Data)
	require.Equal(t, "Commande o-9 expédiée, Ada <Lovelace>", p.Subject, "the fr locale for fr-CA")
	require.Contains(t, p.Text, "Hello Ada <Lovelace>, your gold order of 1\u202f234,50 is on its way. Note: <b>fragile</b>", "text is not escaped; numbers in the recipient's locale")
	require.Contains(t, p.HTML, "<p>Hello Ada &lt;Lovelace&gt;</p>", "HTML is escaped")
	require.Contains(t, p.HTML, "<p>Tier: gold</p>", "enriched from the collection")
	require.Contains(t, p.HTML, "&lt;b&gt;fragile&lt;/b&gt;")
	require.Regexp(t, `href="http://hooks.test/t/[A-Za-z0-9_-]+"`, p.HTML, "links are tracked")
	require.Regexp(t, `<img src="http://hooks.test/o/[A-Za-z0-9_-]+\.gif"`, p.HTML, "open pixel")
	require.Regexp(t, `^<http://hooks.test/u/`, p.Headers.Get("List-Unsubscribe"))
	var msgs []map[string]any
	eventually(t, func() bool {
		msgs = b.messages("channel=email")
		return len(msgs) == 1 && msgs[0]["status"] == "sent"
	}, "message not marked sent")
	require.Equal(t, "Commande o-9 expédiée, Ada <Lovelace>", msgs[0]["subject"])

	t.Run("unsubscribe", func(t *testing.T) {
		u, err := url.Parse(strings.Trim(p.Headers.Get("List-Unsubscribe"), "<>"))
		require.NoError(t, err)
		resp, err := http.Post(b.url+u.Path, "application/x-www-form-urlencoded", strings.NewReader("List-Unsubscribe=One-Click"))
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
		b.send("order.shipped", `{"id": "o-10", "customer_id": "c1", "total": 1, "note": ""}`)
		eventually(t, func() bool {
			for _, m := range b.messages("channel=email") {
				if m["status"] == "skipped" {
					return true
				}
			}
			return false
		}, "opted-out email not skipped")
		require.Len(t, srv.Messages(), 1)
	})
}

// TestContentInboxLive: an SSE client gets a new inbox message live;
// read/unread counts follow.
func TestContentInboxLive(t *testing.T) {
	b := setup(t)
	contentSetup(t, b, `["inbox"]`, `{}`)
	_, tok := b.do("GET", "/v1/recipients/c1/token", "")
	token := tok["token"].(string)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", b.url+"/inbox/stream?token="+url.QueryEscape(token), nil)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	sc := bufio.NewScanner(resp.Body)
	next := func(kind string) string {
		var ev string
		for sc.Scan() {
			line := sc.Text()
			if e, ok := strings.CutPrefix(line, "event: "); ok {
				ev = e
			}
			if d, ok := strings.CutPrefix(line, "data: "); ok && ev == kind {
				return d
			}
		}
		t.Fatalf("stream ended waiting for %s: %v", kind, sc.Err())
		return ""
	}
	require.JSONEq(t, `{"unread": 0}`, next("unread"))
	b.send("order.shipped", `{"id": "o-1", "customer_id": "c1", "total": 5, "note": "hi"}`)
	var m map[string]any
	require.NoError(t, json.Unmarshal([]byte(next("message")), &m))
	require.Equal(t, "Commande o-1 expédiée, Ada <Lovelace>", m["subject"])
	require.JSONEq(t, `{"unread": 1}`, next("unread"))

	get := func(path string) map[string]any {
		resp, err := http.Get(b.url + path)
		require.NoError(t, err)
		defer resp.Body.Close()
		var out map[string]any
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
		return out
	}
	require.Equal(t, 1.0, get("/inbox/unread?token=" + url.QueryEscape(token))["unread"])
	require.Len(t, get("/inbox?token=" + url.QueryEscape(token))["data"], 1)
	resp2, err := http.Post(b.url+"/inbox/"+m["id"].(string)+"/read?token="+url.QueryEscape(token), "", nil)
	require.NoError(t, err)
	resp2.Body.Close()
	require.Equal(t, http.StatusOK, resp2.StatusCode)
	require.JSONEq(t, `{"unread": 0}`, next("unread"))
	require.Equal(t, 0.0, get("/inbox/unread?token=" + url.QueryEscape(token))["unread"])
	resp3, err := http.Get(b.url + "/inbox/unread?token=rt_forged.x")
	require.NoError(t, err)
	resp3.Body.Close()
	require.Equal(t, http.StatusUnauthorized, resp3.StatusCode)
}

// TestContentQuietHoursAndDigest: with an injected clock, email waits out
// the recipient's quiet hours in their time zone across the spring DST
// change, and a digest collects a category's messages into one email.
func TestContentQuietHoursAndDigest(t *testing.T) {
	// 2026-03-08 01:30 EST (06:30Z); clocks spring forward at 02:00 EST.
	clk := clock.NewManual(time.Date(2026, 3, 8, 6, 30, 0, 0, time.UTC))
	srv := smtptest.Start(t)
	b := setup(t, withSMTP(srv), withClock(clk))
	contentSetup(t, b, `["email"]`, `{"quiet_hours": {"start": "22:00", "end": "07:00"}}`)
	b.send("order.shipped", `{"id": "o-1", "customer_id": "c1", "total": 5, "note": ""}`)
	msg := b.firstMessage("channel=email")
	require.Equal(t, "scheduled", msg["status"])
	// 07:00 EDT (after the change) is 11:00Z, not 12:00Z.
	require.Equal(t, "2026-03-08T11:00:00.000Z", msg["send_at"])
	clk.Set(time.Date(2026, 3, 8, 10, 59, 0, 0, time.UTC))
	require.Empty(t, srv.Messages(), "not during quiet hours")
	clk.Set(time.Date(2026, 3, 8, 11, 0, 1, 0, time.UTC))
	eventually(t, func() bool { return len(srv.Messages()) == 1 }, "not sent when quiet hours ended")

	t.Run("digest", func(t *testing.T) {
		status, out := b.do("PUT", "/v1/recipients/c1", `{"id": "c1", "email": "ada@example.com", "name": "Ada", "time_zone": "Europe/Paris", "prefs": {"digest": {"orders": "1h"}}}`)
		require.Equal(t, http.StatusOK, status, "%v", out)
		// 12:10 Paris (11:10Z): the window ends at 13:00 Paris (12:00Z).
		clk.Set(time.Date(2026, 3, 8, 11, 10, 0, 0, time.UTC))
		b.send("order.shipped", `{"id": "d-1", "customer_id": "c1", "total": 1, "note": ""}`)
		b.send("order.shipped", `{"id": "d-2", "customer_id": "c1", "total": 2, "note": ""}`)
		eventually(t, func() bool { return len(b.messages("status=digest")) == 2 }, "messages not held for the digest")
		require.Len(t, srv.Messages(), 1)
		clk.Set(time.Date(2026, 3, 8, 12, 0, 1, 0, time.UTC))
		eventually(t, func() bool { return len(srv.Messages()) == 2 }, "digest not sent")
		p := smtptest.Parse(t, srv.Messages()[1].Data)
		require.Equal(t, "2 new messages (orders)", p.Subject)
		require.Contains(t, p.Text, "d-1")
		require.Contains(t, p.Text, "d-2")
		eventually(t, func() bool { return len(b.messages("status=digest")) == 0 }, "digest messages not marked sent")
	})
}

// TestContentClickStartsMore: a click on a tracked link emits
// content.clicked, which a second notify rule reacts to.
func TestContentClickStartsMore(t *testing.T) {
	b := setup(t, withPublicURL("http://hooks.test"))
	contentSetup(t, b, `["page"]`, `{}`)
	status, out := b.do("POST", "/v1/templates", `{"name": "thanks", "subject": "Thanks for looking at {{.data.url}}", "text": "ok"}`)
	require.Equal(t, http.StatusCreated, status, "%v", out)
	status, out = b.do("POST", "/v1/notify-rules", `{"name": "clicked", "events": ["content.clicked"], "recipient": "data.recipient", "template": "thanks", "channels": ["inbox"]}`)
	require.Equal(t, http.StatusCreated, status, "%v", out)
	b.send("order.shipped", `{"id": "o-5", "customer_id": "c1", "total": 5, "note": "see"}`)
	var page string
	eventually(t, func() bool {
		ms := b.messages("channel=page")
		if len(ms) == 0 || ms[0]["status"] != "sent" {
			return false
		}
		page, _ = ms[0]["page_url"].(string)
		return page != ""
	}, "page not published")
	u, _ := url.Parse(page)
	resp, err := http.Get(b.url + u.Path)
	require.NoError(t, err)
	body := readAll(t, resp)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, resp.Header.Get("Content-Security-Policy"), "default-src 'none'")
	link := regexp.MustCompile(`href="http://hooks.test(/t/[A-Za-z0-9_-]+)"`).FindStringSubmatch(body)
	require.Len(t, link, 2, body)
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err = noFollow.Get(b.url + link[1])
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusFound, resp.StatusCode)
	require.Equal(t, "https://shop.example/orders/o-5", resp.Header.Get("Location"))
	eventually(t, func() bool { return len(b.messages("channel=inbox")) == 1 }, "the second rule did not fire")
	require.Equal(t, "Thanks for looking at https://shop.example/orders/o-5", b.messages("channel=inbox")[0]["subject"])
	require.Equal(t, "clicked", b.messages("channel=page")[0]["status"])
}

// TestContentTemplateErrors: syntax errors are refused when saving; a
// missing field in strict mode, too large or too slow output fail the
// preview and the message — nothing is sent.
func TestContentTemplateErrors(t *testing.T) {
	srv := smtptest.Start(t)
	b := setup(t, withSMTP(srv))
	contentSetup(t, b, `["email"]`, `{}`)
	status, out := b.do("POST", "/v1/templates", `{"name": "broken", "subject": "Hi {{.recipient.name", "text": "x"}`)
	require.Equal(t, http.StatusUnprocessableEntity, status)
	require.Contains(t, out["error"].(map[string]any)["message"], "subject")

	for _, tc := range []struct{ name, spec, msg string }{
		{"strict", `{"name": "shipped", "strict": true, "subject": "Order {{.data.missing}}", "text": "x"}`, "missing"},
		{"large", `{"name": "shipped", "subject": "x", "text": "{{range $i := 300000}}xxxxxxxxxx{{end}}"}`, "larger than"},
		{"slow", `{"name": "shipped", "subject": "x", "text": "{{range $i := 2000000000}}{{end}}"}`, "longer than"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, out := b.do("POST", "/v1/templates", tc.spec)
			require.Contains(t, []int{http.StatusOK, http.StatusCreated}, status, "%v", out)
			status, out = b.do("POST", "/v1/templates/shipped/preview", `{"event": {"type": "order.shipped", "data": {"id": "o"}}, "recipient": {"id": "c1"}}`)
			require.Equal(t, http.StatusUnprocessableEntity, status, "%v", out)
			require.Contains(t, out["error"].(map[string]any)["message"], tc.msg)
			before := len(b.messages("status=failed"))
			b.send("order.shipped", `{"id": "o-x", "customer_id": "c1", "total": 1, "note": ""}`)
			eventually(t, func() bool { return len(b.messages("status=failed")) == before+1 }, "message not failed")
			require.Contains(t, b.messages("status=failed")[0]["error"], tc.msg)
			require.Empty(t, srv.Messages(), "never a partial send")
		})
	}
}

func readAll(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	var sb strings.Builder
	_, err := bufio.NewReader(resp.Body).WriteTo(&sb)
	require.NoError(t, err)
	return sb.String()
}

// TestContentWebhookSendAtLookupDirectory: recipients read from a
// collection, enrichment from an HTTP lookup, a send_at in the future, and
// the webhook channel delivering the rendered content to an endpoint.
func TestContentWebhookSendAtLookupDirectory(t *testing.T) {
	b, clk := setupAt(t, time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC))
	crm := newService(t, func(n int, w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"points": 120, "path": %q}`, r.URL.Path)
	})
	rc := newReceiver(t, nil)
	b.endpoint(client.EndpointCreate{URL: rc.URL, EventTypes: []string{"shop.notice"}})
	decl := fmt.Sprintf(`{
	"collections": [{"name": "members", "key": "data.id", "events": {"member.updated": "upsert"}}],
	"subscriptions": [{"name": "members", "destination": {"kind": "sync", "collection": "members"}}],
	"templates": [{"name": "points", "subject": "{{.recipient.name}}: {{.records.loyalty.points}} points", "text": "at {{.records.loyalty.path}}"}],
	"notify_rules": [{"name": "points", "events": ["points.changed"], "recipient": "data.member", "template": "points",
		"channels": ["webhook"], "webhook_type": "shop.notice", "send_at": "data.at",
		"directory": {"collection": "members", "email": "record.mail", "name": "record.first + ' ' + record.last", "time_zone": "record.tz"},
		"lookups": [{"name": "loyalty", "url": "%s/loyalty/{{ data.member }}"}]}]
	}`, crm.URL)
	status, out := b.do("POST", "/v1/apply", decl)
	require.Equal(t, http.StatusOK, status, "%v", out)
	b.send("member.updated", `{"id": "m1", "mail": "grace@example.com", "first": "Grace", "last": "Hopper", "tz": "Europe/Paris"}`)
	b.settled()
	b.send("points.changed", `{"member": "m1", "at": "2026-05-01T10:00:00Z"}`)
	msg := b.firstMessage("channel=webhook")
	require.Equal(t, "scheduled", msg["status"])
	require.Equal(t, "Grace Hopper: 120 points", msg["subject"], "recipient from the collection, enriched over HTTP")
	require.Equal(t, "at /loyalty/m1", msg["text"])
	require.Zero(t, rc.count(), "not before send_at")
	clk.Set(time.Date(2026, 5, 1, 10, 0, 1, 0, time.UTC))
	eventually(t, func() bool { return rc.count() == 1 }, "webhook not delivered at send_at")
	var env struct {
		Type string
		Data map[string]any
	}
	require.NoError(t, json.Unmarshal(rc.requests()[0].body, &env))
	require.Equal(t, "shop.notice", env.Type)
	require.Equal(t, "Grace Hopper: 120 points", env.Data["subject"])
	require.Equal(t, "m1", env.Data["recipient"])
}
