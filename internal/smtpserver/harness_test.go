package smtpserver

import (
	"bufio"
	"context"
	"crypto/tls"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"postgate/internal/auth"
	"postgate/internal/config"
	"postgate/internal/queue"
	"postgate/internal/tlsconf"
	"postgate/internal/userstore"
)

// testServer is a real server on loopback with a real spool and user
// store in a temporary directory.
type testServer struct {
	t     testing.TB
	cfg   *config.Config
	srv   *Server
	spool *queue.Spool
	users *userstore.SQLite
	addrs map[string]string
	logs  *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// startServer starts all three listeners; edit adjusts the config first.
func startServer(t testing.TB, edit func(*config.Config)) *testServer {
	t.Helper()
	cfg := config.Default()
	cfg.Hostname = "mail.example.test"
	cfg.LocalDomains = []string{"example.test"}
	cfg.DataDir = t.TempDir()
	cfg.Auth.FailureDelay = config.Duration{Duration: time.Millisecond}
	cfg.Limits.ShutdownGrace = config.Duration{Duration: 5 * time.Second}
	if edit != nil {
		edit(cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	tlsCfg, _, err := tlsconf.Server(cfg)
	if err != nil {
		t.Fatal(err)
	}
	spool, err := queue.Open(cfg.Path("queue"), queue.Options{})
	if err != nil {
		t.Fatal(err)
	}
	users, err := userstore.OpenSQLite(cfg.Path("users.db"), userstore.Options{
		DefaultDomain: cfg.UserDefaultDomain(), DigestRealms: cfg.DigestRealms(),
		Argon2: userstore.Argon2Params{Time: 1, Memory: 64, Threads: 1},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for user, pw := range testPasswords {
		if err := users.AddUser(ctx, user+"@example.test", pw); err != nil {
			t.Fatal(err)
		}
	}
	logs := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	policy, err := auth.NewPolicy(cfg.Auth, nil, log)
	if err != nil {
		t.Fatal(err)
	}
	srv := New(Options{Config: cfg, TLS: tlsCfg, Spool: spool, Users: users, Policy: policy,
		Limiter: auth.NewLimiter(cfg.Auth, nil), Log: log})
	ts := &testServer{t: t, cfg: cfg, srv: srv, spool: spool, users: users, addrs: map[string]string{}, logs: logs}
	var wg sync.WaitGroup
	for _, kind := range []string{ListenerSMTP, ListenerSubmission, ListenerSubmissions} {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ts.addrs[kind] = ln.Addr().String()
		wg.Add(1)
		go func() { defer wg.Done(); srv.Serve(ln, kind) }()
	}
	t.Cleanup(func() {
		srv.Shutdown(context.Background())
		wg.Wait()
		spool.Close()
		users.Close()
		checkNoSecrets(t, logs.String())
		if t.Failed() {
			t.Logf("server log:\n%s", logs.String())
		}
	})
	return ts
}

// client is a raw SMTP client for dialog tests.
type client struct {
	t    testing.TB
	conn net.Conn
	r    *bufio.Reader
}

func (ts *testServer) dial(kind string) *client {
	ts.t.Helper()
	var c net.Conn
	var err error
	if kind == ListenerSubmissions {
		c, err = tls.Dial("tcp", ts.addrs[kind], &tls.Config{InsecureSkipVerify: true})
	} else {
		c, err = net.Dial("tcp", ts.addrs[kind])
	}
	if err != nil {
		ts.t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(30 * time.Second))
	ts.t.Cleanup(func() { c.Close() })
	cl := &client{t: ts.t, conn: c, r: bufio.NewReader(c)}
	cl.expect("220 ")
	return cl
}

// send writes raw text (the caller supplies CRLF).
func (c *client) send(s string) {
	c.t.Helper()
	if _, err := io.WriteString(c.conn, s); err != nil {
		c.t.Fatal(err)
	}
}

// reply reads one complete, possibly multi-line, reply.
func (c *client) reply() string {
	c.t.Helper()
	var lines []string
	for {
		l, err := c.r.ReadString('\n')
		if err != nil {
			c.t.Fatalf("reading reply after %q: %v", lines, err)
		}
		lines = append(lines, strings.TrimRight(l, "\r\n"))
		if len(l) < 4 || l[3] != '-' {
			return strings.Join(lines, "\n")
		}
	}
}

// expect reads a reply and checks it starts with prefix; it returns the reply.
func (c *client) expect(prefix string) string {
	c.t.Helper()
	r := c.reply()
	if !strings.HasPrefix(r, prefix) {
		c.t.Fatalf("got reply %q, want prefix %q", r, prefix)
	}
	return r
}

// cmd sends one command line and expects a reply prefix.
func (c *client) cmd(line, prefix string) string {
	c.t.Helper()
	c.send(line + "\r\n")
	return c.expect(prefix)
}

// startTLS upgrades the connection.
func (c *client) startTLS() {
	c.t.Helper()
	c.cmd("STARTTLS", "220 2.0.0")
	tc := tls.Client(c.conn, &tls.Config{InsecureSkipVerify: true})
	if err := tc.Handshake(); err != nil {
		c.t.Fatal(err)
	}
	c.conn, c.r = tc, bufio.NewReader(tc)
}

// closed reports that the server closed the connection.
func (c *client) closed() bool {
	_, err := c.r.ReadByte()
	return err != nil
}

// queued lists the spooled messages. The commit happens before the 250,
// so a message answered 250 is listed without waiting.
func (ts *testServer) queued() []string {
	ids, err := ts.spool.List()
	if err != nil {
		ts.t.Fatal(err)
	}
	return ids
}

func readMessage(t *testing.T, s *queue.Spool, id string) string {
	t.Helper()
	rc, err := s.OpenMessage(id)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// tlsClient completes a handshake after the 220 to STARTTLS.
func tlsClient(t *testing.T, c *client) *tls.Conn {
	t.Helper()
	tc := tls.Client(c.conn, &tls.Config{InsecureSkipVerify: true})
	if err := tc.Handshake(); err != nil {
		t.Fatal(err)
	}
	c.conn, c.r = tc, bufio.NewReader(tc)
	return tc
}

// testPasswords are the users' passwords in every test server.
var testPasswords = map[string]string{"alice": "pw-alice", "bob": "pw-bob"}

// checkNoSecrets fails the test when a log holds a password in any form a
// client sends it: as is, base64, or inside a PLAIN response.
func checkNoSecrets(t testing.TB, logs string) {
	t.Helper()
	for user, pw := range testPasswords {
		forms := []string{pw, b64(pw), b64("\x00" + user + "\x00" + pw), b64("\x00" + user + "@example.test\x00" + pw)}
		for _, f := range forms {
			if strings.Contains(logs, f) {
				t.Errorf("server log contains %s's password (form %d)", user, len(f))
			}
		}
	}
}
