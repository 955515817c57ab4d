package delivery

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"postgate/internal/queue"
)

// result is one OnMessage call.
type result struct {
	id  string
	env *queue.Envelope
	err error
}

// runnerFixture is a spool, a Maildir root and a running Runner whose
// progress arrives on results.
type runnerFixture struct {
	spool   *queue.Spool
	runner  *Runner
	root    string
	results chan result
	logs    *bytes.Buffer
	start   func()
	stop    func()
}

// newRunnerFixture opens the spool in spoolDir ("" for a new one).
func newRunnerFixture(t *testing.T, spoolDir string) *runnerFixture {
	t.Helper()
	if spoolDir == "" {
		spoolDir = t.TempDir()
	}
	s, err := queue.Open(spoolDir, queue.Options{})
	if err != nil {
		t.Fatal(err)
	}
	f := &runnerFixture{spool: s, root: t.TempDir(), results: make(chan result, 100), logs: new(bytes.Buffer)}
	log := slog.New(slog.NewTextHandler(f.logs, nil))
	isLocal := func(d string) bool { return d == "example.org" || d == "example.net" }
	r := NewRunner(s, &Maildir{Root: f.root, Hostname: "mx.example.org"}, isLocal, log, 3)
	r.OnMessage = func(id string, env *queue.Envelope, err error) { f.results <- result{id, env, err} }
	f.runner = r
	ctx, cancel := context.WithCancel(context.Background())
	runErr := make(chan error, 1)
	stopped := false
	f.start = func() { go func() { runErr <- r.Run(ctx) }() }
	f.stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-runErr; err != nil {
			t.Errorf("Run: %v", err)
		}
	}
	t.Cleanup(func() {
		f.stop()
		s.Close()
	})
	return f
}

func (f *runnerFixture) commit(t *testing.T, content string, rcpts ...string) string {
	t.Helper()
	return commitTo(t, f.spool, content, rcpts...)
}

func commitTo(t *testing.T, s *queue.Spool, content string, rcpts ...string) string {
	t.Helper()
	w, err := s.Create()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	io.WriteString(w, content)
	env := &queue.Envelope{From: "sender@example.com"}
	for _, r := range rcpts {
		env.Recipients = append(env.Recipients, queue.Recipient{Addr: r})
	}
	id, err := w.Commit(env)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// wait returns the runner's result for id, skipping results for others.
func (f *runnerFixture) wait(t *testing.T, id string) result {
	t.Helper()
	for r := range f.results {
		if r.id == id {
			if r.err != nil {
				t.Fatalf("processing %s: %v", id, r.err)
			}
			return r
		}
	}
	panic("unreachable")
}

// mailbox returns the contents of the messages in a mailbox's new/.
func (f *runnerFixture) mailbox(t *testing.T, domain, local string) []string {
	t.Helper()
	dir := filepath.Join(f.root, domain, local, "new")
	entries, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, string(b))
	}
	return out
}

func TestRunnerDeliversSpooledAndNewMessages(t *testing.T) {
	// Spooled by an earlier process, as after a crash or restart: only
	// the runner's initial scan can find these.
	dir := t.TempDir()
	earlier, err := queue.Open(dir, queue.Options{})
	if err != nil {
		t.Fatal(err)
	}
	before := []string{
		commitTo(t, earlier, "Subject: one\r\n\r\n1\r\n", "alice@example.org"),
		commitTo(t, earlier, "Subject: two\r\n\r\n2\r\n", "alice@example.org", "Bob@EXAMPLE.NET"),
	}
	earlier.Close()
	f := newRunnerFixture(t, dir)
	f.start()
	for _, id := range before {
		if r := f.wait(t, id); r.env == nil || r.env.Pending() {
			t.Errorf("message %s left pending: %+v", id, r.env)
		}
	}
	after := f.commit(t, "Subject: three\r\n\r\n3\r\n", "alice@example.org")
	r := f.wait(t, after)
	if r.env == nil || r.env.Recipients[0].Status != queue.StatusDelivered || r.env.Recipients[0].Attempts != 1 {
		t.Errorf("after-start message: %+v", r.env)
	}
	f.stop()

	alice := f.mailbox(t, "example.org", "alice")
	if len(alice) != 3 {
		t.Fatalf("alice has %d messages, want 3", len(alice))
	}
	joined := strings.Join(alice, "")
	for _, want := range []string{"Subject: one\n\n1\n", "Subject: two\n\n2\n", "Subject: three\n\n3\n"} {
		if !strings.Contains(joined, want) {
			t.Errorf("alice's mailbox lacks %q", want)
		}
	}
	if bob := f.mailbox(t, "example.net", "Bob"); len(bob) != 1 || !strings.HasPrefix(bob[0], "Return-Path: <sender@example.com>\nDelivered-To: Bob@EXAMPLE.NET\n") {
		t.Errorf("Bob's mailbox: %q", bob)
	}
	if ids, err := f.spool.List(); err != nil || len(ids) != 0 {
		t.Errorf("spool after delivery: %v, %v; want empty", ids, err)
	}
	logs := f.logs.String()
	for _, id := range append(before, after) {
		if !strings.Contains(logs, "id="+id) {
			t.Errorf("no log line for %s", id)
		}
	}
	if n := strings.Count(logs, "result=delivered"); n != 4 {
		t.Errorf("%d delivered log lines, want 4:\n%s", n, logs)
	}
}

