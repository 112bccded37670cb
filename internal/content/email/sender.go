package email

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/textproto"
	"slices"
	"strings"
	"sync"

	gomail "github.com/wneessen/go-mail"
	"github.com/wneessen/go-mail/smtp"
)

// Sender sends messages through one SMTP relay. It opens a connection per
// message, which keeps it simple and safe for concurrent use; a relay that
// must be spared connections belongs behind a local one.
type Sender struct {
	cfg  Config
	from *mail.Address
	tls  *tls.Config // for STARTTLS and implicit TLS; nil with TLS none
}

// New returns a Sender for c after filling in defaults and validating it.
func New(c Config) (*Sender, error) {
	c = c.withDefaults()
	from, err := c.parse()
	if err != nil {
		return nil, err
	}
	s := &Sender{cfg: c, from: from}
	if c.TLS != TLSNone {
		s.tls = &tls.Config{MinVersion: tls.VersionTLS12}
		if c.TLSConfig != nil {
			s.tls = c.TLSConfig.Clone()
		}
		if s.tls.ServerName == "" {
			s.tls.ServerName = c.Host
		}
	}
	return s, nil
}

// Send delivers m. It returns once the relay has accepted the message, or
// with an *Error saying whether trying again can help; see Permanent. A
// cancelled ctx aborts the conversation at once.
func (s *Sender) Send(ctx context.Context, m Message) error {
	msg, err := build(m, s.from)
	if err != nil {
		return err
	}
	conn := &connCloser{}
	client, err := s.client(conn)
	if err != nil {
		return &Error{Stage: StageConnect, Err: err}
	}
	// go-mail bounds each command by Timeout but only heeds ctx while
	// dialling, so cancellation closes the connection under it.
	stop := context.AfterFunc(ctx, conn.close)
	defer stop()

	err = client.DialAndSendWithContext(ctx, msg)
	if err == nil || msg.IsDelivered() {
		// Once the relay has accepted the message, a failed RSET or QUIT
		// must not cause a second copy.
		return nil
	}
	e := classify(err)
	if ctx.Err() != nil {
		// The reply, if any, was cut short by the cancellation.
		e.Code, e.Permanent = 0, false
		e.Err = fmt.Errorf("%w (%v)", context.Cause(ctx), err)
	}
	return e
}

// client returns a go-mail client for one send, dialling through conn.
func (s *Sender) client(conn *connCloser) (*gomail.Client, error) {
	c := s.cfg
	opts := []gomail.Option{
		gomail.WithTimeout(c.Timeout),
		gomail.WithDialContextFunc(s.dialer(conn)),
		gomail.WithoutNoop(), // a fresh connection needs no check
	}
	switch c.TLS {
	case TLSStartTLS:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory), gomail.WithTLSConfig(s.tls))
	case TLSImplicit:
		// dialer does the handshake; WithSSL keeps go-mail from STARTTLS.
		opts = append(opts, gomail.WithSSL(), gomail.WithTLSConfig(s.tls))
	case TLSNone:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	}
	if c.HelloName != "" {
		opts = append(opts, gomail.WithHELO(c.HelloName))
	}
	if c.Username != "" {
		opts = append(opts, gomail.WithSMTPAuthCustom(&plainOrLogin{username: c.Username, password: c.Password, host: c.Host}))
	}
	// Last: some TLS options change the port.
	opts = append(opts, gomail.WithPort(c.Port))
	return gomail.NewClient(c.Host, opts...)
}

// dialer connects, with the TLS handshake first for implicit TLS, and hands
// the connection to conn so cancellation can close it.
func (s *Sender) dialer(conn *connCloser) gomail.DialContextFunc {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		var d net.Dialer
		c, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		if s.cfg.TLS == TLSImplicit {
			tc := tls.Client(c, s.tls)
			if err := tc.HandshakeContext(ctx); err != nil {
				_ = c.Close()
				return nil, fmt.Errorf("tls handshake: %w", err)
			}
			c = tc
		}
		if !conn.set(c) {
			_ = c.Close()
			return nil, context.Canceled
		}
		return c, nil
	}
}

// codeAuthRequired is RFC 4954's reply to MAIL FROM before AUTH.
const codeAuthRequired = 530

// classify turns a go-mail error into an *Error.
func classify(err error) *Error {
	var sendErr *gomail.SendError
	if !errors.As(err, &sendErr) {
		// Everything before MAIL FROM: dial, EHLO, STARTTLS, AUTH.
		e := &Error{Stage: StageConnect, Err: err}
		var reply *textproto.Error
		if errors.As(err, &reply) {
			e.Code = reply.Code
		}
		return e
	}
	e := &Error{Stage: StageConnect, Code: sendErr.ErrorCode(), Err: err}
	switch sendErr.Reason {
	case gomail.ErrSMTPMailFrom:
		e.Stage = StageMail
	case gomail.ErrSMTPRcptTo:
		e.Stage = StageRcpt
	case gomail.ErrSMTPData, gomail.ErrSMTPDataClose, gomail.ErrWriteContent:
		e.Stage = StageData
	case gomail.ErrGetSender, gomail.ErrGetRcpts, gomail.ErrNoUnencoded:
		e.Stage, e.Permanent = StageMessage, true
	}
	// 530 is the relay wanting AUTH that was not configured.
	if e.Stage != StageConnect && e.Code >= 500 && e.Code < 600 && e.Code != codeAuthRequired {
		e.Permanent = true
	}
	return e
}

// connCloser holds the connection of one send so that cancellation can close
// it from another goroutine, including before it exists.
type connCloser struct {
	mu     sync.Mutex
	conn   net.Conn
	closed bool
}

// set records c, or reports false when the send was already cancelled.
func (cc *connCloser) set(c net.Conn) bool {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	cc.conn = c
	return !cc.closed
}

func (cc *connCloser) close() {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	cc.closed = true
	if cc.conn != nil {
		_ = cc.conn.Close()
	}
}

// plainOrLogin authenticates with PLAIN or, when the server offers only that,
// LOGIN. go-mail's own discovery refuses both without TLS, even to a loopback
// relay, and its opportunistic mode is not safe for concurrent use; the
// wrapped mechanisms still refuse to send credentials in plain text to
// anything but a loopback host.
type plainOrLogin struct {
	username, password, host string
	mech                     smtp.Auth
}

var _ smtp.Auth = (*plainOrLogin)(nil)

func (a *plainOrLogin) Start(server *smtp.ServerInfo) (string, []byte, error) {
	switch {
	case slices.Contains(server.Auth, "PLAIN"):
		a.mech = smtp.PlainAuth("", a.username, a.password, a.host, false)
	case slices.Contains(server.Auth, "LOGIN"):
		a.mech = smtp.LoginAuth(a.username, a.password, a.host, false)
	default:
		return "", nil, fmt.Errorf("the server offers neither AUTH PLAIN nor LOGIN, only %q", strings.Join(server.Auth, " "))
	}
	return a.mech.Start(server)
}

func (a *plainOrLogin) Next(fromServer []byte, more bool) ([]byte, error) {
	return a.mech.Next(fromServer, more)
}
