package email

import (
	"crypto/rand"
	"encoding/hex"
	"net/mail"
	"net/textproto"
	"net/url"
	"strings"

	gomail "github.com/wneessen/go-mail"
)

// Message is one email to one recipient. At least one of Text and HTML is
// required; with both it is sent as multipart/alternative.
type Message struct {
	To      string // the recipient's address, without a display name
	ToName  string // the recipient's display name, optional
	Subject string
	Text    string // text/plain body
	HTML    string // text/html body
	// ListUnsubscribe is an http(s) URL that unsubscribes with a POST
	// (RFC 8058). When set, the message carries List-Unsubscribe and
	// List-Unsubscribe-Post: List-Unsubscribe=One-Click.
	ListUnsubscribe string
	// MessageID becomes the Message-ID header. Without "@" the From
	// address's domain is appended, so a stable ID such as "msg_123" works;
	// empty means a random one.
	MessageID string
	// Headers are extra header fields, such as X-Entity-Ref-ID. They cannot
	// replace the fields set from the fields above or by the MIME structure.
	Headers map[string]string
}

// reservedHeaders are set from Message's fields and the MIME structure.
var reservedHeaders = map[string]bool{
	"From": true, "To": true, "Cc": true, "Bcc": true, "Reply-To": true, "Sender": true,
	"Subject": true, "Date": true, "Message-Id": true, "Mime-Version": true,
	"List-Unsubscribe": true, "List-Unsubscribe-Post": true,
	"Return-Path": true, "Received": true, "Dkim-Signature": true,
}

// build turns m into a go-mail message from the given sender. Its errors are
// permanent: the same message will never build.
func build(m Message, from *mail.Address) (*gomail.Msg, error) {
	to, err := mail.ParseAddress(m.To)
	if err != nil || to.Address != m.To {
		return nil, invalid("to %q is not a bare email address", m.To)
	}
	if m.Text == "" && m.HTML == "" {
		return nil, invalid("message to %s has neither text nor html", m.To)
	}

	msg := gomail.NewMsg(gomail.WithCharset(gomail.CharsetUTF8), gomail.WithEncoding(gomail.EncodingQP), gomail.WithNoDefaultUserAgent())
	msg.FromMailAddress(from)
	// mail.Address.String quotes or RFC 2047-encodes the name as needed.
	msg.ToMailAddress(&mail.Address{Name: m.ToName, Address: to.Address})
	msg.Subject(m.Subject)

	switch {
	case m.Text != "" && m.HTML != "":
		// Alternatives go from least to most preferred.
		msg.SetBodyString(gomail.TypeTextPlain, m.Text)
		msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	case m.Text != "":
		msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	default:
		msg.SetBodyString(gomail.TypeTextHTML, m.HTML)
	}

	if m.ListUnsubscribe != "" {
		if err := checkUnsubscribeURL(m.ListUnsubscribe); err != nil {
			return nil, err
		}
		msg.SetListUnsubscribe(m.ListUnsubscribe)
		msg.SetListUnsubscribePost()
	}

	id, err := messageID(m.MessageID, from.Address)
	if err != nil {
		return nil, err
	}
	msg.SetMessageIDWithValue(id)

	for name, value := range m.Headers {
		canonical := textproto.CanonicalMIMEHeaderKey(name)
		if !validFieldName(name) {
			return nil, invalid("header %q is not a valid field name", name)
		}
		if reservedHeaders[canonical] || strings.HasPrefix(canonical, "Content-") {
			return nil, invalid("header %s is set by the message itself", name)
		}
		// go-mail RFC 2047-encodes values that are not printable ASCII,
		// line breaks included, so a value cannot start a new field.
		msg.SetGenHeader(gomail.Header(canonical), value)
	}
	return msg, nil
}

// checkUnsubscribeURL accepts an absolute http(s) URL that can stand between
// angle brackets in the header verbatim: the header is written preformatted.
func checkUnsubscribeURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return invalid("list unsubscribe %q is not an absolute http or https URL", raw)
	}
	for _, c := range []byte(raw) {
		if c <= ' ' || c >= 0x7f || c == '<' || c == '>' || c == ',' || c == '"' {
			return invalid("list unsubscribe %q has a character that must be percent-encoded", raw)
		}
	}
	return nil
}

// messageID returns the Message-ID without angle brackets: id, completed
// with the domain of from when it has no "@", or a random one.
func messageID(id, from string) (string, error) {
	_, domain, _ := strings.Cut(from, "@")
	if id == "" {
		var b [16]byte
		_, _ = rand.Read(b[:]) // never fails
		return hex.EncodeToString(b[:]) + "@" + domain, nil
	}
	id = strings.TrimSuffix(strings.TrimPrefix(id, "<"), ">")
	for _, c := range []byte(id) {
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`<>()[]\",;:`, c) >= 0 {
			return "", invalid("message id %q has a character not allowed in a Message-ID", id)
		}
	}
	switch at := strings.Count(id, "@"); {
	case id == "":
		return "", invalid("message id is empty")
	case at == 0:
		return id + "@" + domain, nil
	case at > 1 || strings.HasPrefix(id, "@") || strings.HasSuffix(id, "@"):
		return "", invalid("message id %q is not of the form left@right", id)
	}
	return id, nil
}

// validFieldName accepts header field names of letters, digits and dashes,
// a safe subset of RFC 5322.
func validFieldName(name string) bool {
	if name == "" {
		return false
	}
	for _, c := range []byte(name) {
		if !(c == '-' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}
