package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/client"
)

// shippedTemplate greets the recipient about a shipped order, in French
// for French locales.
const shippedTemplate = `name: shipped
subject: "Order {{.data.id}} shipped"
text: |
  Hello {{.recipient.name}},
  your order {{.data.id}} is on its way.
html: "<p>Hello {{.recipient.name}}</p>"
locales:
  fr:
    subject: "Commande {{.data.id}} expédiée"
`

// shippedRule sends shippedTemplate to the order's customer's inbox.
const shippedRule = `name: order-shipped
events: [order.shipped]
recipient: data.customer_id
template: shipped
channels: [inbox]
category: orders
`

func TestRecipientsPutGetListToken(t *testing.T) {
	t.Parallel()
	srv := startLive(t)

	res := srv.run(t, "", "recipients", "put", "c1", "--email", "ada@example.com", "--name", "Ada Lovelace",
		"--locale", "fr-CA", "--time-zone", "America/Toronto",
		"--prefs", `{"channels": {"email": false}, "quiet_hours": {"start": "22:00", "end": "07:00"}}`,
		"--data", `{"plan": "pro"}`)
	require.Equal(t, 0, res.code, res.stderr)
	require.Regexp(t, `(?m)^id:\s+c1$`, res.stdout)
	require.Regexp(t, `(?m)^email:\s+ada@example\.com$`, res.stdout)
	require.Regexp(t, `(?m)^name:\s+Ada Lovelace$`, res.stdout)
	require.Regexp(t, `(?m)^locale:\s+fr-CA$`, res.stdout)
	require.Regexp(t, `(?m)^time zone:\s+America/Toronto$`, res.stdout)
	require.Regexp(t, `(?m)^prefs:\s+\{"channels":\{"email":false\},"quiet_hours":\{"start":"22:00","end":"07:00"\}\}$`, res.stdout)
	require.Regexp(t, `(?m)^data:\s+\{"plan":"pro"\}$`, res.stdout)

	// --data from a file; put replaces the whole recipient.
	data := writeTemp(t, "bob.json", `{"plan": "free"}`)
	srv.run(t, "", "recipient", "put", "c2", "--email", "bob@example.com", "--data", "@"+data).ok(t)
	res = srv.run(t, "", "recipients", "put", "c2", "--email", "bob@example.org").ok(t)
	require.Regexp(t, `(?m)^data:\s+-$`, res.stdout)

	res = srv.run(t, "", "recipients", "list").ok(t)
	require.Regexp(t, `^ID\s+EMAIL\s+NAME\s+LOCALE\s+TIME ZONE\s+UPDATED\n`+
		`c1\s+ada@example\.com\s+Ada Lovelace\s+fr-CA\s+America/Toronto\s+\d{4}-\S+\n`+
		`c2\s+bob@example\.org\s+-\s+-\s+-\s+\d{4}-\S+\n$`, res.stdout)

	res = srv.run(t, "", "recipients", "list", "--limit", "1").ok(t)
	require.Contains(t, res.stderr, "more results: add --cursor ")

	res = srv.run(t, "", "recipients", "get", "c1", "-o", "json").ok(t)
	var r client.Recipient
	require.NoError(t, json.Unmarshal([]byte(res.stdout), &r))
	require.Equal(t, map[string]bool{"email": false}, r.Prefs.Channels)
	require.Equal(t, "pro", r.Data["plan"])

	res = srv.run(t, "", "recipients", "token", "c1").ok(t)
	token := strings.TrimSpace(res.stdout)
	require.NotEmpty(t, token)
	res = srv.run(t, "", "recipients", "token", "c1", "-o", "json").ok(t)
	require.JSONEq(t, `{"token": "`+token+`"}`, res.stdout)

	// Mistakes: caught locally, or refused by the server.
	srv.run(t, "", "recipients", "put", "c3", "--prefs", `{"chanels": {}}`).fails(t, `error: invalid --prefs: json: unknown field "chanels"`)
	srv.run(t, "", "recipients", "put", "c3", "--data", `[1]`).fails(t, "error: invalid --data: want a JSON object")
	srv.run(t, "", "recipients", "put", "c3", "--time-zone", "Mars/Olympus").fails(t, `time_zone: "Mars/Olympus" is not an IANA time zone`, "HTTP 422")

	srv.deletes(t, "recipients", "recipient", "c2")
}

