package status

import (
	"context"
	"errors"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"postgate/internal/peercred"
	"postgate/internal/queue"
)

// fakeSpool is an in-memory Spool.
type fakeSpool struct {
	envs []*queue.Envelope
	gone map[string]bool // listed but removed before Envelope
}

func (f *fakeSpool) List() ([]string, error) {
	var ids []string
	for _, e := range f.envs {
		ids = append(ids, e.ID)
	}
	return ids, nil
}

func (f *fakeSpool) Envelope(id string) (*queue.Envelope, error) {
	if f.gone[id] {
		return nil, queue.ErrNotFound
	}
	for _, e := range f.envs {
		if e.ID == id {
			return e, nil
		}
	}
	return nil, queue.ErrNotFound
}

func testSpool() *fakeSpool {
	return &fakeSpool{envs: []*queue.Envelope{
		{ID: "0001", From: "alice@example.org", Received: t0.Add(-2 * time.Hour), Size: 1500,
			Recipients: []queue.Recipient{
				{Addr: "bob@example.net", Status: queue.StatusPending, Attempts: 2, LastError: "451 4.4.1 try later"},
				{Addr: "carol@localhost", Status: queue.StatusDelivered},
			}},
		{ID: "0002", From: "", Received: t0.Add(-10 * time.Minute), Size: 500,
			Recipients: []queue.Recipient{{Addr: "dave@example.com", Status: queue.StatusPending}}},
		{ID: "0003", From: "x@y", Received: t0.Add(-time.Minute), Size: 1,
			Recipients: []queue.Recipient{{Addr: "e@f", Status: queue.StatusFailed}}},
	}, gone: map[string]bool{}}
}

