package smtpserver

import (
	"bufio"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"

	"postgate/internal/config"
)

func TestConnectionLimitPerIP(t *testing.T) {
	ts := startServer(t, func(c *config.Config) { c.Limits.MaxConnectionsPerIP = 2 })
	a := ts.dial(ListenerSMTP)
	a.cmd("EHLO a", "250") // the session is registered once it answered
	b := ts.dial(ListenerSMTP)
	b.cmd("EHLO b", "250")
	conn, err := net.Dial("tcp", ts.addrs[ListenerSMTP])
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	c := &client{t: t, conn: conn, r: bufio.NewReader(conn)}
	c.expect("421 4.7.0")
	if !c.closed() {
		t.Fatal("third connection left open")
	}
	// When one closes, a new connection is welcome again.
	a.cmd("QUIT", "221")
	if !a.closed() {
		t.Fatal("QUIT did not close")
	}
	waitFor(t, func() bool { ts.srv.mu.Lock(); defer ts.srv.mu.Unlock(); return len(ts.srv.conns) == 1 })
	ts.dial(ListenerSMTP).cmd("NOOP", "250")
}

// waitFor waits for an observable condition (bounded), without sleeping a
// fixed time.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached")
		}
		runtime.Gosched()
	}
}

func TestIdleTimeout(t *testing.T) {
	ts := startServer(t, func(c *config.Config) {
		c.Limits.CommandTimeout = config.Duration{Duration: 100 * time.Millisecond}
	})
	c := ts.dial(ListenerSMTP)
	c.cmd("EHLO c", "250")
	// Send nothing: the server must give up with 421 4.4.2 and close.
	c.expect("421 4.4.2")
	if !c.closed() {
		t.Fatal("still open after idle timeout")
	}
}

func TestMailAuthParameterTrust(t *testing.T) {
	ts := startServer(t, nil)
	send := func(c *client, mail string) string {
		runDialog(t, c, []step{{mail, "250"}, {"RCPT TO:<bob@example.test>", "250"}, {"DATA", "354"}})
		r := c.cmd("Subject: a\r\n\r\nx\r\n.", "250 2.0.0")
		return strings.Fields(r)[len(strings.Fields(r))-1]
	}
	// Unauthenticated: AUTH= is not trusted and becomes <>.
	c := ts.dial(ListenerSMTP)
	c.cmd("EHLO c", "250")
	id := send(c, "MAIL FROM:<x@example.org> AUTH=boss@example.org")
	if env, _ := ts.spool.Envelope(id); env.MailAuth != "<>" {
		t.Fatalf("unauthenticated AUTH= kept as %q", env.MailAuth)
	}
	// Authenticated: kept only when the user may send as it (Outlook sends AUTH=<>).
	c = ts.dial(ListenerSubmissions)
	c.cmd("EHLO c", "250")
	c.cmd("AUTH PLAIN "+b64("\x00alice\x00pw-alice"), "235")
	id = send(c, "MAIL FROM:<alice@example.test> AUTH=<>")
	if env, _ := ts.spool.Envelope(id); env.MailAuth != "<>" {
		t.Fatalf("AUTH=<> became %q", env.MailAuth)
	}
	id = send(c, "MAIL FROM:<alice@example.test> AUTH=bob@example.test")
	if env, _ := ts.spool.Envelope(id); env.MailAuth != "alice@example.test" {
		t.Fatalf("foreign AUTH= became %q", env.MailAuth)
	}
}

// A client that pipelines commands but never reads the replies fills the
// socket buffers; the server's write deadline ends the session instead of
// blocking forever.
func TestClientThatDoesNotReadIsCutOff(t *testing.T) {
	ts := startServer(t, func(c *config.Config) {
		c.Limits.CommandTimeout = config.Duration{Duration: 200 * time.Millisecond}
	})
	conn, err := net.Dial("tcp", ts.addrs[ListenerSMTP])
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	waitFor(t, func() bool { ts.srv.mu.Lock(); defer ts.srv.mu.Unlock(); return len(ts.srv.conns) == 1 })
	chunk := []byte(strings.Repeat("NOOP\r\n", 10000))
	done := make(chan struct{})
	go func() {
		defer close(done)
		conn.SetWriteDeadline(time.Now().Add(60 * time.Second))
		for sent := 0; sent < 256<<20; sent += len(chunk) {
			if _, err := conn.Write(chunk); err != nil {
				return // the server closed the connection
			}
		}
	}()
	waitFor(t, func() bool { ts.srv.mu.Lock(); defer ts.srv.mu.Unlock(); return len(ts.srv.conns) == 0 })
	conn.Close()
	<-done
	if !strings.Contains(ts.logs.String(), "connection error") && !strings.Contains(ts.logs.String(), "idle timeout") {
		t.Fatalf("session end not logged:\n%s", ts.logs.String())
	}
}
