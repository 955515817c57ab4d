package test

import (
	"strings"
	"testing"
)

// gsasl runs GNU SASL's SMTP client: it authenticates and quits. Exit
// status 0 means 235. --x509-ca-file= (empty) lets it continue past the
// self-signed certificate, which does not name 127.0.0.1.
func gsasl(t *testing.T, addr, user, password, mech string, extra ...string) clientRun {
	t.Helper()
	args := append([]string{"--smtp", "--connect", addr, "-a", user, "-p", password,
		"--mechanism", mech, "--x509-ca-file="}, extra...)
	return runClient(t, "gsasl", "", args...)
}

// TestGsaslMechanisms: GNU SASL, the client closest to the RFCs, logs in
// with every mechanism, right password accepted (exit 0, 235), wrong one
// refused (non-zero exit, 535 5.7.8). The -PLUS case proves channel
// binding works end to end: gsasl binds to the TLS channel and the server
// verifies the binding data. Without a "tls" option gsasl uses STARTTLS
// because the server advertises it (EHLO, STARTTLS, EHLO, AUTH).
func TestGsaslMechanisms(t *testing.T) {
	t.Parallel()
	s := startServer(t, serverOpts{})
	tests := []struct {
		name  string
		mech  string
		extra []string
		// tls: the exchange must have run over STARTTLS.
		tls bool
	}{
		{"SCRAM-SHA-1 over TLS", "SCRAM-SHA-1", []string{"--no-cb"}, true},
		{"SCRAM-SHA-256 over TLS", "SCRAM-SHA-256", []string{"--no-cb"}, true},
		{"SCRAM-SHA-256-PLUS over TLS", "SCRAM-SHA-256-PLUS", nil, true},
		{"SCRAM-SHA-1-PLUS over TLS", "SCRAM-SHA-1-PLUS", nil, true},
		{"SCRAM-SHA-256 without TLS", "SCRAM-SHA-256", []string{"--no-starttls"}, false},
		{"DIGEST-MD5 without TLS", "DIGEST-MD5", []string{"--no-starttls"}, false},
		{"DIGEST-MD5 over TLS", "DIGEST-MD5", nil, true},
		{"CRAM-MD5 without TLS", "CRAM-MD5", []string{"--no-starttls"}, false},
		{"PLAIN over TLS", "PLAIN", nil, true},
		{"LOGIN over TLS", "LOGIN", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := gsasl(t, s.addr["submission"], alice.Addr, alice.Password, tt.mech, tt.extra...)
			r.mustSucceed(t, "AUTH "+tt.mech+"\n", "235 2.7.0")
			if got := strings.Contains(r.Out, "220 2.0.0 Ready to start TLS"); got != tt.tls {
				t.Errorf("STARTTLS used: %v, want %v\n%s", got, tt.tls, r.Out)
			}
			bad := gsasl(t, s.addr["submission"], alice.Addr, wrongPassword, tt.mech, tt.extra...)
			bad.mustFail(t, "535 5.7.8")
		})
	}
}

// TestGsaslForcedStartTLS: with --starttls gsasl sends STARTTLS straight
// after the greeting, before any EHLO (RFC 3207 does not require EHLO
// first, and sendmail accepts it). The server must upgrade the connection
// and the SCRAM-SHA-256-PLUS exchange must then succeed.
func TestGsaslForcedStartTLS(t *testing.T) {
	t.Parallel()
	s := startServer(t, serverOpts{})
	r := gsasl(t, s.addr["submission"], alice.Addr, alice.Password, "SCRAM-SHA-256-PLUS", "--starttls")
	r.mustSucceed(t, "220 2.0.0 Ready to start TLS", "235 2.7.0")
}

// TestGsaslPlusRefusedWithoutTLS: without TLS there is no channel to bind
// to; SCRAM-SHA-256-PLUS is not advertised, and gsasl's attempt gets 538
// 5.7.11 rather than an authentication.
func TestGsaslPlusRefusedWithoutTLS(t *testing.T) {
	t.Parallel()
	s := startServer(t, serverOpts{})
	r := gsasl(t, s.addr["submission"], alice.Addr, alice.Password, "SCRAM-SHA-256-PLUS", "--no-starttls")
	r.mustFail(t, "AUTH SCRAM-SHA-256-PLUS\n538 5.7.11")
	sawAuth := false
	for _, line := range strings.Split(r.Out, "\n") {
		if strings.HasPrefix(line, "250-AUTH ") || strings.HasPrefix(line, "250 AUTH ") {
			sawAuth = true
			if strings.Contains(line, "-PLUS") {
				t.Errorf("-PLUS advertised without TLS: %s", line)
			}
		}
		if strings.HasPrefix(line, "235 ") {
			t.Errorf("authenticated with -PLUS without TLS: %s", line)
		}
	}
	if !sawAuth {
		t.Errorf("no AUTH line in the EHLO reply:\n%s", r.Out)
	}
}
