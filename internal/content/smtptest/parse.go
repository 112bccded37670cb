package smtptest

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"testing"
)

// Parsed is a received message taken apart for assertions. A single-part
// message's body loses the one line break that ends every message, so Text
// and HTML read as they were sent.
type Parsed struct {
	Subject   string         // decoded from RFC 2047 encoded-words
	From      mail.Address   // decoded display name and address
	To        []mail.Address // decoded display names and addresses
	Headers   mail.Header    // top-level headers as sent, keys canonical
	MediaType string         // top-level media type, such as "multipart/alternative"
	Text      string         // the first text/plain part, decoded, LF line endings
	HTML      string         // the first text/html part, decoded, LF line endings
}

// Parse parses a message as received by the server, failing the test when it
// is not valid MIME.
func Parse(t testing.TB, data []byte) Parsed {
	t.Helper()
	p, err := parse(data)
	if err != nil {
		t.Fatalf("smtptest: parse message: %v\n%s", err, data)
	}
	return p
}

func parse(data []byte) (Parsed, error) {
	msg, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		return Parsed{}, fmt.Errorf("read message: %w", err)
	}
	p := Parsed{Headers: msg.Header}
	dec := new(mime.WordDecoder)
	if p.Subject, err = dec.DecodeHeader(msg.Header.Get("Subject")); err != nil {
		return Parsed{}, fmt.Errorf("decode subject: %w", err)
	}
	from, err := msg.Header.AddressList("From")
	if err != nil {
		return Parsed{}, fmt.Errorf("parse from: %w", err)
	}
	if len(from) != 1 {
		return Parsed{}, fmt.Errorf("want one From address, got %d", len(from))
	}
	p.From = *from[0]
	to, err := msg.Header.AddressList("To")
	if err != nil && !errors.Is(err, mail.ErrHeaderNotPresent) {
		return Parsed{}, fmt.Errorf("parse to: %w", err)
	}
	for _, a := range to {
		p.To = append(p.To, *a)
	}
	p.MediaType, err = p.walk(msg.Header.Get("Content-Type"), msg.Header.Get("Content-Transfer-Encoding"), msg.Body, 0)
	if err != nil {
		return Parsed{}, err
	}
	return p, nil
}

// maxDepth bounds multipart nesting, which real messages keep shallow.
const maxDepth = 8

// walk collects the text and HTML bodies of an entity and returns its media
// type.
func (p *Parsed) walk(contentType, encoding string, body io.Reader, depth int) (string, error) {
	if contentType == "" {
		contentType = "text/plain; charset=us-ascii"
	}
	mediaType, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return "", fmt.Errorf("parse content type %q: %w", contentType, err)
	}

	if strings.HasPrefix(mediaType, "multipart/") {
		if depth >= maxDepth {
			return "", fmt.Errorf("multipart nested deeper than %d", maxDepth)
		}
		if params["boundary"] == "" {
			return "", fmt.Errorf("%s without a boundary", mediaType)
		}
		mr := multipart.NewReader(body, params["boundary"])
		for {
			// NextRawPart leaves quoted-printable for decode, as with
			// single-part messages.
			part, err := mr.NextRawPart()
			if errors.Is(err, io.EOF) {
				return mediaType, nil
			}
			if err != nil {
				return "", fmt.Errorf("read %s part: %w", mediaType, err)
			}
			if _, err := p.walk(part.Header.Get("Content-Type"), part.Header.Get("Content-Transfer-Encoding"), part, depth+1); err != nil {
				return "", err
			}
		}
	}

	if mediaType != "text/plain" && mediaType != "text/html" {
		return mediaType, nil // attachments and the like are not collected
	}
	if cs := strings.ToLower(params["charset"]); cs != "" && cs != "utf-8" && cs != "us-ascii" {
		return "", fmt.Errorf("%s in charset %q; only UTF-8 and US-ASCII are supported", mediaType, cs)
	}
	raw, err := decode(encoding, body)
	if err != nil {
		return "", fmt.Errorf("decode %s: %w", mediaType, err)
	}
	text := strings.ReplaceAll(string(raw), "\r\n", "\n")
	if depth == 0 {
		// A message ends with a line break, which in a multipart message
		// belongs to the closing delimiter but otherwise to the body.
		text = strings.TrimSuffix(text, "\n")
	}
	switch {
	case mediaType == "text/plain" && p.Text == "":
		p.Text = text
	case mediaType == "text/html" && p.HTML == "":
		p.HTML = text
	}
	return mediaType, nil
}

// decode undoes a Content-Transfer-Encoding.
func decode(encoding string, body io.Reader) ([]byte, error) {
	switch strings.ToLower(strings.TrimSpace(encoding)) {
	case "", "7bit", "8bit", "binary":
		return io.ReadAll(body)
	case "quoted-printable":
		return io.ReadAll(quotedprintable.NewReader(body))
	case "base64":
		// The decoder skips the CRLFs that wrap base64 at 76 columns.
		return io.ReadAll(base64.NewDecoder(base64.StdEncoding, body))
	default:
		return nil, fmt.Errorf("unknown transfer encoding %q", encoding)
	}
}
