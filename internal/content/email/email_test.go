package email_test

import (
	"context"
	"errors"
	"fmt"
	"mime"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/internal/content/email"
	"github.com/hookline/hookline/internal/content/smtptest"
)

type bundle struct {
	srv    *smtptest.Server
	sender *email.Sender
}

// setup starts a server with opts and a sender to it; edit tweaks the
// sender's config.
func setup(t *testing.T, edit func(*email.Config), opts ...smtptest.Option) bundle {
	t.Helper()
	srv := smtptest.Start(t, opts...)
	cfg := email.Config{
		Host:      srv.Host(),
		Port:      srv.Port(),
		TLS:       email.TLSNone,
		From:      "Boutique Jérôme <noreply@shop.example>",
		HelloName: "test.hookline.local",
	}
	if edit != nil {
		edit(&cfg)
	}
	sender, err := email.New(cfg)
	require.NoError(t, err)
	return bundle{srv: srv, sender: sender}
}

// only returns the single message the server received.
func only(t *testing.T, srv *smtptest.Server) smtptest.Received {
	t.Helper()
	msgs := srv.Messages()
	require.Len(t, msgs, 1)
	return msgs[0]
}

func sendErr(t *testing.T, err error) *email.Error {
	t.Helper()
	var e *email.Error
	require.True(t, errors.As(err, &e), "want *email.Error, got %T: %v", err, err)
	return e
}

func TestSendAlternative(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	long := strings.Repeat("ligne très longue ", 10)
	err := b.sender.Send(t.Context(), email.Message{
		To:        "zoe@example.com",
		ToName:    "Zoë Ünal",
		Subject:   "Votre commande n°42 est expédiée 📦",
		Text:      "Bonjour Zoë,\n\n" + long + "\n= fin =\n",
		HTML:      "<p>Bonjour Zoë,</p>\n<p>" + long + "</p>",
		MessageID: "msg_01",
		Headers:   map[string]string{"X-Hookline-Message-Id": "msg_01", "x-note": "ça va"},
	})
	require.NoError(t, err)

	got := only(t, b.srv)
	require.Equal(t, "noreply@shop.example", got.From, "envelope sender")
	require.Equal(t, []string{"zoe@example.com"}, got.To, "envelope recipient")

	raw := string(got.Data)
	header, _, _ := strings.Cut(raw, "\r\n\r\n")
	require.NotContains(t, header, "Zoë", "names are encoded")
	require.NotContains(t, header, "expédiée", "the subject is encoded")
	require.Contains(t, header, "=?UTF-8?")
	require.NotContains(t, header, "User-Agent")
	require.NotContains(t, header, "X-Mailer")
	for line := range strings.SplitSeq(raw, "\r\n") {
		require.LessOrEqual(t, len(line), 998, "RFC 5322 line limit")
	}

	p := smtptest.Parse(t, got.Data)
	require.Equal(t, "Votre commande n°42 est expédiée 📦", p.Subject)
	require.Equal(t, mail.Address{Name: "Boutique Jérôme", Address: "noreply@shop.example"}, p.From)
	require.Equal(t, []mail.Address{{Name: "Zoë Ünal", Address: "zoe@example.com"}}, p.To)
	require.Equal(t, "multipart/alternative", p.MediaType)
	require.Equal(t, "Bonjour Zoë,\n\n"+long+"\n= fin =\n", p.Text)
	require.Equal(t, "<p>Bonjour Zoë,</p>\n<p>"+long+"</p>", p.HTML)
	require.Equal(t, "<msg_01@shop.example>", p.Headers.Get("Message-Id"))
	require.Equal(t, "msg_01", p.Headers.Get("X-Hookline-Message-Id"))
	note, err := new(mime.WordDecoder).DecodeHeader(p.Headers.Get("X-Note"))
	require.NoError(t, err)
	require.Equal(t, "ça va", note)
	require.NotEmpty(t, p.Headers.Get("Date"))
	require.Empty(t, p.Headers.Get("List-Unsubscribe"), "only when asked for")
	require.Empty(t, p.Headers.Get("List-Unsubscribe-Post"))

	// The alternatives are in order, text first.
	require.Less(t, strings.Index(raw, "text/plain"), strings.Index(raw, "text/html"))
}