func TestTemplatesSaveGetPreview(t *testing.T) {
	t.Parallel()
	srv := startLive(t)
	path := writeTemp(t, "shipped.yaml", shippedTemplate)

	res := srv.run(t, "", "templates", "save", "-f", path).ok(t)
	require.Regexp(t, `(?m)^name:\s+shipped\nversion:\s+1\naction:\s+created$`, res.stdout)
	res = srv.run(t, "", "templates", "save", "-f", path).ok(t)
	require.Regexp(t, `(?m)^version:\s+1\naction:\s+unchanged$`, res.stdout)

	// JSON from standard input; a change makes a new version.
	res = srv.run(t, `{"name": "shipped", "subject": "Order {{.data.id}} is on its way", "text": "Hi {{.recipient.name}}"}`,
		"templates", "save", "-f", "-", "-o", "json")
	require.Equal(t, 0, res.code, res.stderr)
	var saved client.TemplateSaved
	require.NoError(t, json.Unmarshal([]byte(res.stdout), &saved))
	require.Equal(t, "updated", saved.Action)
	require.Equal(t, 2, saved.Template.Version)

	// get prints a file that saves back to the same template.
	res = srv.run(t, "", "templates", "save", "-f", path).ok(t)
	require.Regexp(t, `(?m)^version:\s+3\naction:\s+updated$`, res.stdout)
	res = srv.run(t, "", "templates", "get", "shipped").ok(t)
	require.Regexp(t, `^# version:\s+3\n# created:\s+\d{4}-\S+\nname: shipped\n`, res.stdout)
	require.Contains(t, res.stdout, "text: |\n  Hello {{.recipient.name}},\n  your order {{.data.id}} is on its way.\n")
	res = srv.run(t, res.stdout, "templates", "save", "-f", "-").ok(t)
	require.Regexp(t, `(?m)^version:\s+3\naction:\s+unchanged$`, res.stdout)

	res = srv.run(t, "", "templates", "list").ok(t)
	require.Regexp(t, `^NAME\s+VERSION\s+SUBJECT\s+LOCALES\s+CREATED\nshipped\s+3\s+Order \{\{\.data\.id\}\} shipped\s+fr\s+\d{4}-\S+\n$`, res.stdout)

	srv.run(t, "", "recipients", "put", "c1", "--name", "Ada", "--locale", "en").ok(t)
	res = srv.run(t, "", "templates", "preview", "shipped", "--event", `{"id": "o-9"}`, "--recipient", "c1").ok(t)
	require.Equal(t, "locale:   en\nsubject:  Order o-9 shipped\ntext:\n  Hello Ada,\n  your order o-9 is on its way.\nhtml:\n  <p>Hello Ada</p>\n", res.stdout)

	event := writeTemp(t, "event.json", `{"type": "order.shipped", "data": {"id": "o-10"}}`)
	res = srv.run(t, "", "templates", "preview", "shipped", "--event", "@"+event, "--recipient", "c1", "--locale", "fr", "-o", "json").ok(t)
	var r client.Rendered
	require.NoError(t, json.Unmarshal([]byte(res.stdout), &r))
	require.Equal(t, "fr", r.Locale)
	require.Equal(t, "Commande o-10 expédiée", r.Subject)

	// A template that fails to render: the part and the reason.
	strict := writeTemp(t, "strict.yaml", "name: strict\nstrict: true\nsubject: \"Order {{.data.id}}\"\ntext: \"Total: {{.data.total}}\"\n")
	srv.run(t, "", "templates", "save", "-f", strict).ok(t)
	res = srv.run(t, "", "templates", "preview", "strict", "--event", `{"id": "o-9"}`).fails(t)
	require.Empty(t, res.stdout)
	require.Regexp(t, `^error: template: text: .*total.* \(validation_failed, HTTP 422\)\n  field: template\n$`, res.stderr)

	srv.run(t, "", "templates", "preview", "shipped", "--event", `{"id": `).fails(t, "error: --event is not valid JSON")

	// A part that does not compile is reported at its line.
	broken := writeTemp(t, "broken.yaml", "name: broken\nsubject: Hi\ntext: Hello\nlocales:\n  fr:\n    subject: Salut\n    text: \"{{.data.id\"\n")
	res = srv.run(t, "", "templates", "save", "-f", broken).fails(t)
	require.True(t, strings.HasPrefix(res.stderr, broken+":7: template: locales.fr.text: "), res.stderr)
	require.Contains(t, res.stderr, `>   7 |     text: "{{.data.id"`)

	srv.deletes(t, "templates", "template", "strict")
}

