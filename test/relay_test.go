package test

import (
	"encoding/base64"
	"strings"
	"testing"
)

// plainResponse is AUTH PLAIN's initial response for u with password.
func plainResponse(u testUser, password string) string {
	return base64.StdEncoding.EncodeToString([]byte("\x00" + u.Addr + "\x00" + password))
}

// authLine returns the mechanisms of the EHLO reply's AUTH line.
func authLine(ehlo reply) []string {
	for _, l := range strings.Split(ehlo.Text, "\n") {
		if f := strings.Fields(l); len(f) > 0 && f[0] == "AUTH" {
			return f[1:]
		}
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestOpenRelayRefused: an unauthenticated client on 127.0.0.1 (not in
// trusted_networks, which is empty) cannot relay through any listener.
// On smtp, RCPT to a non-local domain gets 550 5.7.1, also in the forms
// that have fooled relay checks before (case, source routes, %-hack,
// quoted local parts, address literals, look-alike domains) and also
// after STARTTLS. On submission and submissions MAIL itself needs AUTH
// (530 5.7.0), so no RCPT is accepted. After AUTH the same RCPT is
// accepted, which shows the refusals come from the missing AUTH.
func TestOpenRelayRefused(t *testing.T) {
	t.Parallel()
	s := startServer(t, serverOpts{})

	t.Run("smtp", func(t *testing.T) {
		tests := []struct {
			rcpt     string
			enhanced string // "" when any 5xx refusal will do
		}{
			{"<someone@elsewhere.test>", "5.7.1"},
			{"<SOMEONE@ELSEWHERE.TEST>", "5.7.1"},
			{"<someone@example.test.elsewhere.test>", "5.7.1"},
			{"<someone@elsewhere.test.>", ""},
			{"<@example.test:someone@elsewhere.test>", ""},
			{"<someone%elsewhere.test@example.test>", ""},
			{"<someone!elsewhere.test@example.test>", ""},
			{"<\"someone@elsewhere.test\"@example.test>", ""},
			{"<someone@[192.0.2.1]>", ""},
			{"<someone@elsewhere.test> NOTIFY=NEVER", "5.7.1"},
		}
		for _, tls := range []bool{false, true} {
			c := dialRaw(t, s.addr["smtp"], false)
			c.expect("EHLO client.remote.test", 250, "")
			if tls {
				c.startTLS()
				c.expect("EHLO client.remote.test", 250, "")
			}
			c.expect("MAIL FROM:<sender@remote.test>", 250, "2.1.0")
			for _, tt := range tests {
				r := c.cmd("RCPT TO:" + tt.rcpt)
				if r.Code < 500 || r.Code > 599 || !strings.HasPrefix(r.Text, tt.enhanced) {
					t.Errorf("TLS %v: RCPT TO:%s got %v, want 5xx %s", tls, tt.rcpt, r, tt.enhanced)
				}
			}
			// Nothing was accepted, so there is nothing to send.
			c.expect("DATA", 503, "5.5.1")
			c.expect("QUIT", 221, "")
		}
	})

	for _, l := range []string{"submission", "submissions"} {
		t.Run(l, func(t *testing.T) {
			c := dialRaw(t, s.addr[l], l == "submissions")
			c.expect("EHLO client.remote.test", 250, "")
			if l == "submission" {
				c.startTLS()
				c.expect("EHLO client.remote.test", 250, "")
			}
			c.expect("MAIL FROM:<sender@remote.test>", 530, "5.7.0")
			if r := c.cmd("RCPT TO:<someone@elsewhere.test>"); r.Code < 500 {
				t.Errorf("RCPT without AUTH and without MAIL got %v, want a 5xx refusal", r)
			}
			c.expect("QUIT", 221, "")
		})
	}

	t.Run("after AUTH", func(t *testing.T) {
		c := dialRaw(t, s.addr["smtp"], false)
		c.expect("EHLO client.remote.test", 250, "")
		c.startTLS()
		c.expect("EHLO client.remote.test", 250, "")
		c.expect("AUTH PLAIN "+plainResponse(alice, alice.Password), 235, "2.7.0")
		c.expect("MAIL FROM:<"+alice.Addr+">", 250, "2.1.0")
		c.expect("RCPT TO:<someone@elsewhere.test>", 250, "2.1.5")
		c.expect("RSET", 250, "")
		c.expect("QUIT", 221, "")
	})
}

// TestPlaintextAuthBeforeTLS: before TLS the EHLO AUTH line lacks PLAIN
// and LOGIN, and a client that sends them anyway (as gsasl and smtptest
// do) gets 538 5.7.11 (encryption required) without the credentials
// being checked. After STARTTLS both are offered and work. With
// auth.allow_plaintext_without_tls and without the 'p' option letter they
// are offered and work before TLS (docs/auth.md: both are needed).
func TestPlaintextAuthBeforeTLS(t *testing.T) {
	t.Parallel()
	strict := startServer(t, serverOpts{})
	for _, l := range []string{"smtp", "submission"} {
		t.Run(l, func(t *testing.T) {
			c := dialRaw(t, strict.addr[l], false)
			mechs := authLine(c.expect("EHLO client.example.test", 250, ""))
			if len(mechs) == 0 || contains(mechs, "PLAIN") || contains(mechs, "LOGIN") {
				t.Errorf("AUTH line before TLS: %q, want mechanisms without PLAIN and LOGIN", mechs)
			}
			c.expect("AUTH PLAIN "+plainResponse(alice, alice.Password), 538, "5.7.11")
			c.expect("AUTH PLAIN", 538, "5.7.11")
			c.expect("AUTH LOGIN", 538, "5.7.11")
			c.expect("AUTH LOGIN "+base64.StdEncoding.EncodeToString([]byte(alice.Addr)), 538, "5.7.11")
			// The refusals are not authentication failures: the session
			// was not closed after max_failures_per_session (3).
			c.startTLS()
			mechs = authLine(c.expect("EHLO client.example.test", 250, ""))
			if !contains(mechs, "PLAIN") || !contains(mechs, "LOGIN") {
				t.Errorf("AUTH line after TLS: %q, want PLAIN and LOGIN", mechs)
			}
			c.expect("AUTH PLAIN "+plainResponse(alice, alice.Password), 235, "2.7.0")
			c.expect("QUIT", 221, "")
		})
	}

	t.Run("allowed by configuration", func(t *testing.T) {
		lax := startServer(t, serverOpts{AllowPlaintext: true, AuthOptions: "A"})
		c := dialRaw(t, lax.addr["submission"], false)
		mechs := authLine(c.expect("EHLO client.example.test", 250, ""))
		if !contains(mechs, "PLAIN") || !contains(mechs, "LOGIN") {
			t.Errorf("AUTH line with allow_plaintext_without_tls: %q, want PLAIN and LOGIN", mechs)
		}
		c.expect("AUTH PLAIN "+plainResponse(alice, wrongPassword), 535, "5.7.8")
		c.expect("AUTH PLAIN "+plainResponse(alice, alice.Password), 235, "2.7.0")
		c.expect("QUIT", 221, "")
	})
}
