package smtptest_test

import (
	"crypto/tls"
	"errors"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/internal/content/smtptest"
)

const plainMessage = "From: a@example.com\r\nTo: b@example.com\r\nSubject: hi\r\n\r\nhello\r\n"

// send delivers one message with the standard library's client, so these
// tests do not lean on the package they help test.
func send(t *testing.T, s *smtptest.Server, tlsConfig *tls.Config, auth smtp.Auth, to ...string) error {
	t.Helper()
	c, err := smtp.Dial(s.Addr())
	require.NoError(t, err)
	defer c.Close()
	if tlsConfig != nil {
		if err := c.StartTLS(tlsConfig); err != nil {
			return err
		}
	}
	if auth != nil {
		if err := c.Auth(auth); err != nil {
			return err
		}
	}
	if err := c.Mail("a@example.com"); err != nil {
		return err
	}
	for _, rcpt := range to {
		if err := c.Rcpt(rcpt); err != nil {
			return err
		}
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write([]byte(plainMessage)); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}

func code(t *testing.T, err error) int {
	t.Helper()
	var tpErr *textproto.Error
	require.True(t, errors.As(err, &tpErr), "want an SMTP reply, got %v", err)
	return tpErr.Code
}

func TestServerReceives(t *testing.T) {
	t.Parallel()
	s := smtptest.Start(t)
	require.Equal(t, "127.0.0.1", s.Host())
	require.NotZero(t, s.Port())
	require.Nil(t, s.ClientTLSConfig())

	require.NoError(t, send(t, s, nil, nil, "b@example.com", "c@example.com"))
	msgs := s.Messages()
	require.Len(t, msgs, 1)
	require.Equal(t, "a@example.com", msgs[0].From)
	require.Equal(t, []string{"b@example.com", "c@example.com"}, msgs[0].To)
	require.Equal(t, plainMessage, string(msgs[0].Data))
	require.Empty(t, msgs[0].Username)

	p := smtptest.Parse(t, msgs[0].Data)
	require.Equal(t, "hi", p.Subject)
	require.Equal(t, "hello", p.Text)
}

func TestServerAuth(t *testing.T) {
	t.Parallel()
	s := smtptest.Start(t, smtptest.WithAuth("user", "secret"))

	err := send(t, s, nil, nil, "b@example.com")
	require.Equal(t, 530, code(t, err), "MAIL before AUTH")

	err = send(t, s, nil, smtp.PlainAuth("", "user", "wrong", s.Host()), "b@example.com")
	require.Equal(t, 535, code(t, err), "wrong password")

	require.NoError(t, send(t, s, nil, smtp.PlainAuth("", "user", "secret", s.Host()), "b@example.com"))
	msgs := s.Messages()
	require.Len(t, msgs, 1)
	require.Equal(t, "user", msgs[0].Username)
}

func TestServerRefuses(t *testing.T) {
	t.Parallel()
	s := smtptest.Start(t, smtptest.WithRcptError(550, "no such user"))

	err := send(t, s, nil, nil, "b@example.com")
	require.Equal(t, 550, code(t, err))
	require.Contains(t, err.Error(), "no such user")

	s.SetRcptError(451, "")
	require.Equal(t, 451, code(t, send(t, s, nil, nil, "b@example.com")))

	s.SetRcptError(0, "")
	s.SetDataError(552, "too big")
	require.Equal(t, 552, code(t, send(t, s, nil, nil, "b@example.com")))
	require.Empty(t, s.Messages())

	s.SetDataError(0, "")
	require.NoError(t, send(t, s, nil, nil, "b@example.com"))
	require.Len(t, s.Messages(), 1)
}

func TestServerStartTLS(t *testing.T) {
	t.Parallel()
	s := smtptest.Start(t, smtptest.WithStartTLS(), smtptest.WithAuth("user", "secret"))
	cfg := s.ClientTLSConfig()
	require.NotNil(t, cfg)

	require.Error(t, send(t, s, &tls.Config{ServerName: s.Host(), MinVersion: tls.VersionTLS12}, nil), "an untrusted certificate")
	require.NoError(t, send(t, s, cfg, smtp.PlainAuth("", "user", "secret", s.Host()), "b@example.com"))
	require.Len(t, s.Messages(), 1)
}

func TestServerImplicitTLS(t *testing.T) {
	t.Parallel()
	s := smtptest.Start(t, smtptest.WithImplicitTLS())
	conn, err := tls.Dial("tcp", s.Addr(), s.ClientTLSConfig())
	require.NoError(t, err)
	c, err := smtp.NewClient(conn, s.Host())
	require.NoError(t, err)
	defer c.Close()
	require.NoError(t, c.Mail("a@example.com"))
	require.NoError(t, c.Rcpt("b@example.com"))
	w, err := c.Data()
	require.NoError(t, err)
	_, err = w.Write([]byte(plainMessage))
	require.NoError(t, err)
	require.NoError(t, w.Close())
	require.Len(t, s.Messages(), 1)
}

func TestWaitMessages(t *testing.T) {
	t.Parallel()
	s := smtptest.Start(t)
	done := make(chan error, 2)
	for range 2 {
		go func() { done <- send(t, s, nil, nil, "b@example.com") }()
	}
	msgs := s.WaitMessages(t, 2)
	require.Len(t, msgs, 2)
	for range 2 {
		require.NoError(t, <-done)
	}
}

func TestParse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		data string
		want smtptest.Parsed // Headers are not compared
	}{
		{
			name: "multipart alternative, quoted-printable and base64",
			data: strings.Join([]string{
				"From: =?UTF-8?q?Boutique_J=C3=A9r=C3=B4me?= <shop@example.com>",
				"To: \"Zoë\" <zoe@example.com>, plain@example.com",
				"Subject: =?UTF-8?q?Votre_commande_est_exp=C3=A9di=C3=A9e?=",
				"MIME-Version: 1.0",
				"Content-Type: multipart/alternative; boundary=\"b1\"",
				"",
				"--b1",
				"Content-Type: text/plain; charset=UTF-8",
				"Content-Transfer-Encoding: quoted-printable",
				"",
				"Exp=C3=A9di=C3=A9e.=",
				" Merci.",
				"--b1",
				"Content-Type: text/html; charset=UTF-8",
				"Content-Transfer-Encoding: base64",
				"",
				"PHA+RXhww6lkacOpZS48L3A+",
				"--b1--",
				"",
			}, "\r\n"),
			want: smtptest.Parsed{
				Subject:   "Votre commande est expédiée",
				From:      mailAddr("Boutique Jérôme", "shop@example.com"),
				To:        []mail.Address{mailAddr("Zoë", "zoe@example.com"), mailAddr("", "plain@example.com")},
				MediaType: "multipart/alternative",
				Text:      "Expédiée. Merci.",
				HTML:      "<p>Expédiée.</p>",
			},
		},
		{
			name: "nested with an attachment",
			data: strings.Join([]string{
				"From: shop@example.com",
				"To: zoe@example.com",
				"Subject: plain",
				"Content-Type: multipart/mixed; boundary=outer",
				"",
				"--outer",
				"Content-Type: multipart/alternative; boundary=inner",
				"",
				"--inner",
				"Content-Type: text/plain",
				"",
				"line one",
				"line two",
				"--inner",
				"Content-Type: text/html",
				"",
				"<b>hi</b>",
				"--inner--",
				"--outer",
				"Content-Type: text/plain; name=notes.txt",
				"Content-Disposition: attachment",
				"",
				"not the body",
				"--outer",
				"Content-Type: application/pdf",
				"Content-Transfer-Encoding: base64",
				"",
				"JVBERi0=",
				"--outer--",
			}, "\r\n"),
			want: smtptest.Parsed{
				Subject:   "plain",
				From:      mailAddr("", "shop@example.com"),
				To:        []mail.Address{mailAddr("", "zoe@example.com")},
				MediaType: "multipart/mixed",
				Text:      "line one\nline two",
				HTML:      "<b>hi</b>",
			},
		},
		{
			name: "single html part without To",
			data: "From: shop@example.com\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n<p>ok</p>\r\n",
			want: smtptest.Parsed{
				From:      mailAddr("", "shop@example.com"),
				MediaType: "text/html",
				HTML:      "<p>ok</p>",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := smtptest.Parse(t, []byte(tt.data))
			require.NotEmpty(t, got.Headers)
			got.Headers = nil
			require.Equal(t, tt.want, got)
		})
	}
}

func mailAddr(name, addr string) mail.Address { return mail.Address{Name: name, Address: addr} }