func TestNotifyRulesAndMessages(t *testing.T) {
	t.Parallel()
	srv := startLive(t)
	srv.run(t, "", "recipients", "put", "c1", "--email", "ada@example.com", "--name", "Ada").ok(t)
	srv.run(t, "", "templates", "save", "-f", writeTemp(t, "shipped.yaml", shippedTemplate)).ok(t)

	res := srv.run(t, "", "notify-rules", "create", "-f", writeTemp(t, "rule.yaml", shippedRule)).ok(t)
	require.Regexp(t, `(?m)^name:\s+order-shipped$`, res.stdout)
	require.Regexp(t, `(?m)^events:\s+order\.shipped$`, res.stdout)
	require.Regexp(t, `(?m)^recipient:\s+data\.customer_id$`, res.stdout)
	require.Regexp(t, `(?m)^channels:\s+inbox$`, res.stdout)
	require.Regexp(t, `(?m)^enabled:\s+true$`, res.stdout)

	srv.run(t, "", "notify-rules", "create", "-f", writeTemp(t, "rule.yaml", shippedRule)).fails(t, `a notify rule named "order-shipped" already exists (conflict, HTTP 409)`)

	bad := writeTemp(t, "bad.yaml", "name: bad\nevents: [a.b]\nrecipient: data.id\ntemplate: shipped\nchannels:\n  - inbox\n  - fax\n")
	res = srv.run(t, "", "notify-rules", "create", "-f", bad).fails(t)
	require.True(t, strings.HasPrefix(res.stderr, bad+`:7: channels[1]: "fax" is not one of email, inbox, page, webhook`), res.stderr)

	res = srv.run(t, "", "notify-rules", "list").ok(t)
	require.Regexp(t, `^NAME\s+EVENTS\s+RECIPIENT\s+TEMPLATE\s+CHANNELS\s+ENABLED\norder-shipped\s+order\.shipped\s+data\.customer_id\s+shipped\s+inbox\s+true\n$`, res.stdout)

	res = srv.run(t, "", "send", "order.shipped", "--data", `{"id": "o-9", "customer_id": "c1"}`).ok(t)
	eventID := strings.TrimSpace(res.stdout)

	var msg client.Message
	require.Eventually(t, func() bool {
		page, err := srv.client.ListMessages(t.Context(), client.MessageListOptions{Recipient: "c1"})
		if err != nil || len(page.Data) == 0 {
			return false
		}
		msg = page.Data[0]
		return msg.Status == "sent"
	}, 10*time.Second, 10*time.Millisecond, "the inbox message is sent (last: %+v)", msg)

	res = srv.run(t, "", "messages", "list", "--recipient", "c1", "--channel", "inbox", "--status", "sent").ok(t)
	require.Regexp(t, `^ID\s+TIME\s+RECIPIENT\s+CHANNEL\s+STATUS\s+SUBJECT\s+ERROR\n`+
		msg.ID+`\s+\d{4}-\S+\s+c1\s+inbox\s+sent\s+Order o-9 shipped\s+-\n$`, res.stdout)
	res = srv.run(t, "", "messages", "list", "--channel", "email").ok(t)
	require.Equal(t, "ID  TIME  RECIPIENT  CHANNEL  STATUS  SUBJECT  ERROR\n", res.stdout)
	srv.run(t, "", "messages", "list", "--status", "lost").fails(t, "status must be scheduled, digest, sent, failed, skipped, opened or clicked")

	res = srv.run(t, "", "messages", "get", msg.ID).ok(t)
	require.Regexp(t, `(?m)^rule:\s+order-shipped$`, res.stdout)
	require.Regexp(t, `(?m)^template:\s+shipped@1$`, res.stdout)
	require.Regexp(t, `(?m)^status:\s+sent$`, res.stdout)
	require.Regexp(t, `(?m)^event:\s+`+eventID+`$`, res.stdout)
	require.Regexp(t, `(?m)^category:\s+orders$`, res.stdout)
	require.Regexp(t, `(?m)^subject:\s+Order o-9 shipped$`, res.stdout)
	require.Regexp(t, `(?m)^html:\s+\d+ bytes \(in -o json\)$`, res.stdout)
	require.True(t, strings.HasSuffix(res.stdout, "\ntext:\n  Hello Ada,\n  your order o-9 is on its way.\n"), res.stdout)

	res = srv.run(t, "", "messages", "get", msg.ID, "-o", "json").ok(t)
	var got client.Message
	require.NoError(t, json.Unmarshal([]byte(res.stdout), &got))
	require.Equal(t, "<p>Hello Ada</p>", got.HTML)

	srv.deletes(t, "notify-rules", "notify rule", "order-shipped")
}
