// Package smtptest runs an in-process SMTP server for tests, in the manner of
// net/http/httptest, and parses the MIME messages it receives.
//
// The server listens on 127.0.0.1, keeps every message it accepts in memory,
// and can be told to require AUTH PLAIN, to offer STARTTLS or implicit TLS
// with a throwaway certificate, or to refuse recipients or message data with a
// chosen reply code.
package smtptest

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// WaitTimeout bounds how long WaitMessages waits.
const WaitTimeout = 10 * time.Second

// Received is one message the server accepted.
type Received struct {
	From     string   // MAIL FROM address
	To       []string // RCPT TO addresses, in order
	Data     []byte   // the message as sent after DATA, CRLF line endings
	Username string   // who authenticated, empty without AUTH
}

// Option configures a Server.
type Option func(*options)

type options struct {
	username, password string
	tls                tlsMode
	rcptErr, dataErr   *smtp.SMTPError
}

type tlsMode int

const (
	tlsNone tlsMode = iota
	tlsStart
	tlsImplicit
)

// WithAuth makes the server offer AUTH PLAIN, accept only these credentials
// and refuse MAIL FROM before authentication. Plain-text AUTH is allowed, the
// server being on loopback.
func WithAuth(username, password string) Option {
	return func(o *options) { o.username, o.password = username, password }
}

// WithStartTLS makes the server offer STARTTLS with a self-signed
// certificate; clients trust it through ClientTLSConfig.
func WithStartTLS() Option {
	return func(o *options) { o.tls = tlsStart }
}

// WithImplicitTLS makes the server speak TLS from the first byte, as on port
// 465, with a self-signed certificate; clients trust it through
// ClientTLSConfig.
func WithImplicitTLS() Option {
	return func(o *options) { o.tls = tlsImplicit }
}

// WithRcptError makes the server refuse every RCPT TO with code (such as 550
// or 451) and message, until changed with SetRcptError.
func WithRcptError(code int, message string) Option {
	return func(o *options) { o.rcptErr = replyError(code, message) }
}

// WithDataError makes the server refuse every message after DATA with code
// and message, until changed with SetDataError.
func WithDataError(code int, message string) Option {
	return func(o *options) { o.dataErr = replyError(code, message) }
}

// Server is a running SMTP server. Its methods are safe for concurrent use.
type Server struct {
	addr      *net.TCPAddr
	clientTLS *tls.Config
	username  string
	password  string

	mu       sync.Mutex
	messages []Received
	changed  chan struct{} // closed and replaced whenever a message arrives
	rcptErr  *smtp.SMTPError
	dataErr  *smtp.SMTPError
}

// Start runs a server on 127.0.0.1 on a free port until the test ends.
func Start(t testing.TB, opts ...Option) *Server {
	t.Helper()
	var o options
	for _, opt := range opts {
		opt(&o)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("smtptest: listen: %v", err)
	}
	s := &Server{
		addr:     ln.Addr().(*net.TCPAddr),
		username: o.username,
		password: o.password,
		changed:  make(chan struct{}),
		rcptErr:  o.rcptErr,
		dataErr:  o.dataErr,
	}

	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) {
		return &session{server: s}, nil
	}))
	srv.Domain = "smtptest.localhost"
	srv.AllowInsecureAuth = true
	srv.ReadTimeout = WaitTimeout
	srv.WriteTimeout = WaitTimeout
	srv.MaxMessageBytes = 32 << 20
	srv.ErrorLog = log.New(io.Discard, "", 0) // connections may outlive the test's logger

	if o.tls != tlsNone {
		serverTLS, clientTLS, err := selfSigned()
		if err != nil {
			_ = ln.Close()
			t.Fatalf("smtptest: %v", err)
		}
		s.clientTLS = clientTLS
		if o.tls == tlsStart {
			srv.TLSConfig = serverTLS
		} else {
			ln = tls.NewListener(ln, serverTLS)
		}
	}

	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = srv.Serve(ln)
	}()
	t.Cleanup(func() {
		_ = srv.Close()
		// Close misses the listener when Serve has not registered it yet.
		_ = ln.Close()
		<-served
	})
	return s
}