func TestSendSinglePart(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		msg       email.Message
		mediaType string
	}{
		{"text only", email.Message{Text: "just text"}, "text/plain"},
		{"html only", email.Message{HTML: "<b>just html</b>"}, "text/html"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, nil)
			tt.msg.To, tt.msg.Subject = "ada@example.com", "plain ascii"
			require.NoError(t, b.sender.Send(t.Context(), tt.msg))
			p := smtptest.Parse(t, only(t, b.srv).Data)
			require.Equal(t, tt.mediaType, p.MediaType)
			require.Equal(t, tt.msg.Text, p.Text)
			require.Equal(t, tt.msg.HTML, p.HTML)
			require.Equal(t, "plain ascii", p.Subject)
			require.Equal(t, []mail.Address{{Address: "ada@example.com"}}, p.To)
			id := p.Headers.Get("Message-Id")
			require.Regexp(t, `^<[0-9a-f]{32}@shop\.example>$`, id, "a random Message-ID in the sender's domain")
		})
	}
}

func TestSendNamesNeedingQuotes(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *email.Config) { c.From = `"Shop, Inc." <noreply@shop.example>` })
	require.NoError(t, b.sender.Send(t.Context(), email.Message{
		To: "ada@example.com", ToName: `Ada "The Countess" <Lovelace>`, Text: "hi",
	}))
	p := smtptest.Parse(t, only(t, b.srv).Data)
	require.Equal(t, mail.Address{Name: "Shop, Inc.", Address: "noreply@shop.example"}, p.From)
	require.Equal(t, []mail.Address{{Name: `Ada "The Countess" <Lovelace>`, Address: "ada@example.com"}}, p.To)
}

func TestSendListUnsubscribe(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	const link = "https://hooks.example/u/tok_AbC-123?c=orders"
	require.NoError(t, b.sender.Send(t.Context(), email.Message{
		To: "ada@example.com", Subject: "s", Text: "t", ListUnsubscribe: link, MessageID: "<given@ids.example>",
	}))
	p := smtptest.Parse(t, only(t, b.srv).Data)
	require.Equal(t, "<"+link+">", p.Headers.Get("List-Unsubscribe"))
	require.Equal(t, "List-Unsubscribe=One-Click", p.Headers.Get("List-Unsubscribe-Post"))
	require.Equal(t, "<given@ids.example>", p.Headers.Get("Message-Id"))
}

func TestSendAuth(t *testing.T) {
	t.Parallel()
	withAuth := smtptest.WithAuth("shop", "s3cret")

	t.Run("given", func(t *testing.T) {
		t.Parallel()
		b := setup(t, func(c *email.Config) { c.Username, c.Password = "shop", "s3cret" }, withAuth)
		require.NoError(t, b.sender.Send(t.Context(), email.Message{To: "ada@example.com", Text: "t"}))
		require.Equal(t, "shop", only(t, b.srv).Username)
	})
	t.Run("missing", func(t *testing.T) {
		t.Parallel()
		b := setup(t, nil, withAuth)
		err := b.sender.Send(t.Context(), email.Message{To: "ada@example.com", Text: "t"})
		e := sendErr(t, err)
		require.Equal(t, 530, e.Code)
		require.False(t, email.Permanent(err), "a configuration problem, not the message's: %v", err)
		require.Empty(t, b.srv.Messages())
	})
	t.Run("wrong", func(t *testing.T) {
		t.Parallel()
		b := setup(t, func(c *email.Config) { c.Username, c.Password = "shop", "wrong" }, withAuth)
		err := b.sender.Send(t.Context(), email.Message{To: "ada@example.com", Text: "t"})
		e := sendErr(t, err)
		require.Equal(t, email.StageConnect, e.Stage)
		require.Equal(t, 535, e.Code)
		require.False(t, email.Permanent(err), "%v", err)
		require.Empty(t, b.srv.Messages())
	})
	t.Run("not offered", func(t *testing.T) {
		t.Parallel()
		b := setup(t, func(c *email.Config) { c.Username, c.Password = "shop", "s3cret" })
		err := b.sender.Send(t.Context(), email.Message{To: "ada@example.com", Text: "t"})
		require.Error(t, err)
		require.False(t, email.Permanent(err), "%v", err)
	})
}

