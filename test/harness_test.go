package test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// The accounts every test server gets, and the one wrong password the
// tests try. This is the single list of secrets: secrets_test.go derives
// what could leak from it and searches every server log for it.
var (
	alice = testUser{Addr: "alice@example.test", Password: "alice-Pw-7f3Kq9zT"}
	bob   = testUser{Addr: "bob@example.test", Password: "bob-Pw-Xr42mLq8w"}
	// wrongPassword is sent in every negative test. It is checked for
	// leaks too: a mistyped password is usually close to the real one.
	wrongPassword = "wrong-Pw-Zz81QdN"
)

// testUsers are added to every test server.
var testUsers = []testUser{alice, bob}

// testPasswords are every password the tests send.
var testPasswords = []string{alice.Password, bob.Password, wrongPassword}

// Fixed names of the test installation.
const (
	testHostname = "mail.example.test"
	testDomain   = "example.test"
)

// Bounds on waiting for observable conditions. They are limits, never
// expectations: a condition that holds returns at once.
const (
	startTimeout   = 30 * time.Second // "postgate: ready" after start
	stopTimeout    = 30 * time.Second // exit after SIGTERM or SIGKILL
	clientTimeout  = 60 * time.Second // one run of a third-party client
	deliverTimeout = 10 * time.Second // a Maildir file after the 250
)

// testUser is one account of the test installation.
type testUser struct {
	Addr     string
	Password string
}

// Local returns the local part of the address.
func (u testUser) Local() string { l, _, _ := strings.Cut(u.Addr, "@"); return l }

var (
	// postgateBin is the binary built once by TestMain.
	postgateBin string
	// logDir holds every server log and client transcript of this run.
	logDir string
	// seq numbers files and markers so names never collide.
	seq atomic.Int64
)

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

// runMain builds the binary, runs the tests, then checks every captured
// server log for leaked secrets.
func runMain(m *testing.M) int {
	tmp, err := os.MkdirTemp("", "postgate-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer os.RemoveAll(tmp)
	postgateBin = filepath.Join(tmp, "postgate")
	build := exec.Command("go", "build", "-o", postgateBin, "./cmd/postgate")
	build.Dir = ".."
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: building postgate failed: %v\n%s", err, out)
		return 1
	}

	keep := os.Getenv("POSTGATE_E2E_LOGDIR")
	if keep != "" {
		logDir = keep
	} else if logDir, err = os.MkdirTemp("", "postgate-e2e-logs-"); err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	for _, d := range []string{logDir, filepath.Join(logDir, "clients")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			fmt.Fprintln(os.Stderr, "e2e:", err)
			return 1
		}
	}

	code := m.Run()
	if leaks, err := scanLogsForSecrets(logDir, secretVariants()); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: scanning server logs:", err)
		code = 1
	} else if len(leaks) > 0 {
		fmt.Fprintln(os.Stderr, "FAIL: a password or a secret derived from one reached a server log:")
		for _, l := range leaks {
			fmt.Fprintln(os.Stderr, "  ", l)
		}
		code = 1
	}
	switch {
	case code != 0:
		// Keep the evidence of a failed run.
		fmt.Fprintln(os.Stderr, "e2e: server logs and client transcripts are in", logDir)
	case keep == "":
		os.RemoveAll(logDir)
	}
	return code
}

// serverOpts selects what a test server's configuration says beyond the
// common part (see serverConfig).
type serverOpts struct {
	// Mechanisms is auth.mechanisms; nil keeps postgate's default list.
	Mechanisms []string
	// AuthOptions is auth.options; "" keeps the default ("Ap").
	AuthOptions string
	// AllowPlaintext is auth.allow_plaintext_without_tls.
	AllowPlaintext bool
	// TrustedNetworks is trusted_networks.
	TrustedNetworks []string
	// MaxMessageSize is limits.max_message_size; 0 keeps the default.
	MaxMessageSize int64
}

