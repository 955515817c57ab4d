package sendmail

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"

	"postgate/internal/auth"
	"postgate/internal/config"
	"postgate/internal/queue"
	"postgate/internal/smtpserver"
	"postgate/internal/status"
	"postgate/internal/userstore"
)

// TestAgainstServer submits through the real SMTP engine's local listener
// into a real spool: the message is in the spool when the command exits 0,
// a refused local recipient leaves nothing behind, and the trust model
// decides the envelope sender.
func TestAgainstServer(t *testing.T) {
	dir := shortDir(t)
	cfg := config.Default()
	cfg.Hostname = "mail.example.org" // runCmd qualifies bare names with example.org
	cfg.LocalDomains = []string{"example.org"}
	cfg.DataDir = dir
	if err := cfg.Validate(); err != nil {
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
	if err := users.AddUser(context.Background(), "root@example.org", "pw"); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	policy, err := auth.NewPolicy(cfg.Auth, nil, log)
	if err != nil {
		t.Fatal(err)
	}
	noServerUID := uint32(1<<32 - 2) // so that only root is trusted by uid
	trust := &Trust{Domain: cfg.UserDefaultDomain(), ServerUID: &noServerUID,
		LookupLogin: func(uint32) (string, error) { return "alice", nil }}
	srv := smtpserver.New(smtpserver.Options{Config: cfg, Spool: spool, Users: users, Policy: policy,
		Limiter: auth.NewLimiter(cfg.Auth, nil), Log: log, LocalSender: trust.AllowedSender})
	sock := cfg.Path("submit.sock")
	ln, err := status.ListenSocket(sock, 0o666)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); srv.Serve(ln, smtpserver.ListenerLocal) }()
	t.Cleanup(func() {
		srv.Shutdown(context.Background())
		wg.Wait()
		spool.Close()
		users.Close()
	})

	in := "To: root\nSubject: nightly\n\nall good\n.\nstill body\n"
	code, _, stderr := runCmd(t, sock, in, "-t", "-i", "-f", "backup@example.org", "friend@example.net")
	if code != ExOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	ids, err := spool.List()
	if err != nil || len(ids) != 1 {
		t.Fatalf("spool has %d messages (%v) after exit 0", len(ids), err)
	}
	env, err := spool.Envelope(ids[0])
	if err != nil {
		t.Fatal(err)
	}
	var rcpts []string
	for _, r := range env.Recipients {
		rcpts = append(rcpts, r.Addr)
	}
	if strings.Join(rcpts, ",") != "friend@example.net,root@example.org" {
		t.Errorf("recipients %q", rcpts)
	}
	wantFrom := "alice@example.org" // forced: the caller is not trusted
	if os.Geteuid() == 0 {
		wantFrom = "backup@example.org" // root may choose
	}
	if env.From != wantFrom {
		t.Errorf("envelope sender %q, want %q (euid %d)", env.From, wantFrom, os.Geteuid())
	}
	rc, err := spool.OpenMessage(ids[0])
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(rc)
	rc.Close()
	for _, w := range []string{"Subject: nightly\r\n", "\r\nall good\r\n.\r\nstill body\r\n", "Message-ID: <", "Date: "} {
		if !bytes.Contains(body, []byte(w)) {
			t.Errorf("spooled message lacks %q:\n%s", w, body)
		}
	}

	// An unknown local recipient: nothing is queued for anyone.
	code, _, stderr = runCmd(t, sock, "Subject: x\n\ny\n", "friend@example.net", "nobody@example.org")
	if code != ExNoUser || !strings.Contains(stderr, "nobody@example.org") {
		t.Errorf("unknown local recipient: exit %d, %q", code, stderr)
	}
	if ids, _ := spool.List(); len(ids) != 1 {
		t.Errorf("spool has %d messages after a refused submission, want 1", len(ids))
	}

	// -bv against the real engine.
	code, stdout, _ := runCmd(t, sock, "", "-bv", "root", "nobody@example.org")
	if code != ExNoUser || !strings.Contains(stdout, "root@example.org... deliverable") {
		t.Errorf("-bv: exit %d, %q", code, stdout)
	}
}
