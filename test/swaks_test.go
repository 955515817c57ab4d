package test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// swaks runs swaks with a bounded network timeout.
func swaks(t *testing.T, args ...string) clientRun {
	t.Helper()
	return runClient(t, "swaks", "", append([]string{"--timeout", "30"}, args...)...)
}

// receivedWith returns the "with" protocol of the first Received: header
// of a delivered message (RFC 3848: ESMTP, ESMTPA, ESMTPS, ESMTPSA).
func receivedWith(t *testing.T, msg string) string {
	t.Helper()
	for _, line := range strings.Split(msg, "\n") {
		f := strings.Fields(line)
		for i := 0; i+1 < len(f); i++ {
			if f[i] == "with" {
				return strings.TrimSuffix(f[i+1], ";")
			}
		}
	}
	t.Fatalf("no Received: ... with <protocol> in the delivered message:\n%s", msg)
	return ""
}

// TestSwaksDeliversToLocalUser: an unauthenticated client on the smtp
// listener (the MTA role) delivers to a local user; the message lands in
// the user's Maildir with a Received: header saying plain ESMTP.
func TestSwaksDeliversToLocalUser(t *testing.T) {
	t.Parallel()
	s := startServer(t, serverOpts{})
	marker := newMarker(t)
	r := swaks(t, "--server", s.addr["smtp"], "--from", "sender@remote.test", "--to", bob.Addr,
		"--header", "Subject: "+marker, "--body", "body "+marker)
	r.mustSucceed(t, "250 2.0.0 OK queued as")
	msg := s.waitForMail(bob, marker)
	if got := receivedWith(t, msg); got != "ESMTP" {
		t.Errorf("Received: with %s, want ESMTP (no TLS, no AUTH)", got)
	}
	if !strings.Contains(msg, "Return-Path: <sender@remote.test>") {
		t.Errorf("delivered message lacks the envelope sender as Return-Path:\n%s", msg)
	}
}

// TestSwaksAuth: swaks authenticates with each mechanism it supports, over
// STARTTLS on submission, over implicit TLS on submissions, and (for the
// challenge-response mechanisms) without TLS. The right password is
// accepted and the message delivered; the wrong one gets 535 5.7.8 and
// swaks exits non-zero.
func TestSwaksAuth(t *testing.T) {
	t.Parallel()
	s := startServer(t, serverOpts{})
	tests := []struct {
		name     string
		listener string
		tls      []string // swaks TLS options
		mech     string
		with     string // expected Received: protocol
	}{
		{"PLAIN STARTTLS", "submission", []string{"-tls"}, "PLAIN", "ESMTPSA"},
		{"LOGIN STARTTLS", "submission", []string{"-tls"}, "LOGIN", "ESMTPSA"},
		{"PLAIN STARTTLS on smtp", "smtp", []string{"-tls"}, "PLAIN", "ESMTPSA"},
		{"PLAIN implicit TLS", "submissions", []string{"--tls-on-connect"}, "PLAIN", "ESMTPSA"},
		{"LOGIN implicit TLS", "submissions", []string{"--tls-on-connect"}, "LOGIN", "ESMTPSA"},
		{"CRAM-MD5 without TLS", "submission", nil, "CRAM-MD5", "ESMTPA"},
		{"DIGEST-MD5 without TLS", "submission", nil, "DIGEST-MD5", "ESMTPA"},
		{"CRAM-MD5 implicit TLS", "submissions", []string{"--tls-on-connect"}, "CRAM-MD5", "ESMTPSA"},
		{"DIGEST-MD5 STARTTLS", "submission", []string{"-tls"}, "DIGEST-MD5", "ESMTPSA"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			marker := newMarker(t)
			base := append([]string{"--server", s.addr[tt.listener], "--from", alice.Addr, "--to", bob.Addr,
				"--header", "Subject: " + marker, "--body", "body " + marker, "--auth", tt.mech,
				"--auth-user", alice.Addr}, tt.tls...)

			r := swaks(t, append(base, "--auth-password", alice.Password)...)
			r.mustSucceed(t, "235 2.7.0", "250 2.0.0 OK queued as")
			if got := receivedWith(t, s.waitForMail(bob, marker)); got != tt.with {
				t.Errorf("Received: with %s, want %s", got, tt.with)
			}

			bad := swaks(t, append(base, "--auth-password", wrongPassword)...)
			bad.mustFail(t, "535 5.7.8")
			if strings.Contains(bad.Out, "250 2.0.0 OK queued") {
				t.Errorf("message accepted after a failed AUTH:\n%s", bad.Out)
			}
		})
	}
}

// TestSwaksSupportsEveryMechanism fails with the package to install when
// swaks lacks a module for a mechanism the other tests use.
func TestSwaksSupportsEveryMechanism(t *testing.T) {
	t.Parallel()
	r := runClient(t, "swaks", "", "--support")
	for _, m := range []string{"CRAM-MD5", "DIGEST-MD5", "TLS"} {
		if !strings.Contains(r.Out, "=== AUTH "+m+" supported") && !strings.Contains(r.Out, "=== "+m+" supported") {
			t.Errorf("swaks --support: %s not supported; install libauthen-sasl-perl and libdigest-hmac-perl\n%s", m, r.Out)
		}
	}
}

