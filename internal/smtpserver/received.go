package smtpserver

import (
	"crypto/tls"
	"fmt"
	"strings"

	"postgate/internal/smtp"
)

// receivedHeader renders the Received: trace field (RFC 5321 §4.4) with
// the RFC 3848 "with" keyword: ESMTP, ESMTPS (TLS), ESMTPA (authenticated),
// ESMTPSA, or UTF8SMTP, UTF8SMTPS, UTF8SMTPA, UTF8SMTPSA (RFC 6531). It names the TLS version and
// cipher and that the sender authenticated, never how or as whom, and the
// spool id, which the logs also carry.
func (s *session) receivedHeader(id string) string {
	with := "SMTP"
	if s.esmtp {
		with = "ESMTP"
		if s.tx != nil && s.tx.params.SMTPUTF8 {
			with = "UTF8SMTP" // RFC 6531 §3.7.3
		}
		if s.tls != nil {
			with += "S"
		}
		if s.authUser != "" {
			with += "A"
		}
	}
	var b strings.Builder
	client := fmt.Sprintf("[%s]", s.remoteIP)
	if s.listener == ListenerLocal {
		client = fmt.Sprintf("local uid %d", s.localUID)
	}
	fmt.Fprintf(&b, "Received: from %s (%s)\r\n\tby %s (postgate) with %s id %s",
		headerSafe(s.helo), client, s.srv.cfg.Hostname, with, id)
	if s.tls != nil {
		fmt.Fprintf(&b, "\r\n\t(version=%s cipher=%s)", strings.ReplaceAll(tls.VersionName(s.tls.Version), " ", ""), tls.CipherSuiteName(s.tls.CipherSuite))
	}
	if s.authUser != "" {
		b.WriteString("\r\n\t(authenticated sender)")
	}
	if s.tx != nil && len(s.tx.rcpts) == 1 {
		fmt.Fprintf(&b, "\r\n\tfor <%s>", headerSafe(s.tx.rcpts[0].Addr))
	}
	fmt.Fprintf(&b, ";\r\n\t%s\r\n", s.now().Format("Mon, 02 Jan 2006 15:04:05 -0700"))
	return b.String()
}

// headerSafe keeps client-supplied text from breaking the header.
func headerSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 32 || r == 127 || r == '(' || r == ')' {
			return '_'
		}
		return r
	}, smtp.Printable(s))
}
