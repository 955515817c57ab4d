// Package dovecot holds interoperability tests of postgate's client side
// against a real third-party server: Dovecot's submission service (Debian
// 12's dovecot-core and dovecot-submissiond, installed by scripts/test),
// started as a child process with a generated configuration, and relaying
// to a postgate started in-process.
//
// They check that smtpclient with every sasl client mechanism Dovecot
// offers authenticates, before and after STARTTLS; that a wrong password
// gets 535; that a message submitted to Dovecot reaches postgate through
// Dovecot's relay; and that the probe reports Dovecot correctly, including
// a user whose password is stored as a one-way hash, for whom Dovecot
// advertises mechanisms it cannot run.
package dovecot

import (
	"bufio"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"postgate/internal/tlsconf"
)

// dovecotBinary is where Debian installs the master process.
const dovecotBinary = "/usr/sbin/dovecot"

// Test users. alice's password is stored in plaintext, which every
// mechanism can use; bob's as an unsalted SHA-256 hash, which only PLAIN
// and LOGIN can check.
const (
	alice, alicePassword = "alice@example.test", "pw-alice"
	bob, bobPassword     = "bob@example.test", "pw-bob"
)

// dovecot is a running Dovecot.
type dovecot struct {
	// Addr is the submission listener, 127.0.0.1:port.
	Addr string
	// Roots trusts Dovecot's certificate (for dovecot.example.test and 127.0.0.1).
	Roots *x509.CertPool
	dir   string
	log   *lockedFile
}

type lockedFile struct {
	mu   sync.Mutex
	path string
}

func (l *lockedFile) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	b, _ := os.ReadFile(l.path)
	return string(b)
}

// freePort returns a loopback port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// identity returns the users Dovecot's processes run as. As root, Dovecot
// refuses to run login and mail processes as root, so the Debian
// package's users are used (dovenull for the unprivileged login process,
// dovecot for internal services and the mail user); otherwise every
// process runs as the current user.
type identity struct {
	root             bool
	internal, login  string
	mailUID, mailGID string
}

func currentIdentity(t *testing.T) identity {
	t.Helper()
	if os.Geteuid() == 0 {
		u, err := user.Lookup("dovecot")
		if err != nil {
			t.Fatalf("user dovecot (created by Debian's dovecot-core): %v", err)
		}
		if _, err := user.Lookup("dovenull"); err != nil {
			t.Fatalf("user dovenull (created by Debian's dovecot-core): %v", err)
		}
		return identity{root: true, internal: "dovecot", login: "dovenull", mailUID: u.Uid, mailGID: u.Gid}
	}
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	return identity{internal: u.Username, login: u.Username, mailUID: u.Uid, mailGID: u.Gid}
}

// startDovecot writes a configuration into a fresh directory and starts
// Dovecot's submission service relaying to relayPort. It waits until the
// service greets, and stops it when the test ends.
func startDovecot(t *testing.T, relayPort int) *dovecot {
	t.Helper()
	if _, err := os.Stat(dovecotBinary); err != nil {
		t.Fatalf("Dovecot is not installed (%v): scripts/test installs dovecot-core and dovecot-submissiond", err)
	}
	id := currentIdentity(t)
	// Dovecot's unprivileged processes must reach files under the
	// directory, so it is world-traversable, unlike t.TempDir's.
	dir, err := os.MkdirTemp("", "postgate-dovecot-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	for _, d := range []string{dir, filepath.Join(dir, "home")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(d, 0o777); err != nil { // the mail user writes homes
			t.Fatal(err)
		}
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := tlsconf.WriteSelfSigned(certFile, keyFile, []string{"dovecot.example.test", "127.0.0.1"}); err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	certPEM, err := os.ReadFile(certFile)
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(certPEM)
	cert, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	roots.AddCert(cert)

	sum := sha256.Sum256([]byte(bobPassword))
	passwd := fmt.Sprintf("%s:{PLAIN}%s::::::\n%s:{SHA256}%s::::::\n",
		alice, alicePassword, bob, base64.StdEncoding.EncodeToString(sum[:]))
	passwdFile := filepath.Join(dir, "passwd")
	if err := os.WriteFile(passwdFile, []byte(passwd), 0o644); err != nil {
		t.Fatal(err)
	}

	port := freePort(t)
	logFile := filepath.Join(dir, "dovecot.log")
	conf := dovecotConfig(dir, id, port, relayPort, certFile, keyFile, passwdFile, logFile)
	confFile := filepath.Join(dir, "dovecot.conf")
	if err := os.WriteFile(confFile, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}

	cmd := exec.Command(dovecotBinary, "-F", "-c", confFile)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	dc := &dovecot{Addr: fmt.Sprintf("127.0.0.1:%d", port), Roots: roots, dir: dir, log: &lockedFile{path: logFile}}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("dovecot output:\n%s\ndovecot log:\n%s", out.String(), dc.log.String())
		}
	})
	if err := waitGreeting(dc.Addr, exited, 30*time.Second); err != nil {
		t.Fatalf("Dovecot did not start: %v\noutput:\n%s\nlog:\n%s\nconfig:\n%s", err, out.String(), dc.log.String(), conf)
	}
	return dc
}

