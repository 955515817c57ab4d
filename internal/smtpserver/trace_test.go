package smtpserver

import (
	"strings"
	"testing"

	"postgate/internal/config"
)

// A protocol trace for a client network logs both directions, with AUTH
// payloads and SASL responses redacted.
func TestTraceRedactsCredentials(t *testing.T) {
	ts := startServer(t, func(c *config.Config) { c.Log.TraceNetworks = []string{"127.0.0.0/8"} })
	c := ts.dial(ListenerSubmissions)
	runDialog(t, c, []step{
		{"EHLO traced", "250"},
		{"AUTH PLAIN " + b64("\x00alice\x00pw-alice"), "235"},
	})
	c2 := ts.dial(ListenerSubmissions)
	runDialog(t, c2, []step{
		{"EHLO traced", "250"},
		{"AUTH LOGIN", "334"},
		{b64("bob"), "334"},
		{b64("pw-bob"), "235"},
		{"QUIT", "221"},
	})
	c2.closed()
	logs := ts.logs.String()
	for _, want := range []string{`line="EHLO traced"`, `line="AUTH PLAIN <redacted>"`, "<redacted SASL response>", `line="235 2.7.0 Authentication successful"`} {
		if !strings.Contains(logs, want) {
			t.Errorf("trace lacks %q", want)
		}
	}
	for _, secret := range []string{"pw-alice", "pw-bob", b64("pw-bob"), b64("\x00alice\x00pw-alice"), b64("bob")} {
		if strings.Contains(logs, secret) {
			t.Errorf("trace contains %q", secret)
		}
	}
}

// Credentials pipelined behind a refused AUTH arrive as unknown commands;
// the trace must not print them.
func TestTraceHidesUnknownCommands(t *testing.T) {
	ts := startServer(t, func(c *config.Config) { c.Log.TraceNetworks = []string{"127.0.0.0/8"} })
	c := ts.dial(ListenerSMTP)
	c.cmd("EHLO c", "250")
	c.send("AUTH LOGIN\r\n" + b64("alice") + "\r\n" + b64("pw-alice") + "\r\n")
	c.expect("538 5.7.11")
	c.expect("500 5.5.2")
	c.expect("500 5.5.2")
	c.cmd("QUIT", "221")
	c.closed()
	logs := ts.logs.String()
	if strings.Contains(logs, b64("pw-alice")) || strings.Contains(logs, b64("alice")) {
		t.Fatal("trace printed pipelined credentials")
	}
	if !strings.Contains(logs, "<unrecognised command,") {
		t.Fatal("unknown command not traced at all")
	}
}