// Addr returns the server's address as host:port.
func (s *Server) Addr() string { return s.addr.String() }

// Host returns the server's IP address, 127.0.0.1.
func (s *Server) Host() string { return s.addr.IP.String() }

// Port returns the server's port.
func (s *Server) Port() int { return s.addr.Port }

// ClientTLSConfig returns a client configuration that trusts the server's
// certificate, or nil when the server has no TLS.
func (s *Server) ClientTLSConfig() *tls.Config {
	if s.clientTLS == nil {
		return nil
	}
	return s.clientTLS.Clone()
}

// Messages returns a copy of the messages accepted so far, oldest first.
func (s *Server) Messages() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Received, len(s.messages))
	copy(out, s.messages)
	return out
}

// WaitMessages waits until at least n messages have arrived and returns them
// all, failing the test after WaitTimeout. It is for code that sends in the
// background; after a synchronous send, Messages is enough.
func (s *Server) WaitMessages(t testing.TB, n int) []Received {
	t.Helper()
	deadline := time.NewTimer(WaitTimeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		got, changed := len(s.messages), s.changed
		s.mu.Unlock()
		if got >= n {
			return s.Messages()
		}
		select {
		case <-changed:
		case <-deadline.C:
			t.Fatalf("smtptest: got %d messages after %s, want %d", got, WaitTimeout, n)
			return nil
		}
	}
}

// SetRcptError makes the server refuse every RCPT TO with code and message
// from now on; code 0 accepts them again.
func (s *Server) SetRcptError(code int, message string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rcptErr = replyError(code, message)
}

// SetDataError makes the server refuse every message after DATA with code
// and message from now on; code 0 accepts them again.
func (s *Server) SetDataError(code int, message string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dataErr = replyError(code, message)
}

func (s *Server) receive(m Received) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.messages = append(s.messages, m)
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *Server) errors() (rcpt, data error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	// Typed nils must not become non-nil error interfaces.
	if s.rcptErr != nil {
		rcpt = s.rcptErr
	}
	if s.dataErr != nil {
		data = s.dataErr
	}
	return rcpt, data
}

// replyError returns the SMTP reply for code, or nil for code 0. The
// enhanced status code is left for the server to derive from code.
func replyError(code int, message string) *smtp.SMTPError {
	if code == 0 {
		return nil
	}
	if message == "" {
		message = "smtptest: refused with " + strconv.Itoa(code)
	}
	return &smtp.SMTPError{Code: code, Message: message}
}

// errAuthRequired is RFC 4954's reply to MAIL before AUTH.
var errAuthRequired = &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 0}, Message: "Authentication required"}

// session is one SMTP connection's state.
type session struct {
	server   *Server
	username string // set once AUTH succeeds
	msg      Received
}

var _ smtp.AuthSession = (*session)(nil)

func (ss *session) AuthMechanisms() []string {
	if ss.server.username == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (ss *session) Auth(mech string) (sasl.Server, error) {
	if mech != sasl.Plain || ss.server.username == "" {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if (identity != "" && identity != username) || username != ss.server.username || password != ss.server.password {
			return smtp.ErrAuthFailed
		}
		ss.username = username
		return nil
	}), nil
}

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	if ss.server.username != "" && ss.username == "" {
		return errAuthRequired
	}
	ss.msg = Received{From: from, Username: ss.username}
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if err, _ := ss.server.errors(); err != nil {
		return err
	}
	ss.msg.To = append(ss.msg.To, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return fmt.Errorf("read data: %w", err)
	}
	if _, err := ss.server.errors(); err != nil {
		return err
	}
	if len(ss.msg.To) == 0 {
		return errors.New("smtptest: DATA without recipients")
	}
	ss.msg.Data = data
	ss.server.receive(ss.msg)
	ss.msg = Received{}
	return nil
}

func (ss *session) Reset() { ss.msg = Received{} }

func (ss *session) Logout() error { return nil }
