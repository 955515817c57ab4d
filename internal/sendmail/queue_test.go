package sendmail

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"postgate/internal/queue"
	"postgate/internal/status"
)

type memSpool []*queue.Envelope

func (m memSpool) List() ([]string, error) {
	var ids []string
	for _, e := range m {
		ids = append(ids, e.ID)
	}
	return ids, nil
}

func (m memSpool) Envelope(id string) (*queue.Envelope, error) {
	for _, e := range m {
		if e.ID == id {
			return e, nil
		}
	}
	return nil, queue.ErrNotFound
}

// startAdmin runs a status server on dir/admin.sock.
func startAdmin(t *testing.T, dir string, srv *status.Server) {
	t.Helper()
	ln, err := status.ListenSocket(filepath.Join(dir, "admin.sock"), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() { srv.Close(context.Background()); <-done })
}

func TestMailqAndQueueRun(t *testing.T) {
	dir := shortDir(t)
	sock := filepath.Join(dir, "submit.sock")

	// Not running.
	code, _, stderr := runCmd(t, sock, "", "-bp")
	if code != ExTempFail || !strings.Contains(stderr, "not running") {
		t.Errorf("mailq, not running: %d %q", code, stderr)
	}
	code, _, stderr = runCmd(t, sock, "", "-q")
	if code != ExTempFail || !strings.Contains(stderr, "not running") {
		t.Errorf("-q, not running: %d %q", code, stderr)
	}

	recv := time.Date(2026, 5, 1, 9, 0, 0, 0, time.Local)
	sp := memSpool{
		{ID: "0000018a2b3c4d5e00000001", From: "alice@example.org", Received: recv, Size: 2048,
			Recipients: []queue.Recipient{
				{Addr: "bob@example.net", Status: queue.StatusPending, Attempts: 3, LastError: "451 4.4.1 connection refused"},
				{Addr: "carol@example.org", Status: queue.StatusDelivered},
				{Addr: "dave@example.net", Status: queue.StatusFailed, LastError: "550 5.1.1 no such user"},
			}},
		{ID: "0000018a2b3c4d5e00000002", From: "", Received: recv, Size: 100,
			Recipients: []queue.Recipient{{Addr: "eve\x1b[31m@example.net", Status: queue.StatusPending}}},
	}
	var asked []string
	startAdmin(t, dir, &status.Server{Spool: sp, RunQueue: func(_ context.Context, d string) (string, error) {
		asked = append(asked, d)
		return "queue run started (remote delivery is not implemented yet: 1 message stays queued)", nil
	}})

	code, stdout, _ := runCmd(t, sock, "", "-bp")
	if code != ExOK {
		t.Fatalf("mailq exit %d", code)
	}
	for _, w := range []string{"-Queue ID-", "0000018a2b3c4d5e00000001     2048 Fri May  1 09:00:00  alice@example.org",
		"(451 4.4.1 connection refused)", "bob@example.net", "(failed: 550 5.1.1 no such user)", "dave@example.net",
		"MAILER-DAEMON", "eve?[31m@example.net", "-- 3 Kbytes in 2 Requests."} {
		if !strings.Contains(stdout, w) {
			t.Errorf("mailq output lacks %q:\n%s", w, stdout)
		}
	}
	if strings.Contains(stdout, "carol@") {
		t.Errorf("delivered recipient listed:\n%s", stdout)
	}
	if strings.Contains(stdout, "\x1b") {
		t.Error("escape sequence reached the output")
	}

	code, stdout, _ = runCmd(t, sock, "", "-bp", "--json")
	var parsed struct {
		Messages []status.QueueEntry `json:"messages"`
	}
	if code != ExOK || json.Unmarshal([]byte(stdout), &parsed) != nil || len(parsed.Messages) != 2 ||
		parsed.Messages[0].Recipients[0].Status != status.StatusDeferred {
		t.Errorf("mailq --json: exit %d, %q", code, stdout)
	}

	code, stdout, _ = runCmd(t, sock, "", "-qR", "example.net")
	if code != ExOK || !strings.Contains(stdout, "not implemented yet") {
		t.Errorf("-qR: exit %d %q", code, stdout)
	}
	code, _, _ = runCmd(t, sock, "", "-q")
	if code != ExOK || len(asked) != 2 || asked[0] != "example.net" || asked[1] != "" {
		t.Errorf("-q: exit %d, domains asked %q", code, asked)
	}
}

func TestQueueRunRefused(t *testing.T) {
	dir := shortDir(t)
	startAdmin(t, dir, &status.Server{})
	code, _, stderr := runCmd(t, filepath.Join(dir, "submit.sock"), "", "-q")
	if code != ExUnavailable || !strings.Contains(stderr, "does not support") {
		t.Errorf("exit %d, %q", code, stderr)
	}
}

func TestEmptyQueue(t *testing.T) {
	var b bytes.Buffer
	RenderQueue(&b, nil, false)
	if b.String() != "Mail queue is empty\n" {
		t.Errorf("%q", b.String())
	}
}

func TestNewaliases(t *testing.T) {
	o, _ := ParseFor(ProgNewaliases, nil)
	var out, errb bytes.Buffer
	code := Run(context.Background(), Env{Prog: "newaliases", Stdout: &out, Stderr: &errb}, o)
	if code != ExOK || !strings.Contains(errb.String(), "no alias database") {
		t.Errorf("exit %d %q", code, errb.String())
	}
}
