package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/client"
)

// seedContent saves two recipients, a template with a French locale and
// a notify rule that puts an inbox message and a page for the customer of
// each order.created.
func seedContent(t *testing.T, b *bundle) {
	t.Helper()
	ctx := context.Background()
	for _, r := range []client.Recipient{
		{ID: "cus_ada", Name: "Ada", Email: "ada@example.com", Locale: "en", Data: map[string]any{"plan": "gold"}},
		{ID: "cus_cam", Name: "Camille", Email: "cam@example.com", Locale: "fr", TimeZone: "Europe/Paris"},
	} {
		_, err := b.api.PutRecipient(ctx, r)
		require.NoError(t, err)
	}
	_, err := b.api.SaveTemplate(ctx, client.TemplateSpec{
		Name:    "order-shipped",
		Subject: "{{.recipient.name}}, order {{.data.order_id}} has shipped",
		Text:    "Hi {{.recipient.name}} ({{.recipient.data.plan}}), {{len .data.items}} items are on their way.",
		Locales: map[string]client.TemplateLocale{"fr": {Subject: "{{.recipient.name}}, la commande {{.data.order_id}} est partie"}},
	})
	require.NoError(t, err)
	_, err = b.api.CreateNotifyRule(ctx, client.NotifyRule{Name: "shipped", Events: []string{"order.shipped"}, Recipient: "data.customer_id",
		Template: "order-shipped", Channels: []string{"inbox", "page"}, Category: "orders"})
	require.NoError(t, err)
}

