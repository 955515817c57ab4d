package smtpserver

import (
	"context"
	"strings"
	"testing"
	"time"
)

// On shutdown an idle session is told 421 at once, while a session in DATA
// may finish: its message is committed and acknowledged, then 421.
func TestShutdownLetsDataFinish(t *testing.T) {
	ts := startServer(t, nil)
	idle := ts.dial(ListenerSMTP)
	idle.cmd("EHLO idle", "250")
	busy := ts.dial(ListenerSMTP)
	runDialog(t, busy, []step{
		{"EHLO busy", "250"},
		{"MAIL FROM:<x@example.org>", "250"},
		{"RCPT TO:<alice@example.test>", "250"},
		{"DATA", "354"},
	})
	busy.send("Subject: in flight\r\n\r\npart one\r\n")
	done := make(chan struct{})
	go func() { ts.srv.Shutdown(context.Background()); close(done) }()
	idle.expect("421 4.3.2")
	// The idle session's 421 proves shutdown has begun; now end the data.
	busy.send("part two\r\n.\r\n")
	r := busy.expect("250 2.0.0")
	busy.expect("421 4.3.2")
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("Shutdown did not return")
	}
	id := strings.Fields(r)[len(strings.Fields(r))-1]
	if msg := readMessage(t, ts.spool, id); !strings.Contains(msg, "part one\r\npart two\r\n") {
		t.Fatalf("message %q", msg)
	}
}