// server is one postgate process run by a test, with its files.
type server struct {
	t       *testing.T
	name    string // file-name-safe test name
	dir     string
	dataDir string
	cfgPath string
	starts  int

	cmd  *exec.Cmd
	done chan error // receives cmd.Wait's result once
	// addr maps listener names (smtp, submission, submissions) to
	// host:port of the current process.
	addr map[string]string
	// logPath is the current process's log (stderr).
	logPath string
}

// startServer writes a configuration, adds testUsers with the CLI and
// starts postgate serve. The server is stopped with SIGTERM at cleanup,
// and must then exit with status 0.
func startServer(t *testing.T, opts serverOpts) *server {
	t.Helper()
	dir := t.TempDir()
	s := &server{t: t, name: fileName(t.Name()), dir: dir, dataDir: filepath.Join(dir, "data"),
		cfgPath: filepath.Join(dir, "postgate.toml")}
	if err := os.WriteFile(s.cfgPath, []byte(serverConfig(s.dataDir, opts)), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, u := range testUsers {
		cmd := exec.Command(postgateBin, "user", "add", u.Addr, "--password-stdin", "--config", s.cfgPath)
		cmd.Stdin = strings.NewReader(u.Password + "\n")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("postgate user add %s: %v\n%s", u.Addr, err, out)
		}
	}
	t.Cleanup(s.stop)
	s.start()
	return s
}

// serverConfig returns the TOML configuration of a test server.
func serverConfig(dataDir string, o serverOpts) string {
	var b strings.Builder
	fmt.Fprintf(&b, "hostname = %q\n", testHostname)
	fmt.Fprintf(&b, "data_dir = %q\n", dataDir)
	fmt.Fprintf(&b, "local_domains = [%q]\n", testDomain)
	fmt.Fprintf(&b, "trusted_networks = %s\n", tomlList(o.TrustedNetworks))
	b.WriteString("\n[listen]\nsmtp = \"127.0.0.1:0\"\nsubmission = \"127.0.0.1:0\"\nsubmissions = \"127.0.0.1:0\"\n")
	b.WriteString("\n[limits]\nshutdown_grace = \"10s\"\n")
	if o.MaxMessageSize > 0 {
		fmt.Fprintf(&b, "max_message_size = %d\n", o.MaxMessageSize)
	}
	b.WriteString("\n[auth]\n")
	if o.Mechanisms != nil {
		fmt.Fprintf(&b, "mechanisms = %s\n", tomlList(o.Mechanisms))
	}
	if o.AuthOptions != "" {
		fmt.Fprintf(&b, "options = %q\n", o.AuthOptions)
	}
	fmt.Fprintf(&b, "allow_plaintext_without_tls = %t\n", o.AllowPlaintext)
	// Fast failures, and no lockout: the negative tests fail on purpose.
	b.WriteString("failure_delay = \"1ms\"\nlockout_failures = 0\n")
	// The protocol trace is on for every test session so that the secrets
	// check also covers what the trace writes.
	b.WriteString("\n[log]\nlevel = \"debug\"\nformat = \"text\"\ntrace_networks = [\"127.0.0.0/8\", \"::1/128\"]\n")
	return b.String()
}

