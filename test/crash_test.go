package test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"postgate/internal/queue"
)

// queuedID returns the spool id from a "250 2.0.0 OK queued as <id>" reply.
func queuedID(t *testing.T, r reply) string {
	t.Helper()
	f := strings.Fields(r.Text)
	if r.Code != 250 || len(f) < 5 || f[1] != "OK" || f[3] != "as" {
		t.Fatalf("end of data: %v, want 250 2.0.0 OK queued as <id>", r)
	}
	return f[4]
}

// sendRaw runs one transaction on a new raw connection to the smtp
// listener and returns the spool id from the 250 reply.
func sendRaw(t *testing.T, addr, from string, rcpts []string, marker string) string {
	t.Helper()
	c := dialRaw(t, addr, false)
	c.expect("EHLO client.remote.test", 250, "")
	c.expect("MAIL FROM:<"+from+">", 250, "2.1.0")
	for _, r := range rcpts {
		c.expect("RCPT TO:<"+r+">", 250, "2.1.5")
	}
	c.expect("DATA", 354, "")
	c.send(messageText(from, rcpts[0], marker) + ".\r\n")
	id := queuedID(t, c.read())
	c.expect("QUIT", 221, "")
	return id
}

// TestKill9KeepsAcceptedMail: a message answered 250 survives kill -9.
// 127.0.0.0/8 is trusted, so the server accepts a recipient in a remote
// domain; remote delivery does not exist yet, so that recipient stays
// pending in the spool and gives a message that is certainly still
// queued when the process is killed. A second message, to a local user,
// is sent right before the kill. After SIGKILL and a restart on the same
// data directory the first message is still queued with its remote
// recipient pending, and both local recipients have their messages.
func TestKill9KeepsAcceptedMail(t *testing.T) {
	t.Parallel()
	s := startServer(t, serverOpts{TrustedNetworks: []string{"127.0.0.0/8"}})
	queued, local := newMarker(t), newMarker(t)
	const remote = "someone@elsewhere.test"
	idQueued := sendRaw(t, s.addr["smtp"], "sender@remote.test", []string{remote, alice.Addr}, queued)
	idLocal := sendRaw(t, s.addr["smtp"], "sender@remote.test", []string{bob.Addr}, local)
	s.kill()

	msgFile := filepath.Join(s.dataDir, "queue", "queue", idQueued+".msg")
	if _, err := os.Stat(msgFile); err != nil {
		t.Fatalf("message %s not in the spool after kill -9: %v", idQueued, err)
	}

	s.start()
	s.waitForMail(bob, local)
	s.waitForMail(alice, queued)
	s.stop()

	spool, err := queue.Open(filepath.Join(s.dataDir, "queue"), queue.Options{})
	if err != nil {
		t.Fatalf("opening the spool after the test: %v", err)
	}
	defer spool.Close()
	ids, err := spool.List()
	if err != nil {
		t.Fatal(err)
	}
	if !contains(ids, idQueued) {
		t.Fatalf("spool holds %v after restart, want %s (remote recipient pending)", ids, idQueued)
	}
	if contains(ids, idLocal) {
		t.Errorf("spool still holds %s, whose only recipient was delivered", idLocal)
	}
	env, err := spool.Envelope(idQueued)
	if err != nil {
		t.Fatal(err)
	}
	status := map[string]string{}
	for _, r := range env.Recipients {
		status[r.Addr] = r.Status
	}
	want := map[string]string{remote: queue.StatusPending, alice.Addr: queue.StatusDelivered}
	for addr, st := range want {
		if status[addr] != st {
			t.Errorf("recipient %s: status %q, want %q (envelope recipients %v)", addr, status[addr], st, status)
		}
	}
}