func TestRunnerLeavesRemoteRecipientsPending(t *testing.T) {
	f := newRunnerFixture(t, "")
	f.start()
	id := f.commit(t, "Subject: mixed\r\n\r\nx\r\n", "carol@example.org", "dave@remote.example")
	r := f.wait(t, id)
	f.stop()
	if r.env == nil {
		t.Fatal("no envelope")
	}
	local, remote := r.env.Recipients[0], r.env.Recipients[1]
	if local.Status != queue.StatusDelivered {
		t.Errorf("local recipient: %+v", local)
	}
	if remote.Status != queue.StatusPending || remote.Attempts != 0 || remote.LastError != "" {
		t.Errorf("remote recipient: %+v", remote)
	}
	// The state is durable in the spool, not just in the callback.
	env, err := f.spool.Envelope(id)
	if err != nil {
		t.Fatalf("message left the spool: %v", err)
	}
	if env.Recipients[0].Status != queue.StatusDelivered || env.Recipients[1].Status != queue.StatusPending {
		t.Errorf("spooled envelope: %+v", env.Recipients)
	}
	if got := f.mailbox(t, "example.org", "carol"); len(got) != 1 {
		t.Errorf("carol has %d messages, want 1", len(got))
	}
	if _, err := os.Stat(filepath.Join(f.root, "remote.example")); !os.IsNotExist(err) {
		t.Errorf("a mailbox was made for the remote domain: %v", err)
	}
}

