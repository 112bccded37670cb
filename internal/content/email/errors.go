package email

import (
	"errors"
	"fmt"
)

// Stages of a send, as Error.Stage.
const (
	StageMessage = "message" // building the message; nothing was sent
	StageConnect = "connect" // connecting, EHLO, STARTTLS or AUTH
	StageMail    = "mail"    // MAIL FROM
	StageRcpt    = "rcpt"    // RCPT TO
	StageData    = "data"    // DATA and the message itself
)

// Error is a failed send.
type Error struct {
	// Stage is where the send failed, one of the Stage constants.
	Stage string
	// Code is the SMTP reply code, or 0 when the failure was not a reply.
	Code int
	// Permanent is true when sending the same message again cannot
	// succeed: the message is invalid, or the server refused it with a 5xx
	// reply to MAIL, RCPT or DATA. Failures to connect, negotiate TLS or
	// authenticate, and 530 (authentication required), are never
	// permanent, even with a 5xx reply: they are about the relay or its
	// configuration rather than the message, and go away once fixed.
	Permanent bool
	Err       error
}

func (e *Error) Error() string {
	kind := "temporary"
	if e.Permanent {
		kind = "permanent"
	}
	return fmt.Sprintf("send email (%s, %s): %v", e.Stage, kind, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// Permanent reports whether err is an *Error that retrying cannot fix; any
// other error, such as a timeout, is temporary.
func Permanent(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Permanent
}

// invalid returns the permanent error of a message that cannot be sent.
func invalid(format string, args ...any) error {
	return &Error{Stage: StageMessage, Permanent: true, Err: fmt.Errorf(format, args...)}
}