// socketDir returns a short temporary directory (UNIX socket paths are
// limited to about 100 bytes).
func socketDir(t *testing.T) string {
	t.Helper()
	d, err := os.MkdirTemp("", "pgst")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

func startServer(t *testing.T, s *Server) (path string) {
	t.Helper()
	path = filepath.Join(socketDir(t), "admin.sock")
	ln, err := ListenSocket(path, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(ln) }()
	t.Cleanup(func() {
		if err := s.Close(context.Background()); err != nil {
			t.Error(err)
		}
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	return path
}

func TestSocketRoundTrip(t *testing.T) {
	af := NewAuthFailures(10)
	af.Record("192.0.2.7", "PLAIN", "alice", "wrong password", t0.Add(-time.Minute))
	af.Record("192.0.2.7", "PLAIN", "alice", "wrong password", t0.Add(-30*time.Second))
	var gotDomain string
	srv := &Server{
		Hostname: "mail.example.org", Started: t0.Add(-3 * time.Hour), Now: func() time.Time { return t0 },
		Listeners:    []Listener{{"smtp", "127.0.0.1:2525"}, {"local", "/d/submit.sock"}},
		Spool:        testSpool(),
		AuthFailures: af,
		RunQueue: func(_ context.Context, domain string) (string, error) {
			gotDomain = domain
			return "queue run started; remote delivery is not implemented yet", nil
		},
	}
	path := startServer(t, srv)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("socket mode %v, want 0600", fi.Mode().Perm())
	}

	c := NewClient(path)
	ctx := context.Background()
	snap, err := c.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if snap.Hostname != "mail.example.org" || snap.PID != os.Getpid() || snap.UptimeSeconds != 3*3600 {
		t.Errorf("snapshot header = %q pid %d up %v", snap.Hostname, snap.PID, snap.UptimeSeconds)
	}
	if len(snap.Listeners) != 2 || snap.Listeners[1].Name != "local" {
		t.Errorf("listeners = %+v", snap.Listeners)
	}
	q := snap.Queue
	if q.Messages != 3 || q.Recipients != 4 || q.Bytes != 2001 || q.OldestAgeSeconds != 7200 {
		t.Errorf("queue = %+v", q)
	}
	wantBy := map[string]int{"pending": 1, "deferred": 1, "delivered": 1, "failed": 1}
	for k, v := range wantBy {
		if q.ByStatus[k] != v {
			t.Errorf("queue by status %s = %d, want %d", k, q.ByStatus[k], v)
		}
	}
	if snap.AuthFailures.Total != 2 || len(snap.AuthFailures.Groups) != 1 || snap.AuthFailures.Groups[0].Count != 2 {
		t.Errorf("auth failures = %+v", snap.AuthFailures)
	}

	entries, err := c.Queue(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 3 || entries[0].ID != "0001" || entries[0].Recipients[0].Status != StatusDeferred ||
		entries[0].Recipients[0].LastError != "451 4.4.1 try later" || entries[1].From != "" {
		t.Errorf("queue entries = %+v", entries)
	}

	res, err := c.RunQueue(ctx, "example.net")
	if err != nil {
		t.Fatal(err)
	}
	if !res.OK || !strings.Contains(res.Message, "not implemented") || gotDomain != "example.net" {
		t.Errorf("run = %+v, domain %q", res, gotDomain)
	}
}

func TestRunQueueUnsupportedAndFailing(t *testing.T) {
	tests := []struct {
		name    string
		run     func(context.Context, string) (string, error)
		wantOK  bool
		wantMsg string
	}{
		{"nil", nil, false, "does not support"},
		{"error", func(context.Context, string) (string, error) { return "", errors.New("runner busy") }, false, "runner busy"},
		{"ok", func(context.Context, string) (string, error) { return "started", nil }, true, "started"},
	}
	for _, tt := range tests {
		path := startServer(t, &Server{RunQueue: tt.run})
		res, err := NewClient(path).RunQueue(context.Background(), "")
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if res.OK != tt.wantOK || !strings.Contains(res.Message, tt.wantMsg) {
			t.Errorf("%s: %+v", tt.name, res)
		}
	}
}

func TestEmptyServer(t *testing.T) {
	path := startServer(t, &Server{Started: t0, Now: func() time.Time { return t0 }})
	snap, err := NewClient(path).Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if snap.Queue.Messages != 0 || snap.Queue.OldestAgeSeconds != 0 || snap.AuthFailures.Total != 0 || snap.Listeners == nil {
		t.Errorf("empty snapshot = %+v", snap)
	}
	entries, err := NewClient(path).Queue(context.Background())
	if err != nil || len(entries) != 0 {
		t.Errorf("empty queue = %v, %v", entries, err)
	}
}

func TestClientNotRunning(t *testing.T) {
	dir := socketDir(t)
	// No file at all.
	_, err := NewClient(filepath.Join(dir, "none.sock")).Status(context.Background())
	if !errors.Is(err, ErrNotRunning) {
		t.Errorf("missing socket: %v, want ErrNotRunning", err)
	}
	// A stale socket file nobody listens on.
	stale := filepath.Join(dir, "stale.sock")
	ln, err := net.Listen("unix", stale)
	if err != nil {
		t.Fatal(err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	ln.Close()
	_, err = NewClient(stale).Status(context.Background())
	if !errors.Is(err, ErrNotRunning) {
		t.Errorf("stale socket: %v, want ErrNotRunning", err)
	}
	// ListenSocket replaces the stale socket.
	ln2, err := ListenSocket(stale, 0o600)
	if err != nil {
		t.Fatalf("ListenSocket over a stale socket: %v", err)
	}
	defer ln2.Close()
	// ...but not a live one.
	if _, err := ListenSocket(stale, 0o600); err == nil || !strings.Contains(err.Error(), "already listening") {
		t.Errorf("ListenSocket over a live socket: %v", err)
	}
	// ...nor a regular file.
	regular := filepath.Join(dir, "file")
	os.WriteFile(regular, []byte("keep me"), 0o600)
	if _, err := ListenSocket(regular, 0o600); err == nil {
		t.Error("ListenSocket replaced a regular file")
	}
	if b, _ := os.ReadFile(regular); string(b) != "keep me" {
		t.Error("regular file changed")
	}
}

func TestPeerUIDOnSocket(t *testing.T) {
	if !peercred.Supported {
		return // nothing to check where SO_PEERCRED does not exist
	}
	path := filepath.Join(socketDir(t), "p.sock")
	ln, err := ListenSocket(path, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	got := make(chan uint32, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			got <- 1<<32 - 1
			return
		}
		uid, _ := peercred.UID(c)
		c.Close()
		got <- uid
	}()
	c, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if uid := <-got; uid != uint32(os.Geteuid()) {
		t.Errorf("PeerUID = %d, want %d", uid, os.Geteuid())
	}
	if _, ok := peercred.UID(&net.TCPConn{}); ok {
		t.Error("PeerUID on a TCP connection reported ok")
	}
}

func TestPeerAllowed(t *testing.T) {
	// The guard itself: a request whose connection was not allowed is 403.
	s := &Server{}
	h := s.guard(s.Handler())
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", PathStatus, nil))
	if rec.Code != 403 || !strings.Contains(rec.Body.String(), "permission denied") {
		t.Errorf("unmarked connection: status %d %q, want 403", rec.Code, rec.Body.String())
	}
}

func TestQueueGauge(t *testing.T) {
	sp := testSpool()
	now := func() time.Time { return t0 }
	n, age := QueueGauge(sp, now)()
	if n != 3 || age != 2*time.Hour {
		t.Errorf("gauge = %d, %v; want 3, 2h", n, age)
	}
	sp.gone["0001"] = true // removed between List and Envelope
	n, age = QueueGauge(sp, now)()
	if n != 3 || age != 10*time.Minute {
		t.Errorf("gauge with first gone = %d, %v; want 3, 10m", n, age)
	}
	n, age = QueueGauge(&fakeSpool{}, now)()
	if n != 0 || age != 0 {
		t.Errorf("empty gauge = %d, %v", n, age)
	}
	entries, err := ListQueue(sp)
	if err != nil || len(entries) != 2 {
		t.Errorf("ListQueue skipping removed: %d entries, %v", len(entries), err)
	}
}
