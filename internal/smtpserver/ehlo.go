package smtpserver

import (
	"fmt"
	"strings"

	"postgate/internal/smtp"
)

// ehloLines returns the EHLO reply: the greeting line, then the classic
// sendmail extension order (ENHANCEDSTATUSCODES PIPELINING 8BITMIME SIZE
// DSN ETRN AUTH DELIVERBY HELP), then STARTTLS, SMTPUTF8, CHUNKING and
// BINARYMIME.
func (s *session) ehloLines() []string {
	cfg := s.srv.cfg
	lines := []string{
		s.helloLine(),
		"ENHANCEDSTATUSCODES",
		"PIPELINING",
		"8BITMIME",
		fmt.Sprintf("SIZE %d", cfg.Limits.MaxMessageSize),
		"DSN",
		"ETRN",
	}
	if s.authUser == "" && s.listener != ListenerLocal {
		if mechs := s.srv.opt.Policy.Offered(s.policySession()); len(mechs) > 0 {
			lines = append(lines, "AUTH "+strings.Join(mechs, " "))
			if old := s.srv.opt.Policy.BrokenClientsLine(s.policySession()); old != "" {
				lines = append(lines, old)
			}
		}
	}
	lines = append(lines, fmt.Sprintf("DELIVERBY %d", cfg.Limits.DeliverByMin), "HELP")
	if s.tls == nil && s.srv.opt.TLS != nil && s.listener != ListenerLocal {
		lines = append(lines, "STARTTLS")
	}
	return append(lines, "SMTPUTF8", "CHUNKING", "BINARYMIME")
}

// helloLine is the first line of the HELO/EHLO reply: the hostname, the
// name the client gave and, when that is not already it, its address.
func (s *session) helloLine() string {
	client := "[" + s.clientName() + "]"
	name := smtp.Printable(s.helo)
	if name == client {
		return fmt.Sprintf("%s Hello %s", s.srv.cfg.Hostname, client)
	}
	return fmt.Sprintf("%s Hello %s %s", s.srv.cfg.Hostname, name, client)
}