func TestSendRefused(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		opt       smtptest.Option
		stage     string
		code      int
		permanent bool
	}{
		{"rcpt 550", smtptest.WithRcptError(550, "no such mailbox"), email.StageRcpt, 550, true},
		{"rcpt 451", smtptest.WithRcptError(451, "try later"), email.StageRcpt, 451, false},
		{"rcpt 452", smtptest.WithRcptError(452, "mailbox full"), email.StageRcpt, 452, false},
		{"data 554", smtptest.WithDataError(554, "looks like spam"), email.StageData, 554, true},
		{"data 451", smtptest.WithDataError(451, "local error"), email.StageData, 451, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, nil, tt.opt)
			err := b.sender.Send(t.Context(), email.Message{To: "ada@example.com", Text: "t"})
			e := sendErr(t, err)
			require.Equal(t, tt.stage, e.Stage)
			require.Equal(t, tt.code, e.Code)
			require.Equal(t, tt.permanent, e.Permanent)
			require.Equal(t, tt.permanent, email.Permanent(err))
			require.Equal(t, tt.permanent, email.Permanent(fmt.Errorf("wrapped: %w", err)))
			require.Contains(t, err.Error(), fmt.Sprint(tt.code))
			require.Empty(t, b.srv.Messages())
		})
	}
}

func TestSendRecoversAfterTemporaryFailure(t *testing.T) {
	t.Parallel()
	b := setup(t, nil, smtptest.WithRcptError(421, "busy"))
	msg := email.Message{To: "ada@example.com", Text: "t"}
	require.False(t, email.Permanent(b.sender.Send(t.Context(), msg)))
	b.srv.SetRcptError(0, "")
	require.NoError(t, b.sender.Send(t.Context(), msg))
	require.Len(t, b.srv.Messages(), 1)
}

func TestSendTLS(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		server smtptest.Option
		tls    string // Config.TLS
	}{
		{"starttls", smtptest.WithStartTLS(), ""},
		{"implicit", smtptest.WithImplicitTLS(), email.TLSImplicit},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := smtptest.Start(t, tc.server, smtptest.WithAuth("shop", "s3cret"))
			s, err := email.New(email.Config{
				Host: srv.Host(), Port: srv.Port(), TLS: tc.tls, Username: "shop", Password: "s3cret",
				From: "noreply@shop.example", TLSConfig: srv.ClientTLSConfig(),
			})
			require.NoError(t, err)
			require.NoError(t, s.Send(t.Context(), email.Message{To: "ada@example.com", Text: "t"}))
			require.Equal(t, "shop", only(t, srv).Username)
		})
	}
	t.Run("starttls required but not offered", func(t *testing.T) {
		t.Parallel()
		srv := smtptest.Start(t)
		s, err := email.New(email.Config{Host: srv.Host(), Port: srv.Port(), From: "noreply@shop.example"})
		require.NoError(t, err)
		err = s.Send(t.Context(), email.Message{To: "ada@example.com", Text: "t"})
		require.ErrorContains(t, err, "STARTTLS")
		require.False(t, email.Permanent(err))
		require.Empty(t, srv.Messages())
	})
	t.Run("untrusted certificate", func(t *testing.T) {
		t.Parallel()
		srv := smtptest.Start(t, smtptest.WithStartTLS())
		s, err := email.New(email.Config{Host: srv.Host(), Port: srv.Port(), From: "noreply@shop.example"})
		require.NoError(t, err)
		err = s.Send(t.Context(), email.Message{To: "ada@example.com", Text: "t"})
		require.ErrorContains(t, err, "certificate")
		require.False(t, email.Permanent(err))
		require.Empty(t, srv.Messages())
	})
}

