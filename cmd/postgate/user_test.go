package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"postgate/internal/config"
	"postgate/internal/userstore"
)

// userTestConfig is the default configuration with a temporary data dir
// (which runUser must create) and example.test as the local domain.
func userTestConfig(t *testing.T) *config.Config {
	cfg := config.Default()
	cfg.DataDir = filepath.Join(t.TempDir(), "data")
	cfg.LocalDomains = []string{"example.test"}
	cfg.Hostname = "mx.example.test"
	return cfg
}

// userRun runs `postgate user ARGS` with stdin and returns the exit code,
// stdout and stderr.
func userRun(cfg *config.Config, stdin string, args ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	code := runUser(cfg, args, strings.NewReader(stdin), &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestRunUser(t *testing.T) {
	cfg := userTestConfig(t)
	steps := []struct {
		stdin   string
		args    []string
		code    int
		out     string // substring of stdout
		errOut  string // substring of stderr
		noError bool   // stderr must be empty
	}{
		{"", nil, exitUsage, "", "Usage:", false},
		{"", []string{"--help"}, exitOK, "Examples:", "", true},
		{"", []string{"add", "--help"}, exitOK, "--password-stdin", "", true},
		{"", []string{"frobnicate"}, exitUsage, "", "unknown subcommand", false},
		{"", []string{"add"}, exitUsage, "", "exactly one ADDRESS", false},
		{"", []string{"add", "a", "b"}, exitUsage, "", "exactly one ADDRESS", false},
		{"", []string{"list", "--bogus"}, exitUsage, "", "bogus", false},
		{"", []string{"senders", "alice", "frob", "x"}, exitUsage, "", "add|del", false},

		{"first-Secret-1\n", []string{"add", "alice@Example.TEST", "--password-stdin"}, exitOK, "added alice@example.test", "", true},
		{"x\n", []string{"add", "alice", "--password-stdin"}, exitDataErr, "", "already exists", false},
		// Not a terminal: one line is read even without --password-stdin.
		{"bob-Secret-2\r\n", []string{"add", "bob"}, exitOK, "added bob@example.test", "", true},
		{"carol-Secret-3", []string{"add", "--password-stdin", "carol@elsewhere.test"}, exitOK, "added carol@elsewhere.test", "not in local_domains", false},
		{"", []string{"add", "dave", "--password-stdin"}, exitNoInput, "", "no password", false},
		{"\n", []string{"add", "dave", "--password-stdin"}, exitDataErr, "", "invalid password", false},
		{"pw\n", []string{"add", "a b", "--password-stdin"}, exitDataErr, "", "invalid address", false},

		{"second-Secret-4\n", []string{"passwd", "alice", "--password-stdin"}, exitOK, "password changed for alice@example.test", "", true},
		{"pw\n", []string{"passwd", "nobody", "--password-stdin"}, exitDataErr, "", "unknown user", false},

		{"", []string{"senders", "alice", "add", "@Lists.Example.Test"}, exitOK, "alice@example.test\n@lists.example.test\n", "", true},
		{"", []string{"senders", "alice", "add", "sales"}, exitOK, "@lists.example.test\nsales@example.test\n", "", true},
		{"", []string{"senders", "alice", "del", "@lists.example.test"}, exitOK, "alice@example.test\nsales@example.test\n", "", true},
		{"", []string{"senders", "alice", "del", "@lists.example.test"}, exitDataErr, "", "no such sender", false},
		{"", []string{"senders", "nobody"}, exitDataErr, "", "unknown user", false},

		{"", []string{"del", "bob@EXAMPLE.test"}, exitOK, "deleted bob@example.test", "", true},
		{"", []string{"del", "bob"}, exitDataErr, "", "unknown user", false},
		{"", []string{"list"}, exitOK, "alice@example.test", "", true},
	}
	for i, s := range steps {
		code, out, errOut := userRun(cfg, s.stdin, s.args...)
		if code != s.code || !strings.Contains(out, s.out) || !strings.Contains(errOut, s.errOut) || (s.noError && errOut != "") {
			t.Errorf("step %d: user %q: exit %d, want %d\nstdout: %s\nstderr: %s", i, s.args, code, s.code, out, errOut)
		}
	}

	// The store the server opens sees what the command did, with the
	// passwords as given (line ending removed).
	store, err := openUserStore(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	for _, tc := range []struct{ user, pw string }{
		{"alice", "second-Secret-4"},
		{"carol@elsewhere.test", "carol-Secret-3"},
	} {
		if _, err := store.CheckPassword(tc.user, tc.pw); err != nil {
			t.Errorf("CheckPassword(%s): %v", tc.user, err)
		}
	}
	if _, err := store.CheckPassword("bob", "bob-Secret-2"); err == nil {
		t.Error("deleted user bob can still log in")
	}
	fi, err := os.Stat(cfg.DataDir)
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("data dir: %v, %v; want mode 0700", fi, err)
	}
}

func TestRunUserListJSON(t *testing.T) {
	cfg := userTestConfig(t)
	if code, out, _ := userRun(cfg, "", "list", "--json"); code != exitOK || strings.TrimSpace(out) != "[]" {
		t.Fatalf("empty list: exit %d, %q", code, out)
	}
	for _, u := range []string{"zed", "amy"} {
		if code, _, errOut := userRun(cfg, "pw-"+u+"\n", "add", u, "--password-stdin"); code != exitOK {
			t.Fatalf("add %s: %d %s", u, code, errOut)
		}
	}
	if code, _, errOut := userRun(cfg, "", "senders", "amy", "add", "help@example.test"); code != exitOK {
		t.Fatalf("senders add: %d %s", code, errOut)
	}
	code, out, errOut := userRun(cfg, "", "list", "--json")
	if code != exitOK {
		t.Fatalf("list --json: %d %s", code, errOut)
	}
	var users []userstore.User
	if err := json.Unmarshal([]byte(out), &users); err != nil {
		t.Fatalf("list --json output does not parse: %v\n%s", err, out)
	}
	if len(users) != 2 || users[0].Address != "amy@example.test" || users[1].Address != "zed@example.test" {
		t.Fatalf("users = %+v", users)
	}
	if !slices.Equal(users[0].Senders, []string{"help@example.test"}) || len(users[1].Senders) != 0 {
		t.Errorf("senders = %q, %q", users[0].Senders, users[1].Senders)
	}
	want := []string{"CRAM-MD5", "DIGEST-MD5:mx.example.test", "SCRAM-SHA-1", "SCRAM-SHA-256", "password"}
	if !slices.Equal(users[0].Mechanisms, want) || users[0].Created.IsZero() {
		t.Errorf("amy: mechanisms %q, created %v; want %q", users[0].Mechanisms, users[0].Created, want)
	}
	if strings.Contains(out, "pw-amy") {
		t.Error("list --json shows a password")
	}
}

func TestParseInterspersed(t *testing.T) {
	for _, tc := range []struct {
		args []string
		pos  []string
		flag bool
	}{
		{[]string{"a", "--x"}, []string{"a"}, true},
		{[]string{"--x", "a", "b"}, []string{"a", "b"}, true},
		{[]string{"a", "b"}, []string{"a", "b"}, false},
		{[]string{"--", "--x"}, []string{"--x"}, false},
		{[]string{"a", "--", "-b"}, []string{"a", "-b"}, false},
	} {
		fs := flag.NewFlagSet("test", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		x := fs.Bool("x", false, "")
		pos, err := parseInterspersed(fs, tc.args)
		if err != nil || !slices.Equal(pos, tc.pos) || *x != tc.flag {
			t.Errorf("parseInterspersed(%q) = %q, x=%v, %v; want %q, x=%v", tc.args, pos, *x, err, tc.pos, tc.flag)
		}
	}
}
