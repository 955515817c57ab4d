package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"postgate/internal/sendmail"
	"postgate/internal/status"
)

// statusTestConfig writes a configuration whose data_dir is a short
// temporary directory (UNIX socket paths are limited to about 100 bytes)
// and returns the file and the directory.
func statusTestConfig(t *testing.T) (file, dataDir string) {
	t.Helper()
	dataDir, err := os.MkdirTemp("", "pgcmd")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dataDir) })
	file = filepath.Join(dataDir, "postgate.toml")
	text := "hostname = \"mx.example.test\"\ndata_dir = \"" + dataDir + "\"\nlocal_domains = [\"example.test\"]\n"
	if err := os.WriteFile(file, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return file, dataDir
}

func TestSendmailCommand(t *testing.T) {
	file, _ := statusTestConfig(t)
	tests := []struct {
		name     string
		prog     string
		args     []string
		stdin    string
		wantCode int
		wantOut  string
		wantErr  string
	}{
		{"help", "sendmail", []string{"--help"}, "", exitOK, "EXIT STATUS", ""},
		{"mailq help", "mailq", []string{"--help"}, "", exitOK, "SYNOPSIS", ""},
		{"bad option", "sendmail", []string{"-Z"}, "", exitUsage, "", "unknown option -Z"},
		{"bad config", "sendmail", []string{"-C", "/nonexistent/postgate.toml", "root"}, "x\n", exitConfig, "", "nonexistent"},
		{"not running", "sendmail", []string{"-C", file, "-i", "root"}, "Subject: s\n\nb\n", exitTempFail, "", "NOT queued"},
		{"mailq not running", "mailq", []string{"--config", file}, "", exitTempFail, "", "not running"},
		{"newaliases", "newaliases", nil, "", exitOK, "", "no alias database"},
	}
	for _, tt := range tests {
		var out, errb bytes.Buffer
		code := runSendmail(tt.prog, tt.args, strings.NewReader(tt.stdin), &out, &errb)
		if code != tt.wantCode {
			t.Errorf("%s: exit %d, want %d (stderr %q)", tt.name, code, tt.wantCode, errb.String())
		}
		if !strings.Contains(out.String(), tt.wantOut) {
			t.Errorf("%s: stdout lacks %q: %q", tt.name, tt.wantOut, out.String())
		}
		if !strings.Contains(errb.String(), tt.wantErr) {
			t.Errorf("%s: stderr lacks %q: %q", tt.name, tt.wantErr, errb.String())
		}
	}
}

func TestSendmailConfigFromEnvironment(t *testing.T) {
	file, dataDir := statusTestConfig(t)
	t.Setenv("POSTGATE_CONFIG", file)
	cfg, err := localConfig("")
	if err != nil || cfg.DataDir != dataDir || cfg.Hostname != "mx.example.test" {
		t.Errorf("config from $POSTGATE_CONFIG: %v, %+v", err, cfg)
	}
}

func TestInstallLinksCommand(t *testing.T) {
	dir := t.TempDir()
	var out, errb bytes.Buffer
	if code := runInstallLinks([]string{dir}, &out, &errb); code != exitOK {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	self, _ := os.Executable()
	self, _ = filepath.EvalSymlinks(self)
	for _, n := range sendmail.LinkNames {
		if dest, err := os.Readlink(filepath.Join(dir, n)); err != nil || dest != self {
			t.Errorf("%s -> %q, %v", n, dest, err)
		}
	}
	if !strings.Contains(out.String(), "created") {
		t.Errorf("output %q", out.String())
	}
	os.Remove(filepath.Join(dir, "mailq"))
	os.WriteFile(filepath.Join(dir, "mailq"), []byte("other"), 0o755)
	out.Reset()
	errb.Reset()
	if code := runInstallLinks([]string{dir}, &out, &errb); code == exitOK || !strings.Contains(errb.String(), "--force") {
		t.Errorf("conflict: exit %d, %q", code, errb.String())
	}
	if code := runInstallLinks([]string{"--force", dir}, &out, &errb); code != exitOK {
		t.Errorf("--force: exit %d, %q", code, errb.String())
	}
	if code := runInstallLinks(nil, &out, &errb); code != exitUsage {
		t.Errorf("no directory: exit %d", code)
	}
	out.Reset()
	if code := runInstallLinks([]string{"--help"}, &out, &errb); code != exitOK || !strings.Contains(out.String(), "EXAMPLES") {
		t.Errorf("--help: exit %d %q", code, out.String())
	}
}

func TestStatusCommand(t *testing.T) {
	file, dataDir := statusTestConfig(t)
	run := func(args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		code := runStatus(args, &out, &errb)
		return code, out.String(), errb.String()
	}
	if code, _, stderr := run("--config", file); code != exitTempFail || !strings.Contains(stderr, "not running") {
		t.Errorf("not running: exit %d %q", code, stderr)
	}
	if code, out, _ := run("--help"); code != exitOK || !strings.Contains(out, "NO_COLOR") {
		t.Errorf("--help: exit %d", code)
	}
	if code, _, _ := run("--bogus"); code != exitUsage {
		t.Errorf("--bogus: exit %d", code)
	}

	af := status.NewAuthFailures(16)
	af.Record("192.0.2.9", "PLAIN", "mallory", "wrong password", time.Now())
	srv := &status.Server{Hostname: "mx.example.test", Started: time.Now().Add(-time.Hour), AuthFailures: af,
		Listeners: []status.Listener{{Name: "smtp", Address: "127.0.0.1:2525"}}}
	ln, err := status.ListenSocket(filepath.Join(dataDir, adminSocketName), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	defer func() { srv.Close(context.Background()); <-done }()

	code, out, stderr := run("--config", file)
	if code != exitOK {
		t.Fatalf("exit %d %q", code, stderr)
	}
	for _, w := range []string{"mx.example.test", "LISTENER", "127.0.0.1:2525", "QUEUE", "192.0.2.9", "wrong_password", "mallory"} {
		if !strings.Contains(out, w) {
			t.Errorf("status output lacks %q:\n%s", w, out)
		}
	}
	if strings.Contains(out, "\x1b[") {
		t.Error("colour written to a non-terminal")
	}
	code, out, _ = run("--json", "--config", file)
	var snap status.Snapshot
	if code != exitOK || json.Unmarshal([]byte(out), &snap) != nil || snap.Hostname != "mx.example.test" ||
		snap.AuthFailures.Total != 1 {
		t.Errorf("--json: exit %d %q", code, out)
	}
}