func tomlList(items []string) string {
	q := make([]string, len(items))
	for i, s := range items {
		q[i] = strconv.Quote(s)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// start runs postgate serve and waits for "postgate: ready".
func (s *server) start() {
	t := s.t
	t.Helper()
	s.starts++
	base := filepath.Join(logDir, fmt.Sprintf("%s-%d-start%d", s.name, seq.Add(1), s.starts))
	s.logPath = base + ".log"
	logf, err := os.Create(s.logPath)
	if err != nil {
		t.Fatal(err)
	}
	stdoutf, err := os.Create(base + ".stdout")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(postgateBin, "serve", "--config", s.cfgPath)
	cmd.Stderr = logf
	pipe, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	logf.Close()
	s.cmd, s.done, s.addr = cmd, make(chan error, 1), map[string]string{}

	ready := make(chan error, 1)
	lines := make(chan string)
	go func() {
		defer stdoutf.Close()
		sc := bufio.NewScanner(pipe)
		sent := false
		for sc.Scan() {
			fmt.Fprintln(stdoutf, sc.Text())
			if !sent {
				lines <- sc.Text()
				if sc.Text() == "postgate: ready" {
					sent = true
				}
			}
		}
		if !sent {
			close(lines)
		}
		io.Copy(io.Discard, pipe)
		s.done <- cmd.Wait()
	}()
	go func() {
		for line := range lines {
			if line == "postgate: ready" {
				ready <- nil
				return
			}
			if f := strings.Fields(line); len(f) == 4 && f[0] == "postgate:" && f[1] == "listening" {
				s.addr[f[2]] = f[3]
			}
		}
		ready <- errors.New("postgate serve ended its output without \"postgate: ready\"")
	}()
	select {
	case err := <-ready:
		if err != nil {
			t.Fatalf("%v\n%s", err, s.logTail())
		}
	case <-time.After(startTimeout):
		t.Fatalf("postgate serve not ready within %v\n%s", startTimeout, s.logTail())
	}
	for _, l := range []string{"smtp", "submission", "submissions"} {
		if s.addr[l] == "" {
			t.Fatalf("postgate serve printed no address for listener %s\n%s", l, s.logTail())
		}
	}
}

// signal sends sig and waits for the process to exit; it returns the
// process's exit error (nil for status 0).
func (s *server) signal(sig syscall.Signal) error {
	t := s.t
	t.Helper()
	if s.cmd == nil {
		return nil
	}
	s.cmd.Process.Signal(sig)
	select {
	case err := <-s.done:
		s.cmd = nil
		return err
	case <-time.After(stopTimeout):
		s.cmd.Process.Kill()
		<-s.done
		s.cmd = nil
		t.Errorf("postgate serve did not exit within %v of %v\n%s", stopTimeout, sig, s.logTail())
		return errors.New("did not exit")
	}
}

// stop ends the server with SIGTERM and checks it exited cleanly.
func (s *server) stop() {
	if s.cmd == nil {
		return
	}
	if err := s.signal(syscall.SIGTERM); err != nil {
		s.t.Errorf("postgate serve after SIGTERM: %v (want exit status 0)\n%s", err, s.logTail())
	}
}

// kill ends the server with SIGKILL, as a crash would.
func (s *server) kill() {
	s.t.Helper()
	err := s.signal(syscall.SIGKILL)
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		s.t.Fatalf("postgate serve after SIGKILL: %v, want killed by the signal", err)
	}
}

// logTail returns the end of the current server log, for failure messages.
func (s *server) logTail() string {
	b, _ := os.ReadFile(s.logPath)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return "--- server log " + s.logPath + " ---\n" + string(b)
}

// maildirNew is the new/ directory of a local user's Maildir.
func (s *server) maildirNew(u testUser) string {
	return filepath.Join(s.dataDir, "mail", testDomain, u.Local(), "new")
}

// waitForMail waits until a message containing marker is in u's Maildir
// and returns its text. Delivery runs after the 250 reply, so the test
// polls the directory: it waits for the condition, bounded by
// deliverTimeout, and asserts nothing about how long it took.
func (s *server) waitForMail(u testUser, marker string) string {
	s.t.Helper()
	deadline := time.Now().Add(deliverTimeout)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		if text, ok := s.findMail(u, marker); ok {
			return text
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("no message with %q delivered into %s within %v\n%s", marker, s.maildirNew(u), deliverTimeout, s.logTail())
		}
		<-tick.C
	}
}

// findMail looks once for a delivered message containing marker.
func (s *server) findMail(u testUser, marker string) (string, bool) {
	dir := s.maildirNew(u)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "", false
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err == nil && strings.Contains(string(b), marker) {
			return string(b), true
		}
	}
	return "", false
}

// newMarker returns a string unique in this run, put into a test
// message's subject and body to find it after delivery.
func newMarker(t *testing.T) string {
	return fmt.Sprintf("mk-%s-%d", fileName(t.Name()), seq.Add(1))
}