// TestSwaksPlaintextNotOfferedBeforeTLS: without TLS, PLAIN and LOGIN are
// not in the EHLO AUTH line, so swaks refuses to send the password at all
// (exit status 28, "no supported" auth); the password never crosses the
// wire in the clear.
func TestSwaksPlaintextNotOfferedBeforeTLS(t *testing.T) {
	t.Parallel()
	s := startServer(t, serverOpts{})
	for _, mech := range []string{"PLAIN", "LOGIN"} {
		t.Run(mech, func(t *testing.T) {
			r := swaks(t, "--server", s.addr["submission"], "--from", alice.Addr, "--to", bob.Addr,
				"--auth", mech, "--auth-user", alice.Addr, "--auth-password", alice.Password)
			r.mustFail(t, "250-AUTH ", "Auth not attempted, requested type not available")
			for _, line := range strings.Split(r.Out, "\n") {
				if strings.Contains(line, "250-AUTH ") && (strings.Contains(line, " PLAIN") || strings.Contains(line, " LOGIN")) {
					t.Errorf("plaintext mechanism advertised before TLS: %s", line)
				}
				if strings.Contains(line, "-> AUTH "+mech) || strings.Contains(line, "~> AUTH "+mech) {
					t.Errorf("swaks sent AUTH %s before TLS: %s", mech, line)
				}
			}
		})
	}
}

// TestSwaksPipelining: swaks --pipeline sends MAIL, RCPT and DATA in one
// write; the server answers each in order and the message is delivered.
func TestSwaksPipelining(t *testing.T) {
	t.Parallel()
	s := startServer(t, serverOpts{})
	marker := newMarker(t)
	r := swaks(t, "--server", s.addr["submission"], "-tls", "--pipeline", "--from", alice.Addr,
		"--to", bob.Addr+","+alice.Addr, "--auth", "PLAIN", "--auth-user", alice.Addr, "--auth-password", alice.Password,
		"--header", "Subject: "+marker, "--body", "body "+marker)
	r.mustSucceed(t, "250-PIPELINING", "250 2.1.0", "250 2.1.5", "354 ", "250 2.0.0 OK queued as")
	s.waitForMail(bob, marker)
	s.waitForMail(alice, marker)
}

// TestSwaksOversizeRefused: a message larger than limits.max_message_size
// gets 552 5.3.4 and is not delivered. swaks does not send SIZE=, so the
// refusal comes at the end of data.
func TestSwaksOversizeRefused(t *testing.T) {
	t.Parallel()
	const limit = 20000
	s := startServer(t, serverOpts{MaxMessageSize: limit})
	marker := newMarker(t)
	body := filepath.Join(t.TempDir(), "body.txt")
	if err := os.WriteFile(body, []byte(marker+"\r\n"+strings.Repeat(strings.Repeat("x", 78)+"\r\n", 2*limit/80)), 0o600); err != nil {
		t.Fatal(err)
	}
	r := swaks(t, "--server", s.addr["smtp"], "--from", "sender@remote.test", "--to", bob.Addr,
		"--header", "Subject: "+marker, "--body", "@"+body)
	r.mustFail(t, "SIZE 20000", "552 5.3.4")
	if strings.Contains(r.Out, "OK queued") {
		t.Fatalf("oversize message accepted:\n%s", r.Out)
	}

	// The same session type still works for a message within the limit,
	// and the refused one never shows up.
	small := newMarker(t)
	swaks(t, "--server", s.addr["smtp"], "--from", "sender@remote.test", "--to", bob.Addr,
		"--header", "Subject: "+small).mustSucceed(t, "250 2.0.0 OK queued as")
	s.waitForMail(bob, small)
	if _, found := s.findMail(bob, marker); found {
		t.Errorf("the refused oversize message was delivered")
	}
}

// TestSwaksBareLFSmuggling: swaks sends, unmodified (--no-data-fixup), a
// message whose "end of data" is "<LF>.<LF>" followed by a second,
// smuggled transaction. The server must not treat <LF>.<LF> as the end of
// data: it closes with 421 4.5.0, and the smuggled message is never
// accepted or delivered.
func TestSwaksBareLFSmuggling(t *testing.T) {
	t.Parallel()
	s := startServer(t, serverOpts{})
	outer, smuggled := newMarker(t), newMarker(t)
	data := "From: <sender@remote.test>\r\nSubject: " + outer + "\r\n\r\nhello\n.\n" +
		"MAIL FROM:<evil@remote.test>\r\nRCPT TO:<" + bob.Addr + ">\r\nDATA\r\n" +
		"Subject: " + smuggled + "\r\n\r\n" + smuggled + "\r\n.\r\n"
	f := filepath.Join(t.TempDir(), "smuggle.eml")
	if err := os.WriteFile(f, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	r := swaks(t, "--server", s.addr["smtp"], "--from", "sender@remote.test", "--to", bob.Addr,
		"--data", "@"+f, "--no-data-fixup")
	r.mustFail(t, "421 4.5.0")
	if strings.Contains(r.Out, "OK queued") {
		t.Fatalf("a message was accepted:\n%s", r.Out)
	}

	// A later, clean message is delivered; neither part of the attack is.
	clean := newMarker(t)
	swaks(t, "--server", s.addr["smtp"], "--from", "sender@remote.test", "--to", bob.Addr,
		"--header", "Subject: "+clean).mustSucceed(t, "250 2.0.0 OK queued as")
	s.waitForMail(bob, clean)
	for _, m := range []string{outer, smuggled} {
		if _, found := s.findMail(bob, m); found {
			t.Errorf("message %s from the smuggling attempt was delivered", m)
		}
	}
}
