package smtpserver

import (
	"encoding/base64"
	"strings"
	"testing"

	"postgate/internal/config"
)

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func TestAuthFailuresExplainAndClose(t *testing.T) {
	ts := startServer(t, func(c *config.Config) { c.Auth.MaxFailuresPerSession = 3 })
	c := ts.dial(ListenerSubmissions)
	c.cmd("EHLO c", "250")
	c.cmd("AUTH PLAIN "+b64("\x00alice\x00wrong-password-1"), "535 5.7.8")
	c.cmd("AUTH PLAIN "+b64("\x00nobody\x00wrong-password-2"), "535 5.7.8")
	c.cmd("AUTH PLAIN !!!", "501 5.5.2")
	c.expect("421 4.7.0")
	if !c.closed() {
		t.Fatal("session not closed after 3 failures")
	}
	logs := ts.logs.String()
	for _, want := range []string{`reason="wrong password"`, `reason="unknown user"`, "bad base64", "user=alice", "mech=PLAIN"} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %q", want)
		}
	}
	for _, secret := range []string{"wrong-password-1", "wrong-password-2", "pw-alice", b64("\x00alice\x00wrong-password-1")} {
		if strings.Contains(logs, secret) {
			t.Errorf("log contains secret %q", secret)
		}
	}
}

func TestAuthExchangeRules(t *testing.T) {
	ts := startServer(t, nil)
	c := ts.dial(ListenerSubmissions)
	runDialog(t, c, []step{
		{"EHLO c", "250"},
		{"AUTH LOGIN", "334 " + b64("Username:")},
		{b64("alice"), "334 " + b64("Password:")},
		{"*", "501 5.0.0"},
		{"AUTH LOGIN " + b64("alice"), "334 " + b64("Password:")},
		{"not base64!", "501 5.5.2"},
		{"AUTH PLAIN", "334 "},
		{b64("\x00alice\x00pw-alice"), "235 2.7.0"},
		{"AUTH LOGIN", "503 5.5.1"},
	})
	// AUTH inside a transaction is refused.
	c2 := ts.dial(ListenerSMTP)
	runDialog(t, c2, []step{
		{"EHLO c", "250"},
		{"MAIL FROM:<x@example.org>", "250"},
		{"AUTH CRAM-MD5", "503 5.5.1"},
	})
}