// messageText returns an RFC 5322 message with CRLF line endings.
func messageText(from, to, marker string) string {
	return strings.Join([]string{
		"From: <" + from + ">",
		"To: <" + to + ">",
		"Subject: e2e " + marker,
		"Message-ID: <" + marker + "@example.test>",
		"Date: Mon, 01 Jan 2024 00:00:00 +0000",
		"",
		"Body of " + marker + ".",
		"",
	}, "\r\n")
}

// writeMessage writes messageText to a file and returns its path.
func writeMessage(t *testing.T, from, to, marker string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "message.eml")
	if err := os.WriteFile(p, []byte(messageText(from, to, marker)), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// clientPackages names the Debian package of each third-party client.
var clientPackages = map[string]string{
	"swaks":   "swaks (and libauthen-sasl-perl for DIGEST-MD5)",
	"gsasl":   "gsasl",
	"msmtp":   "msmtp",
	"curl":    "curl",
	"python3": "python3",
	"openssl": "openssl",
}

// clientPath finds a client program, failing the test with the package
// to install when it is missing.
func clientPath(t *testing.T, name string) string {
	t.Helper()
	if name == "python3" {
		// Debian's python3 has smtplib; a pyenv one on PATH may be odd.
		if _, err := os.Stat("/usr/bin/python3"); err == nil {
			return "/usr/bin/python3"
		}
	}
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s is not installed: install the Debian package %s (scripts/test does)", name, clientPackages[name])
	}
	return p
}

// clientRun is the outcome of one run of a third-party client.
type clientRun struct {
	Out  string // standard output and standard error, interleaved; CRLF turned into LF
	Code int    // exit status
	File string // where the transcript was saved
}

// runClient runs a third-party client with stdin as its input, saves its
// transcript under logDir/clients and returns it. A client that does not
// finish within clientTimeout fails the test.
func runClient(t *testing.T, name, stdin string, args ...string) clientRun {
	t.Helper()
	path := clientPath(t, name)
	ctx, cancel := context.WithTimeout(context.Background(), clientTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Stdin = strings.NewReader(stdin)
	cmd.Env = append(os.Environ(), "LC_ALL=C", "HOME="+t.TempDir())
	out, err := cmd.CombinedOutput()
	// Some clients echo the protocol's CRLF; compare with LF only.
	r := clientRun{Out: strings.ReplaceAll(string(out), "\r\n", "\n")}
	var ee *exec.ExitError
	switch {
	case ctx.Err() != nil:
		t.Fatalf("%s did not finish within %v\n%s", name, clientTimeout, out)
	case errors.As(err, &ee):
		r.Code = ee.ExitCode()
	case err != nil:
		t.Fatalf("running %s: %v", name, err)
	}
	r.File = filepath.Join(logDir, "clients", fmt.Sprintf("%s-%d-%s.txt", fileName(t.Name()), seq.Add(1), name))
	transcript := fmt.Sprintf("$ %s %s\n(exit status %d)\n%s", name, strings.Join(args, " "), r.Code, out)
	if err := os.WriteFile(r.File, []byte(transcript), 0o644); err != nil {
		t.Fatal(err)
	}
	return r
}

// mustSucceed fails the test unless the client exited 0 and its output
// contains every one of want.
func (r clientRun) mustSucceed(t *testing.T, want ...string) {
	t.Helper()
	if r.Code != 0 {
		t.Fatalf("client exited with status %d, want 0 (transcript %s)\n%s", r.Code, r.File, r.Out)
	}
	r.mustContain(t, want...)
}

// mustFail fails the test unless the client exited non-zero and its
// output contains every one of want.
func (r clientRun) mustFail(t *testing.T, want ...string) {
	t.Helper()
	if r.Code == 0 {
		t.Fatalf("client exited with status 0, want a failure (transcript %s)\n%s", r.File, r.Out)
	}
	r.mustContain(t, want...)
}

func (r clientRun) mustContain(t *testing.T, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(r.Out, w) {
			t.Fatalf("client output lacks %q (exit status %d, transcript %s)\n%s", w, r.Code, r.File, r.Out)
		}
	}
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)

// fileName turns a test name into a file-name-safe string.
func fileName(s string) string { return unsafeName.ReplaceAllString(s, "_") }
