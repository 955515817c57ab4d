// Package smtp is postgate's SMTP vocabulary, shared by the server, the
// client and delivery: replies with their enhanced status codes (RFC 5321,
// RFC 3463), mailbox and path syntax (RFC 5321 §4.1.2, RFC 6531) and the
// ESMTP parameters of MAIL and RCPT (RFC 1870, 6152, 3030, 3461, 2852, 4954).
// It does no I/O.
package smtp

import (
	"errors"
	"fmt"
	"strings"
)

// Reply is one SMTP reply: a three-digit code, an RFC 3463 enhanced status
// code (empty for the greeting and replies before EHLO where none applies)
// and human-readable text, possibly several lines.
type Reply struct {
	Code     int
	Enhanced string
	Text     string
}

// R builds a Reply.
func R(code int, enhanced, text string) Reply {
	return Reply{Code: code, Enhanced: enhanced, Text: text}
}

// Rf builds a Reply with formatted text.
func Rf(code int, enhanced, format string, args ...any) Reply {
	return Reply{Code: code, Enhanced: enhanced, Text: fmt.Sprintf(format, args...)}
}

// Lines renders the reply as wire lines without CRLF. Multi-line text
// (separated by "\n") becomes "250-..." continuation lines; each line
// carries the enhanced code, as RFC 2034 §4 asks.
func (r Reply) Lines() []string {
	parts := strings.Split(r.Text, "\n")
	out := make([]string, len(parts))
	for i, p := range parts {
		sep := " "
		if i < len(parts)-1 {
			sep = "-"
		}
		if r.Enhanced != "" {
			out[i] = fmt.Sprintf("%d%s%s %s", r.Code, sep, r.Enhanced, p)
		} else {
			out[i] = fmt.Sprintf("%d%s%s", r.Code, sep, p)
		}
	}
	return out
}

// String renders the reply as it goes on the wire, CRLF-terminated.
func (r Reply) String() string {
	return strings.Join(r.Lines(), "\r\n") + "\r\n"
}

// Positive reports a 2xx or 3xx reply.
func (r Reply) Positive() bool { return r.Code >= 200 && r.Code < 400 }

// Temporary reports a 4xx reply.
func (r Reply) Temporary() bool { return r.Code >= 400 && r.Code < 500 }

// Error is an error that carries the SMTP reply it becomes, wrapping its
// cause. Match it with errors.As or use ReplyOf.
type Error struct {
	Reply Reply
	Err   error
}

// Errorf returns an *Error with the given reply.
func Errorf(code int, enhanced, format string, args ...any) *Error {
	return &Error{Reply: Rf(code, enhanced, format, args...)}
}

// Wrap returns an *Error carrying reply r and cause err.
func Wrap(r Reply, err error) *Error { return &Error{Reply: r, Err: err} }

func (e *Error) Error() string {
	s := fmt.Sprintf("%d %s %s", e.Reply.Code, e.Reply.Enhanced, e.Reply.Text)
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// Temporary reports whether the reply is a 4xx.
func (e *Error) Temporary() bool { return e.Reply.Temporary() }

// ReplyOf returns the reply an error becomes: its own when it is (or wraps)
// an *Error, else 451 4.3.0 (local error, try again later).
func ReplyOf(err error) Reply {
	var e *Error
	if errors.As(err, &e) {
		return e.Reply
	}
	return R(451, "4.3.0", "Requested action aborted: local error in processing")
}
