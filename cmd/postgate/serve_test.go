package main

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"postgate/internal/config"
	"postgate/internal/loadgen"
)

// startServe runs serve() in-process on free loopback ports and returns the
// listener addresses it printed.
func startServe(t *testing.T, cfg *config.Config) map[string]string {
	t.Helper()
	pr, pw := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serve(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), pw); pw.Close() }()
	addrs := map[string]string{}
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 4 && f[1] == "listening" {
			addrs[f[2]] = f[3]
		}
		if sc.Text() == "postgate: ready" {
			break
		}
	}
	go io.Copy(io.Discard, pr)
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("serve did not stop")
		}
	})
	return addrs
}

func testConfig(t *testing.T) *config.Config {
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.Listen = config.Listen{SMTP: "127.0.0.1:0", Submission: "127.0.0.1:0", Submissions: "127.0.0.1:0"}
	return cfg
}

// The load tool against the real server: every message is accepted and
// delivered into the Maildir.
func TestLoadAgainstServe(t *testing.T) {
	cfg := testConfig(t)
	if code := run([]string{"user", "add", "load@localhost", "--password-stdin", "--config", writeConfig(t, cfg)},
		strings.NewReader("pw\n"), io.Discard, io.Discard); code != 0 {
		t.Fatalf("user add exit %d", code)
	}
	addrs := startServe(t, cfg)
	res := loadgen.Run(context.Background(), loadgen.Options{Addr: addrs["smtp"], Conns: 8, Messages: 200,
		PerSession: 30, Size: 2048, From: "a@example.test", To: "load@localhost"})
	if res.Sent != 200 || res.Failed != 0 {
		t.Fatalf("sent %d failed %d: %s", res.Sent, res.Failed, res.FirstErr)
	}
	// The command line finds the server through --config.
	bound := filepath.Join(t.TempDir(), "bound.toml")
	if err := os.WriteFile(bound, []byte("[listen]\nsmtp = \""+addrs["smtp"]+"\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	if code := run([]string{"load", "--config", bound, "--conns", "2", "--messages", "10", "--to", "load@localhost"},
		nil, &out, io.Discard); code != 0 || !strings.Contains(out.String(), "sent 10 failed 0") {
		t.Fatalf("postgate load: exit %d: %s", code, out.String())
	}
	dir := filepath.Join(cfg.DataDir, "mail", "localhost", "load", "new")
	deadline := time.Now().Add(30 * time.Second)
	for {
		ents, _ := os.ReadDir(dir)
		if len(ents) == 210 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of 210 messages delivered", len(ents))
		}
		time.Sleep(20 * time.Millisecond) // polling an observable condition
	}
}

// writeConfig writes cfg's data_dir and listeners as a TOML file.
func writeConfig(t *testing.T, cfg *config.Config) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "postgate.toml")
	text := "data_dir = \"" + cfg.DataDir + "\"\n[listen]\nsmtp = \"" + cfg.Listen.SMTP +
		"\"\nsubmission = \"" + cfg.Listen.Submission + "\"\nsubmissions = \"" + cfg.Listen.Submissions + "\"\n"
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