func TestSendInvalidMessage(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	ok := email.Message{To: "ada@example.com", Text: "t"}
	tests := map[string]func(m *email.Message){
		"no address":             func(m *email.Message) { m.To = "" },
		"not an address":         func(m *email.Message) { m.To = "ada" },
		"name in address":        func(m *email.Message) { m.To = "Ada <ada@example.com>" },
		"two addresses":          func(m *email.Message) { m.To = "ada@example.com, bob@example.com" },
		"no body":                func(m *email.Message) { m.Text = "" },
		"unsubscribe not http":   func(m *email.Message) { m.ListUnsubscribe = "javascript:alert(1)" },
		"unsubscribe relative":   func(m *email.Message) { m.ListUnsubscribe = "/u/tok" },
		"unsubscribe with space": func(m *email.Message) { m.ListUnsubscribe = "https://x.example/u/a b" },
		"unsubscribe injection":  func(m *email.Message) { m.ListUnsubscribe = "https://x.example/u>\r\nBcc: evil@example.com" },
		"message id with space":  func(m *email.Message) { m.MessageID = "a b@c" },
		"message id two ats":     func(m *email.Message) { m.MessageID = "a@b@c" },
		"header name":            func(m *email.Message) { m.Headers = map[string]string{"X-Bad Name": "v"} },
		"header injection":       func(m *email.Message) { m.Headers = map[string]string{"X-A: b\r\nBcc": "v"} },
		"reserved header":        func(m *email.Message) { m.Headers = map[string]string{"bcc": "evil@example.com"} },
		"content header":         func(m *email.Message) { m.Headers = map[string]string{"Content-Type": "text/evil"} },
	}
	for name, edit := range tests {
		m := ok
		edit(&m)
		err := b.sender.Send(t.Context(), m)
		require.Error(t, err, name)
		require.True(t, email.Permanent(err), "%s: %v", name, err)
		require.Equal(t, email.StageMessage, sendErr(t, err).Stage, name)
	}
	require.Empty(t, b.srv.Messages())
}

func TestSendHeaderValueCannotInject(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	require.NoError(t, b.sender.Send(t.Context(), email.Message{
		To: "ada@example.com", ToName: "Ada\r\nBcc: evil@example.com", Subject: "hi\r\nBcc: evil@example.com", Text: "t",
		Headers: map[string]string{"X-Ref": "1\r\nBcc: evil@example.com"},
	}))
	got := only(t, b.srv)
	require.Equal(t, []string{"ada@example.com"}, got.To)
	p := smtptest.Parse(t, got.Data)
	require.Empty(t, p.Headers.Get("Bcc"))
	require.Equal(t, "hi\r\nBcc: evil@example.com", p.Subject)
}

func TestSendConcurrently(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	const n = 8
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			errs <- b.sender.Send(t.Context(), email.Message{To: fmt.Sprintf("r%d@example.com", i), Text: "t"})
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	var to []string
	for _, m := range b.srv.Messages() {
		to = append(to, m.To...)
	}
	require.Len(t, to, n)
}

func TestSendHonoursContext(t *testing.T) {
	t.Parallel()
	// A server that accepts and then says nothing, not even a greeting.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = ln.Close() })
	accepted := make(chan net.Conn, 1)
	go func() {
		if c, err := ln.Accept(); err == nil {
			accepted <- c
		}
	}()
	t.Cleanup(func() {
		select {
		case c := <-accepted:
			_ = c.Close()
		default:
		}
	})

	s, err := email.New(email.Config{
		Host: "127.0.0.1", Port: ln.Addr().(*net.TCPAddr).Port, TLS: email.TLSNone,
		From: "noreply@shop.example", Timeout: time.Minute,
	})
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = s.Send(ctx, email.Message{To: "ada@example.com", Text: "t"})
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.False(t, email.Permanent(err))
	require.Less(t, time.Since(start), 10*time.Second, "the minute-long command timeout did not apply")
}

