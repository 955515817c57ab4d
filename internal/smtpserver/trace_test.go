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
