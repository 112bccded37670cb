// Command smtp-sink is a tiny SMTP server for trying Hookline's email
// channel on one machine: it accepts every message, from anyone to anyone,
// and prints it — envelope, subject, a few headers and each text and HTML
// part, decoded — to stdout. Nothing is relayed or stored.
//
//	go run ./examples/content/smtp-sink -addr 127.0.0.1:2525
//
// Point Hookline at it with smtp.host 127.0.0.1, smtp.port 2525 and
// smtp.tls none. It offers no TLS and no AUTH: keep it on loopback.
package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/emersion/go-smtp"
)

// maxMessage bounds one message; Hookline's rendered parts are at most
// 256 KiB each.
const maxMessage = 4 << 20

func main() {
	addr := flag.String("addr", "127.0.0.1:2525", "address to listen on")
	flag.Parse()

	p := &printer{w: os.Stdout}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) {
		return &session{p: p}, nil
	}))
	srv.Addr = *addr
	srv.Domain = "smtp-sink.localhost"
	srv.ReadTimeout = time.Minute
	srv.WriteTimeout = time.Minute
	srv.MaxMessageBytes = maxMessage
	srv.MaxRecipients = 50

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatalf("smtp-sink: %v", err)
	}
	fmt.Printf("smtp-sink listening on %s\n", ln.Addr())

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, smtp.ErrServerClosed) && ctx.Err() == nil {
		log.Fatalf("smtp-sink: %v", err)
	}
}

// session is one SMTP conversation.
type session struct {
	p    *printer
	from string
	to   []string
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	s.from, s.to = from, nil
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = append(s.to, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.p.print(s.from, s.to, data)
	return nil
}

func (s *session) Reset()        { s.from, s.to = "", nil }
func (s *session) Logout() error { return nil }

// printer writes one message at a time.
type printer struct {
	mu sync.Mutex
	w  io.Writer
	n  int
}

func (p *printer) print(from string, to []string, data []byte) {
	var b strings.Builder
	fmt.Fprintf(&b, "── message %d\n", p.next())
	fmt.Fprintf(&b, "envelope: from %s to %s\n", from, strings.Join(to, ", "))
	msg, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		fmt.Fprintf(&b, "(not a valid message: %v)\n%s\n", err, data)
		p.write(b.String())
		return
	}
	dec := new(mime.WordDecoder)
	for _, h := range []string{"From", "To", "Subject", "Message-Id", "List-Unsubscribe", "List-Unsubscribe-Post"} {
		if v := msg.Header.Get(h); v != "" {
			if d, err := dec.DecodeHeader(v); err == nil {
				v = d
			}
			fmt.Fprintf(&b, "%s: %s\n", strings.ToLower(h), v)
		}
	}
	if err := parts(&b, msg.Header.Get("Content-Type"), msg.Header.Get("Content-Transfer-Encoding"), msg.Body, 0); err != nil {
		fmt.Fprintf(&b, "(could not decode the body: %v)\n", err)
	}
	p.write(b.String())
}

func (p *printer) next() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.n++
	return p.n
}

func (p *printer) write(s string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprint(p.w, s+"\n")
}

// parts prints the text parts of an entity, walking multipart ones.
func parts(b *strings.Builder, contentType, encoding string, body io.Reader, depth int) error {
	if contentType == "" {
		contentType = "text/plain"
	}
	mediaType, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return err
	}
	if strings.HasPrefix(mediaType, "multipart/") {
		if depth > 8 {
			return errors.New("multipart nested too deep")
		}
		mr := multipart.NewReader(body, params["boundary"])
		for {
			part, err := mr.NextRawPart()
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return err
			}
			if err := parts(b, part.Header.Get("Content-Type"), part.Header.Get("Content-Transfer-Encoding"), part, depth+1); err != nil {
				return err
			}
		}
	}
	switch strings.ToLower(encoding) {
	case "quoted-printable":
		body = quotedprintable.NewReader(body)
	case "base64":
		body = base64.NewDecoder(base64.StdEncoding, body)
	}
	text, err := io.ReadAll(body)
	if err != nil {
		return err
	}
	fmt.Fprintf(b, "%s:\n", mediaType)
	for _, line := range strings.Split(strings.TrimRight(strings.ReplaceAll(string(text), "\r\n", "\n"), "\n"), "\n") {
		fmt.Fprintf(b, "  %s\n", line)
	}
	return nil
}