func TestSendConnectionRefused(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := ln.Addr().(*net.TCPAddr).Port
	require.NoError(t, ln.Close())

	s, err := email.New(email.Config{Host: "127.0.0.1", Port: port, TLS: email.TLSNone, From: "noreply@shop.example"})
	require.NoError(t, err)
	err = s.Send(t.Context(), email.Message{To: "ada@example.com", Text: "t"})
	e := sendErr(t, err)
	require.Equal(t, email.StageConnect, e.Stage)
	require.Zero(t, e.Code)
	require.False(t, email.Permanent(err))
}

func TestPermanentOnOtherErrors(t *testing.T) {
	t.Parallel()
	require.False(t, email.Permanent(nil))
	require.False(t, email.Permanent(errors.New("550 looks like a reply but is not one")))
	require.True(t, email.Permanent(&email.Error{Permanent: true}))
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	base := email.Config{Host: "smtp.example.com", From: "Shop <noreply@shop.example>"}
	require.NoError(t, base.Validate())

	valid := map[string]func(c *email.Config){
		"implicit tls":          func(c *email.Config) { c.TLS = "tls" },
		"upper case mode":       func(c *email.Config) { c.TLS = "STARTTLS" },
		"ip host":               func(c *email.Config) { c.Host = "192.0.2.1" },
		"ipv6 host":             func(c *email.Config) { c.Host = "2001:db8::1" },
		"auth over starttls":    func(c *email.Config) { c.Username, c.Password = "u", "p" },
		"auth to local relay":   func(c *email.Config) { c.Host, c.TLS, c.Username, c.Password = "127.0.0.1", "none", "u", "p" },
		"plain relay, no auth":  func(c *email.Config) { c.Host, c.TLS = "mailpit", "none" },
		"bare from":             func(c *email.Config) { c.From = "noreply@shop.example" },
		"timeout and helo name": func(c *email.Config) { c.Timeout, c.HelloName = time.Second, "mta.shop.example" },
	}
	for name, edit := range valid {
		c := base
		edit(&c)
		require.NoError(t, c.Validate(), name)
	}

	invalid := map[string]struct {
		edit func(c *email.Config)
		want string
	}{
		"no host":                 {func(c *email.Config) { c.Host = "" }, "host is required"},
		"host with port":          {func(c *email.Config) { c.Host = "smtp.example.com:587" }, "port in port"},
		"host as url":             {func(c *email.Config) { c.Host = "smtp://smtp.example.com" }, "host"},
		"port out of range":       {func(c *email.Config) { c.Port = 70000 }, "port 70000"},
		"negative port":           {func(c *email.Config) { c.Port = -1 }, "port -1"},
		"unknown tls":             {func(c *email.Config) { c.TLS = "ssl" }, `tls "ssl"`},
		"password alone":          {func(c *email.Config) { c.Password = "p" }, "password is set but username"},
		"username alone":          {func(c *email.Config) { c.Username = "u" }, "username is set but password"},
		"credentials in the open": {func(c *email.Config) { c.TLS, c.Username, c.Password = "none", "u", "p" }, "username: credentials"},
		"negative timeout":        {func(c *email.Config) { c.Timeout = -time.Second }, "timeout"},
		"helo with space":         {func(c *email.Config) { c.HelloName = "a b" }, "hello_name"},
		"no from":                 {func(c *email.Config) { c.From = "" }, "from is required"},
		"bad from":                {func(c *email.Config) { c.From = "Shop noreply" }, "from"},
	}
	for name, tt := range invalid {
		c := base
		tt.edit(&c)
		err := c.Validate()
		require.ErrorContains(t, err, tt.want, name)
		_, err = email.New(c)
		require.Error(t, err, name)
	}
}
