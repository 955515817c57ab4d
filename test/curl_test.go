package test

import (
	"strings"
	"testing"
)

// curlSend sends one message with curl's SMTP support (-v shows the
// protocol exchange; "-k" accepts the self-signed certificate).
func curlSend(t *testing.T, url, user, password, mech, file string, tls bool) clientRun {
	t.Helper()
	args := []string{"-sS", "-v", "--max-time", "30", url, "--mail-from", alice.Addr, "--mail-rcpt", bob.Addr,
		"--upload-file", file, "--user", user + ":" + password, "--login-options", "AUTH=" + mech}
	if tls {
		args = append(args, "--ssl-reqd", "-k")
	}
	return runClient(t, "curl", "", args...)
}

// TestCurlAuth: curl logs in with PLAIN, LOGIN (over STARTTLS and over
// implicit TLS with smtps://), CRAM-MD5 and DIGEST-MD5 (with and without
// TLS) and delivers a message each time; a wrong password gets 535 and
// curl's "Login denied" (exit 67). curl's DIGEST-MD5 response quotes nc
// and names the realm, not the host, in digest-uri (smtp/mail.example.test):
// the server must accept both.
func TestCurlAuth(t *testing.T) {
	t.Parallel()
	s := startServer(t, serverOpts{})
	tests := []struct {
		name, scheme, listener, mech string
		tls                          bool
		with                         string
	}{
		{"PLAIN STARTTLS", "smtp", "submission", "PLAIN", true, "ESMTPSA"},
		{"LOGIN STARTTLS", "smtp", "submission", "LOGIN", true, "ESMTPSA"},
		{"PLAIN implicit TLS", "smtps", "submissions", "PLAIN", true, "ESMTPSA"},
		{"LOGIN implicit TLS", "smtps", "submissions", "LOGIN", true, "ESMTPSA"},
		{"CRAM-MD5 without TLS", "smtp", "submission", "CRAM-MD5", false, "ESMTPA"},
		{"DIGEST-MD5 without TLS", "smtp", "submission", "DIGEST-MD5", false, "ESMTPA"},
		{"DIGEST-MD5 STARTTLS", "smtp", "submission", "DIGEST-MD5", true, "ESMTPSA"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			marker := newMarker(t)
			file := writeMessage(t, alice.Addr, bob.Addr, marker)
			url := tt.scheme + "://" + s.addr[tt.listener]

			r := curlSend(t, url, alice.Addr, alice.Password, tt.mech, file, tt.tls)
			r.mustSucceed(t, "> AUTH "+tt.mech, "< 235 2.7.0", "< 250 2.0.0 OK queued as")
			if got := receivedWith(t, s.waitForMail(bob, marker)); got != tt.with {
				t.Errorf("Received: with %s, want %s", got, tt.with)
			}

			bad := curlSend(t, url, alice.Addr, wrongPassword, tt.mech, file, tt.tls)
			bad.mustFail(t, "< 535 5.7.8", "Login denied")
			if bad.Code != 67 {
				t.Errorf("curl exit status %d after a wrong password, want 67 (CURLE_LOGIN_DENIED)", bad.Code)
			}
		})
	}
}

// TestCurlWithoutAuthDelivers: curl on the smtp listener, no AUTH, to a
// local user: the MTA role accepts it and delivers it.
func TestCurlWithoutAuthDelivers(t *testing.T) {
	t.Parallel()
	s := startServer(t, serverOpts{})
	marker := newMarker(t)
	file := writeMessage(t, "sender@remote.test", alice.Addr, marker)
	r := runClient(t, "curl", "", "-sS", "-v", "--max-time", "30", "smtp://"+s.addr["smtp"],
		"--mail-from", "sender@remote.test", "--mail-rcpt", alice.Addr, "--upload-file", file)
	r.mustSucceed(t, "< 250 2.0.0 OK queued as")
	msg := s.waitForMail(alice, marker)
	if !strings.Contains(msg, "Body of "+marker) {
		t.Errorf("delivered message lacks its body:\n%s", msg)
	}
}
