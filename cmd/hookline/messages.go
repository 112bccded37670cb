package main

import (
	"io"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/hookline/hookline/client"
)

func newMessagesListCmd(g *globals) *cobra.Command {
	var opts client.MessageListOptions
	cmd := newListCmd(g, "List messages, newest first", &opts, &opts.ListOptions, (*client.Client).ListMessages,
		[]string{"ID", "TIME", "RECIPIENT", "CHANNEL", "STATUS", "SUBJECT", "ERROR"}, func(m client.Message) []string {
			return []string{m.ID, fmtTime(messageTime(m)), cell(m.Recipient), m.Channel, m.Status, cell(m.Subject), cell(m.Error)}
		})
	cmd.Long = `List messages, newest first. TIME is when the message was sent or, for
one not sent yet, when it is due.`
	cmd.Example = `  hookline messages list --recipient c1 --channel email
  hookline messages list --status failed -o json | jq '.data[].error'`
	f := cmd.Flags()
	f.StringVar(&opts.Recipient, "recipient", "", "only messages for this recipient id")
	f.StringVar(&opts.Channel, "channel", "", "only messages on this channel: email, inbox, page or webhook")
	f.StringVar(&opts.Status, "status", "", "only messages in this status: scheduled, digest, sent, failed, skipped, opened or clicked")
	return cmd
}

// messageTime is when m was sent, or when it is due if it was not.
func messageTime(m client.Message) client.Time {
	if !m.SentAt.IsZero() {
		return m.SentAt
	}
	return m.SendAt
}

// messageTable writes one message as key-value rows followed by its text.
// The HTML is summed up by its size.
func messageTable(w io.Writer, m *client.Message) {
	html := "-"
	if m.HTML != "" {
		html = strconv.Itoa(len(m.HTML)) + " bytes (in -o json)"
	}
	kv(w,
		"id", m.ID,
		"rule", orDash(m.Rule),
		"recipient", m.Recipient,
		"channel", m.Channel,
		"category", orDash(m.Category),
		"template", orDash(m.Template),
		"locale", orDash(m.Locale),
		"status", m.Status,
		"event", orDash(m.EventID),
		"send at", fmtTime(m.SendAt),
		"sent at", fmtTime(m.SentAt),
		"attempts", strconv.Itoa(m.Attempts),
		"error", oneLine(m.Error),
		"read", strconv.FormatBool(m.Read),
		"archived", strconv.FormatBool(m.Archived),
		"page url", orDash(m.PageURL),
		"created", fmtTime(m.CreatedAt),
		"subject", oneLine(m.Subject),
		"html", html,
	)
	textBlock(w, "text", m.Text)
}

// oneLine shows s whole on one line: control characters become spaces.
func oneLine(s string) string {
	return orDash(flat(strings.TrimSpace(s)))
}
