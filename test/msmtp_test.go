package test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// msmtpSend writes an msmtprc for one account and sends a message to bob.
func msmtpSend(t *testing.T, addr, password, auth string, starttls bool, marker string) clientRun {
	t.Helper()
	host, port, _ := strings.Cut(addr, ":")
	starttlsOpt := "on"
	if !starttls {
		starttlsOpt = "off"
	}
	rc := fmt.Sprintf("account test\nhost %s\nport %s\nfrom %s\nauth %s\nuser %s\npassword %s\n"+
		"tls on\ntls_starttls %s\ntls_certcheck off\ntimeout 30\n",
		host, port, alice.Addr, auth, alice.Addr, password, starttlsOpt)
	rcFile := filepath.Join(t.TempDir(), "msmtprc")
	if err := os.WriteFile(rcFile, []byte(rc), 0o600); err != nil {
		t.Fatal(err)
	}
	return runClient(t, "msmtp", messageText(alice.Addr, bob.Addr, marker),
		"-C", rcFile, "-a", "test", "--debug", bob.Addr)
}

// TestMsmtp: msmtp (GnuTLS + GNU SASL) sends with SCRAM-SHA-256 and with
// DIGEST-MD5, over STARTTLS on submission and over implicit TLS on
// submissions. It answers the empty 334 that starts SCRAM and the 334
// carrying the server's final message; the message is delivered. A wrong
// password gets 535 and msmtp's exit status 77 (EX_NOPERM).
func TestMsmtp(t *testing.T) {
	t.Parallel()
	s := startServer(t, serverOpts{})
	tests := []struct {
		name, listener, auth, mech string
		starttls                   bool
	}{
		{"SCRAM-SHA-256 STARTTLS", "submission", "scram-sha-256", "SCRAM-SHA-256", true},
		{"SCRAM-SHA-256 implicit TLS", "submissions", "scram-sha-256", "SCRAM-SHA-256", false},
		{"DIGEST-MD5 STARTTLS", "submission", "digest-md5", "DIGEST-MD5", true},
		{"SCRAM-SHA-1 STARTTLS", "submission", "scram-sha-1", "SCRAM-SHA-1", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			marker := newMarker(t)
			r := msmtpSend(t, s.addr[tt.listener], alice.Password, tt.auth, tt.starttls, marker)
			r.mustSucceed(t, "--> AUTH "+tt.mech+"\n", "<-- 235 2.7.0", "<-- 250 2.0.0 OK queued as")
			if got := receivedWith(t, s.waitForMail(bob, marker)); got != "ESMTPSA" {
				t.Errorf("Received: with %s, want ESMTPSA", got)
			}

			bad := msmtpSend(t, s.addr[tt.listener], wrongPassword, tt.auth, tt.starttls, newMarker(t))
			bad.mustFail(t, "<-- 535 5.7.8")
			if bad.Code != 77 {
				t.Errorf("msmtp exit status %d after a wrong password, want 77 (EX_NOPERM)", bad.Code)
			}
		})
	}
}