func TestContentPages(t *testing.T) {
	t.Parallel()
	b, c := setupSignedIn(t)
	ctx := context.Background()
	for path, empty := range map[string]string{"/templates": "No templates yet", "/messages": "No messages yet", "/recipients": "No recipients yet"} {
		_, page := b.get(c, path)
		require.Contains(t, page, empty, path)
	}
	seedContent(t, b)

	_, page := b.get(c, "/templates")
	require.Contains(t, page, `href="/templates/order-shipped"`)
	require.Contains(t, page, "en, fr")

	// The template's page previews it for the first recipient at once.
	resp, page := b.get(c, "/templates/order-shipped")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, page, "{{.recipient.name}}, la commande", "the French part")
	require.Contains(t, page, `<option value="cus_cam">Camille (fr)</option>`)
	require.Contains(t, page, `value="cus_ada"`)
	require.Contains(t, page, "error calling len", "the text part fails: no items in {}")

	// The preview for a chosen recipient and locale, as htmx asks for it:
	// only the preview, rendered with the recipient's data.
	form := url.Values{"recipient": {"cus_ada"}, "locale": {""}, "event_type": {"order.shipped"},
		"data": {`{"order_id": "A-1", "items": [1, 2]}`}}
	resp, page = b.post(c, "/templates/order-shipped/preview", form, "HX-Request", "true")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.True(t, strings.HasPrefix(strings.TrimSpace(page), `<div id="preview"`), "the fragment only: %s", page)
	require.Contains(t, page, `<dd id="preview-subject">Ada, order A-1 has shipped</dd>`)
	require.Contains(t, page, `<pre tabindex="0" id="preview-text">Hi Ada (gold), 2 items are on their way.</pre>`)
	form.Set("recipient", "cus_cam")
	_, page = b.post(c, "/templates/order-shipped/preview", form, "HX-Request", "true")
	require.Contains(t, page, `<dd id="preview-subject">Camille, la commande A-1 est partie</dd>`, "the recipient's locale")
	form.Set("locale", "en")
	_, page = b.post(c, "/templates/order-shipped/preview", form, "HX-Request", "true")
	require.Contains(t, page, `<dd id="preview-subject">Camille, order A-1 has shipped</dd>`, "the locale chosen")

	// Mistakes and render errors are the preview's content, readable.
	for data, want := range map[string]string{
		`{"order_id": "A-1"}`: "error calling len",
		`[1, 2]`:              "The event data must be a JSON object",
	} {
		form.Set("data", data)
		resp, page = b.post(c, "/templates/order-shipped/preview", form, "HX-Request", "true")
		require.Equal(t, http.StatusOK, resp.StatusCode, data)
		require.Contains(t, page, "The template did not render", data)
		require.Contains(t, page, want, data)
	}
	form.Set("recipient", "cus_nobody")
	_, page = b.post(c, "/templates/order-shipped/preview", form, "HX-Request", "true")
	require.Contains(t, page, "There is no recipient cus_nobody in this tenant")
	// Without htmx, the whole page.
	form.Set("recipient", "cus_ada")
	form.Set("data", `{"order_id": "A-2", "items": []}`)
	_, page = b.post(c, "/templates/order-shipped/preview", form)
	require.Contains(t, page, "<h1>order-shipped")
	require.Contains(t, page, `id="preview-text">Hi Ada (gold), 0 items`)
	resp, _ = b.post(c, "/templates/order-shipped/preview", url.Values{"data": {strings.Repeat("x", 300<<10)}})
	require.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode)

	// Messages: by channel, status and recipient.
	for _, cus := range []string{"cus_ada", "cus_cam"} {
		_, err := b.api.SendEvent(ctx, client.EventCreate{Type: "order.shipped",
			Data: json.RawMessage(`{"customer_id": "` + cus + `", "order_id": "B-` + cus + `", "items": [1]}`)})
		require.NoError(t, err)
	}
	eventually(t, func() bool {
		page, err := b.api.ListMessages(ctx, client.MessageListOptions{Status: "sent"})
		return err == nil && len(page.Data) == 4
	}, "four messages sent")
	_, page = b.get(c, "/messages")
	require.Equal(t, 4, strings.Count(page, `<span class="badge b-ok">sent</span>`))
	_, page = b.get(c, "/messages?channel=inbox")
	require.Equal(t, 2, strings.Count(page, `<span class="badge b-ok">sent</span>`))
	require.Contains(t, page, `href="/recipients/cus_cam/inbox"`)
	require.Contains(t, page, "Camille, la commande B-cus_cam est partie")
	_, page = b.get(c, "/messages?channel=page&recipient=cus_ada")
	require.Equal(t, 1, strings.Count(page, `<span class="badge b-ok">sent</span>`))
	_, page = b.get(c, "/messages?status=failed")
	require.Contains(t, page, "No message matches")

	// The inbox as the recipient sees it.
	_, page = b.get(c, "/recipients")
	require.Contains(t, page, `href="/recipients/cus_ada/inbox"`)
	resp, page = b.get(c, "/recipients/cus_ada/inbox")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, page, "Ada, order B-cus_ada has shipped")
	require.Contains(t, page, `<span class="badge b-neutral" id="unread">1 unread</span>`)
	require.NotContains(t, page, "B-cus_cam", "only this recipient's")
	_, page = b.get(c, "/recipients/cus_ada/inbox?archived=true")
	require.Contains(t, page, "Nothing archived")

	for _, path := range []string{"/templates", "/templates/order-shipped", "/messages", "/recipients", "/recipients/cus_ada/inbox"} {
		resp, page := b.get(c, path)
		require.Equal(t, http.StatusOK, resp.StatusCode, path)
		require.NotRegexp(t, inline, page, "%s: nothing the Content-Security-Policy blocks", path)
	}
	for _, bad := range []string{"/messages?channel=sms", "/messages?status=x", "/messages?cursor=evt_1", "/templates?cursor=A%20B",
		"/recipients/cus_ada/inbox?cursor=msg_1_email"} {
		resp, _ := b.get(c, bad)
		require.Equal(t, http.StatusBadRequest, resp.StatusCode, bad)
	}
	for _, missing := range []string{"/templates/nope", "/recipients/nobody/inbox"} {
		resp, _ := b.get(c, missing)
		require.Equal(t, http.StatusNotFound, resp.StatusCode, missing)
	}
}

// Another tenant's templates, recipients and messages are not reachable.
func TestContentOtherTenant(t *testing.T) {
	t.Parallel()
	b := setup(t, "")
	seedContent(t, b)
	c, _ := b.otherTenant()
	_, page := b.get(c, "/templates")
	require.Contains(t, page, "No templates yet")
	_, page = b.get(c, "/recipients")
	require.NotContains(t, page, "cus_ada")
	for _, path := range []string{"/templates/order-shipped", "/recipients/cus_ada/inbox"} {
		resp, _ := b.get(c, path)
		require.Equal(t, http.StatusNotFound, resp.StatusCode, path)
	}
	resp, _ := b.post(c, "/templates/order-shipped/preview", url.Values{"recipient": {"cus_ada"}})
	require.Equal(t, http.StatusNotFound, resp.StatusCode)
}