// waitGreeting polls the listener until it answers 220, Dovecot exits,
// or the deadline passes.
func waitGreeting(addr string, exited <-chan error, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.SetDeadline(time.Now().Add(5 * time.Second))
			line, rerr := bufio.NewReader(c).ReadString('\n')
			c.Close()
			if rerr == nil && strings.HasPrefix(line, "220 ") {
				return nil
			}
			err = fmt.Errorf("greeting %q: %v", line, rerr)
		}
		if time.Now().After(deadline) {
			return err
		}
		select {
		case e := <-exited:
			return fmt.Errorf("dovecot exited: %v", e)
		case <-tick.C:
		}
	}
}

// dovecotConfig is a self-contained configuration: only the submission
// protocol, on one loopback port, with TLS, every SASL mechanism Dovecot
// 2.3 has that postgate also implements, a passwd-file passdb, a static
// userdb, and postgate as the relay host.
func dovecotConfig(dir string, id identity, port, relayPort int, certFile, keyFile, passwdFile, logFile string) string {
	// Dovecot's anvil delays each failed login from an address by up to
	// 15 seconds (auth penalty); a socket of mode 0 turns that off, so the
	// wrong-password cases do not slow the test down.
	anvil := `
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }`
	if !id.root {
		// Only root can chroot; without it the processes run unconfined.
		anvil += `
  chroot =`
	}
	anvil += "\n}"

	return fmt.Sprintf(`# generated by postgate's Dovecot interop test
base_dir = %[1]s/run
state_dir = %[1]s/state
log_path = %[2]s
info_log_path = %[2]s
debug_log_path = %[2]s
protocols = submission
listen = 127.0.0.1
hostname = dovecot.example.test
ssl = yes
ssl_cert = <%[3]s
ssl_key = <%[4]s
ssl_min_protocol = TLSv1.2
disable_plaintext_auth = yes
auth_mechanisms = plain login cram-md5 digest-md5 scram-sha-1 scram-sha-256
auth_realms = example.test
auth_default_realm = example.test
auth_failure_delay = 0
auth_verbose = yes
default_internal_user = %[5]s
default_internal_group = %[5]s
default_login_user = %[6]s
first_valid_uid = %[7]s
last_valid_uid = 0
first_valid_gid = %[8]s
mail_location = maildir:~/Maildir
submission_relay_host = 127.0.0.1
submission_relay_port = %[9]d
submission_relay_trusted = no
passdb {
  driver = passwd-file
  args = username_format=%%u %[10]s
}
userdb {
  driver = static
  args = uid=%[7]s gid=%[8]s home=%[1]s/home/%%u
}
service submission-login {
  inet_listener submission {
    address = 127.0.0.1
    port = %[11]d
  }%[12]s
}%[13]s
`, dir, logFile, certFile, keyFile, id.internal, id.login, id.mailUID, id.mailGID, relayPort, passwdFile, port,
		map[bool]string{true: "", false: "\n  chroot ="}[id.root], anvil)
}