func TestRunnerRecordsFailures(t *testing.T) {
	f := newRunnerFixture(t, "")
	// A file where example.net's directory belongs makes delivery there
	// fail temporarily.
	if err := os.WriteFile(filepath.Join(f.root, "example.net"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	f.start()
	mixed := f.commit(t, "x\r\n", `".hidden"@example.org`, "erin@example.net", "frank@example.org")
	r := f.wait(t, mixed)
	if r.env == nil {
		t.Fatal("no envelope")
	}
	perm, temp, ok := r.env.Recipients[0], r.env.Recipients[1], r.env.Recipients[2]
	if perm.Status != queue.StatusFailed || perm.Attempts != 1 || !strings.HasPrefix(perm.LastError, "550 5.1.1") {
		t.Errorf("bad local part: %+v", perm)
	}
	if temp.Status != queue.StatusPending || temp.Attempts != 1 || !strings.HasPrefix(temp.LastError, "451 4.3.0") ||
		!temp.NextAttempt.After(time.Now()) {
		t.Errorf("temporary failure: %+v", temp)
	}
	if ok.Status != queue.StatusDelivered {
		t.Errorf("good recipient: %+v", ok)
	}
	if _, err := f.spool.Envelope(mixed); err != nil {
		t.Errorf("message with a deferred recipient left the spool: %v", err)
	}

	// Only permanent failures: nothing pending, but no bounce exists yet,
	// so the message is held in the spool rather than lost.
	failed := f.commit(t, "x\r\n", `".."@example.org`)
	if r := f.wait(t, failed); r.env == nil || r.env.Recipients[0].Status != queue.StatusFailed {
		t.Errorf("failed message: %+v", r.env)
	}
	f.stop()
	ids, _ := f.spool.List()
	if len(ids) != 2 || ids[0] != mixed || ids[1] != failed {
		t.Errorf("spool holds %v, want %s and %s", ids, mixed, failed)
	}
	if logs := f.logs.String(); !strings.Contains(logs, "result=failed") || !strings.Contains(logs, "result=deferred") {
		t.Errorf("failures not logged:\n%s", logs)
	}
}

func TestRetryDelay(t *testing.T) {
	r := &Runner{}
	tests := []struct {
		attempts int
		want     time.Duration
	}{
		{1, 5 * time.Minute},
		{2, 10 * time.Minute},
		{3, 20 * time.Minute},
		{10, 4 * time.Hour},
		{100, 4 * time.Hour},
	}
	for _, tc := range tests {
		if got := r.retryDelay(tc.attempts); got != tc.want {
			t.Errorf("retryDelay(%d) = %v, want %v", tc.attempts, got, tc.want)
		}
	}
}

// TestRunnerCatchesUpAfterNotifyOverflow holds the only worker while more
// messages are committed than Notify can buffer; the dropped ids must be
// found again through Rescan.
func TestRunnerCatchesUpAfterNotifyOverflow(t *testing.T) {
	s, err := queue.Open(t.TempDir(), queue.Options{NotifyBuffer: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	root := t.TempDir()
	r := NewRunner(s, &Maildir{Root: root, Hostname: "mx"}, func(string) bool { return true }, nil, 1)
	hold := make(chan struct{})
	done := make(chan string, 100)
	first := true
	r.OnMessage = func(id string, env *queue.Envelope, err error) {
		if first { // only the single worker calls this
			first = false
			<-hold
		}
		done <- id
	}
	ctx, cancel := context.WithCancel(context.Background())
	runErr := make(chan error, 1)
	go func() { runErr <- r.Run(ctx) }()

	ids := map[string]bool{commitTo(t, s, "x\r\n", "u@example.org"): true}
	for range 10 {
		ids[commitTo(t, s, "x\r\n", "u@example.org")] = true
	}
	if st := s.Stats(); st.Dropped == 0 {
		t.Fatalf("no notification was dropped (Stats %+v); the test proves nothing", st)
	}
	close(hold)
	for len(ids) > 0 {
		delete(ids, <-done)
	}
	cancel()
	if err := <-runErr; err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(filepath.Join(root, "example.org", "u", "new"))
	if len(entries) != 11 {
		t.Errorf("%d messages delivered, want 11", len(entries))
	}
}

// A temporary failure is retried when its time comes, without a new
// message or a restart to trigger it.
func TestRunnerRetriesDeferredRecipients(t *testing.T) {
	f := newRunnerFixture(t, "")
	block := filepath.Join(f.root, "example.net")
	if err := os.WriteFile(block, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	f.runner.RetryDelay = func(int) time.Duration { return 0 }
	f.runner.RescanEvery = 10 * time.Millisecond
	f.start()
	id := f.commit(t, "x\r\n", "erin@example.net")
	if r := f.wait(t, id); r.env == nil || r.env.Recipients[0].Status != queue.StatusPending {
		t.Fatalf("first attempt: %+v", r.env)
	}
	if err := os.Remove(block); err != nil {
		t.Fatal(err)
	}
	for {
		r := f.wait(t, id)
		if r.env != nil && r.env.Recipients[0].Status == queue.StatusDelivered {
			if r.env.Recipients[0].Attempts < 2 {
				t.Fatalf("attempts %d", r.env.Recipients[0].Attempts)
			}
			break
		}
	}
	if got := f.mailbox(t, "example.net", "erin"); len(got) != 1 {
		t.Fatalf("erin has %d messages", len(got))
	}
	if ids, _ := f.spool.List(); len(ids) != 0 {
		t.Fatalf("spool still holds %v", ids)
	}
}

// RetryNow (sendmail -q) attempts a deferred recipient at once, long
// before its retry time.
func TestRunnerRetryNow(t *testing.T) {
	f := newRunnerFixture(t, "")
	block := filepath.Join(f.root, "example.net")
	if err := os.WriteFile(block, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	f.runner.RetryDelay = func(int) time.Duration { return time.Hour }
	f.start()
	id := f.commit(t, "x\r\n", "erin@example.net")
	if r := f.wait(t, id); r.env == nil || r.env.Recipients[0].Status != queue.StatusPending {
		t.Fatalf("first attempt: %+v", r.env)
	}
	if err := os.Remove(block); err != nil {
		t.Fatal(err)
	}
	f.runner.RetryNow()
	if r := f.wait(t, id); r.env == nil || r.env.Recipients[0].Status != queue.StatusDelivered {
		t.Fatalf("after RetryNow: %+v", r.env)
	}
}
