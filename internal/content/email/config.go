// Package email sends rendered content as email through an SMTP relay.
package email

import (
	"cmp"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"strings"
	"time"
)

// TLS modes of Config.TLS.
const (
	// TLSStartTLS connects in plain text and requires the server to upgrade
	// with STARTTLS before anything else is said. The default.
	TLSStartTLS = "starttls"
	// TLSImplicit speaks TLS from the first byte, as on port 465.
	TLSImplicit = "tls"
	// TLSNone never encrypts. It is for relays on the same machine or
	// network and for tests; credentials are then only sent to a loopback
	// host.
	TLSNone = "none"
)

// Defaults for Config.
const (
	DefaultTimeout = 30 * time.Second
	// DefaultPort is the submission port, used with STARTTLS.
	DefaultPort = 587
	// DefaultImplicitTLSPort is the submissions port, used with implicit TLS.
	DefaultImplicitTLSPort = 465
	// DefaultPlainPort is the SMTP port, used without TLS.
	DefaultPlainPort = 25
)

// Config says how to reach the SMTP relay and whom mail is from.
type Config struct {
	// Host is the relay's host name or IP address, without a port.
	Host string
	// Port defaults by TLS mode: 587 for starttls, 465 for tls, 25 for none.
	Port int
	// TLS is starttls (default), tls or none.
	TLS string
	// Username and Password, when Username is set, authenticate with AUTH
	// PLAIN or, when the server offers only that, AUTH LOGIN. Credentials
	// are only ever sent over TLS or to a loopback host.
	Username string
	Password string
	// From is the sender, with or without a display name:
	// "Shop <noreply@shop.example>". Its domain also completes message IDs.
	From string
	// Timeout bounds connecting and each command; default 30s.
	Timeout time.Duration
	// HelloName is the name given in EHLO; default the machine's host name.
	HelloName string
	// TLSConfig, when set, is used for the TLS connection, for example to
	// trust a private certificate authority. ServerName defaults to Host.
	TLSConfig *tls.Config
}

// withDefaults fills in the fields that have defaults.
func (c Config) withDefaults() Config {
	c.TLS = cmp.Or(strings.ToLower(c.TLS), TLSStartTLS)
	if c.Port == 0 {
		switch c.TLS {
		case TLSImplicit:
			c.Port = DefaultImplicitTLSPort
		case TLSNone:
			c.Port = DefaultPlainPort
		default:
			c.Port = DefaultPort
		}
	}
	c.Timeout = cmp.Or(c.Timeout, DefaultTimeout)
	return c
}

// Validate reports the first problem with c, naming the field. Zero values
// with a default are fine.
func (c Config) Validate() error {
	_, err := c.withDefaults().parse()
	return err
}

// parse validates a defaulted Config and returns its parsed From.
func (c Config) parse() (*mail.Address, error) {
	switch {
	case c.Host == "":
		return nil, errors.New("email config: host is required")
	case strings.ContainsAny(c.Host, " /\r\n\t") || (strings.Contains(c.Host, ":") && net.ParseIP(c.Host) == nil):
		return nil, fmt.Errorf("email config: host %q must be a host name or IP address, with the port in port", c.Host)
	case c.Port < 1 || c.Port > 65535:
		return nil, fmt.Errorf("email config: port %d is out of range 1-65535", c.Port)
	case c.TLS != TLSStartTLS && c.TLS != TLSImplicit && c.TLS != TLSNone:
		return nil, fmt.Errorf("email config: tls %q must be one of %s, %s, %s", c.TLS, TLSStartTLS, TLSImplicit, TLSNone)
	case c.Password != "" && c.Username == "":
		return nil, errors.New("email config: password is set but username is not")
	case c.Username != "" && c.Password == "":
		return nil, errors.New("email config: username is set but password is not")
	case c.Username != "" && c.TLS == TLSNone && !isLoopback(c.Host):
		return nil, fmt.Errorf("email config: username: credentials are not sent without TLS except to a loopback host, and host is %q; set tls to starttls or tls", c.Host)
	case c.Timeout < 0:
		return nil, fmt.Errorf("email config: timeout %s is negative", c.Timeout)
	case strings.ContainsAny(c.HelloName, " \r\n\t"):
		return nil, fmt.Errorf("email config: hello_name %q must be a single host name", c.HelloName)
	case c.From == "":
		return nil, errors.New("email config: from is required")
	}
	from, err := mail.ParseAddress(c.From)
	if err != nil {
		return nil, fmt.Errorf("email config: from %q: %w", c.From, err)
	}
	return from, nil
}

// isLoopback matches the hosts go-mail's PLAIN and LOGIN will send
// credentials to without TLS.
func isLoopback(host string) bool {
	return host == "localhost" || host == "127.0.0.1" || host == "::1"
}
