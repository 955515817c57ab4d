package test

import (
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// secretVariant is one string that must never appear in a server log,
// with a description of what it is (the description itself holds no
// secret, so it can be printed).
type secretVariant struct {
	What  string
	Value string
}

// secretVariants derives from testUsers and testPasswords every form in
// which a password could plausibly leak into a log:
//   - the password itself, and its base64 (AUTH LOGIN's response) and hex;
//   - the base64 of AUTH PLAIN's "authz\0user\0password", for the user
//     given with and without its domain and with an empty or equal authz;
//   - the DIGEST-MD5 stored secret H(user:realm:password) in hex, which is
//     reusable for DIGEST-MD5 logins.
//
// CRAM-MD5 and SCRAM proofs depend on a per-session challenge or salt and
// are not reusable, so they are not searched for.
func secretVariants() []secretVariant {
	var vs []secretVariant
	add := func(what, v string) { vs = append(vs, secretVariant{what, v}) }
	for pi, pw := range testPasswords {
		p := fmt.Sprintf("password #%d", pi)
		add(p, pw)
		add(p+" in base64", base64.StdEncoding.EncodeToString([]byte(pw)))
		add(p+" in hex", hex.EncodeToString([]byte(pw)))
		for _, u := range testUsers {
			for _, name := range []string{u.Addr, u.Local()} {
				for _, authz := range []string{"", name} {
					plain := authz + "\x00" + name + "\x00" + pw
					add(fmt.Sprintf("AUTH PLAIN response for %s with %s", name, p), base64.StdEncoding.EncodeToString([]byte(plain)))
				}
				ha1 := md5.Sum([]byte(name + ":" + testHostname + ":" + pw))
				add(fmt.Sprintf("DIGEST-MD5 secret of %s with %s", name, p), hex.EncodeToString(ha1[:]))
			}
		}
	}
	return vs
}

// scanLogsForSecrets reads every server log (*.log and *.stdout) directly
// in dir and reports each secret variant found, by file and line.
// Client transcripts (dir/clients) are not searched: the clients print
// their own AUTH commands, which legitimately carry the credentials.
func scanLogsForSecrets(dir string, secrets []secretVariant) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var leaks []string
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !(strings.HasSuffix(name, ".log") || strings.HasSuffix(name, ".stdout")) {
			continue
		}
		found, err := scanFileForSecrets(filepath.Join(dir, name), secrets)
		if err != nil {
			return nil, err
		}
		leaks = append(leaks, found...)
	}
	return leaks, nil
}

// scanFileForSecrets reports each secret variant found in one file.
func scanFileForSecrets(path string, secrets []secretVariant) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var leaks []string
	for i, line := range strings.Split(string(b), "\n") {
		for _, s := range secrets {
			if strings.Contains(line, s.Value) {
				leaks = append(leaks, fmt.Sprintf("%s line %d: %s", path, i+1, s.What))
			}
		}
	}
	return leaks, nil
}

// TestCredentialsAfterRefusedAuthNotLogged: a client that sends its
// credentials without waiting for the 334 (or after a refusal it did not
// expect) makes the server see them as command lines. With the protocol
// trace on, those lines must not reach the log either. Each case sends
// AUTH, which is refused, and the credential lines in the same write;
// the server's log is then searched for the secrets.
func TestCredentialsAfterRefusedAuthNotLogged(t *testing.T) {
	t.Parallel()
	s := startServer(t, serverOpts{})
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	tests := []struct {
		name   string
		ehlo   bool
		auth   string
		creds  []string
		refuse int
	}{
		{"LOGIN before TLS", true, "AUTH LOGIN", []string{b64(alice.Addr), b64(alice.Password)}, 538},
		{"PLAIN before TLS", true, "AUTH PLAIN", []string{plainResponse(alice, alice.Password)}, 538},
		{"unknown mechanism", true, "AUTH X-UNKNOWN", []string{b64(bob.Password)}, 504},
		{"before EHLO", false, "AUTH CRAM-MD5", []string{b64(wrongPassword)}, 503},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := dialRaw(t, s.addr["submission"], false)
			if tt.ehlo {
				c.expect("EHLO client.example.test", 250, "")
			}
			c.send(tt.auth + "\r\n" + strings.Join(tt.creds, "\r\n") + "\r\n")
			if r := c.read(); r.Code != tt.refuse {
				t.Fatalf("%s: %v, want %d", tt.auth, r, tt.refuse)
			}
			for range tt.creds {
				if r := c.read(); r.Code < 500 {
					t.Errorf("credential line taken as a command got %v, want a 5xx", r)
				}
			}
			c.expect("QUIT", 221, "")
		})
	}
	s.stop()
	leaks, err := scanFileForSecrets(s.logPath, secretVariants())
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range leaks {
		t.Errorf("secret in the server log: %s", l)
	}
}

// TestSecretScanFindsPlantedSecrets proves the scan run by TestMain after
// all tests is not vacuous: every derived variant planted in a log file is
// reported, client transcripts are not searched, and a clean log passes.
func TestSecretScanFindsPlantedSecrets(t *testing.T) {
	variants := secretVariants()
	if len(variants) < len(testPasswords)*3 {
		t.Fatalf("only %d secret variants derived", len(variants))
	}
	for _, v := range variants {
		t.Run(fileName(v.What), func(t *testing.T) {
			dir := t.TempDir()
			if err := os.Mkdir(filepath.Join(dir, "clients"), 0o755); err != nil {
				t.Fatal(err)
			}
			write := func(name, text string) {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			write("clean.log", "time=x level=INFO msg=\"auth failed\" user=alice@example.test\n")
			write("clients/swaks.txt", "AUTH PLAIN "+v.Value+"\n")
			write("leaky.log", "line one\ntime=x msg=trace line=\"AUTH LOGIN "+v.Value+"\"\n")
			leaks, err := scanLogsForSecrets(dir, []secretVariant{v})
			if err != nil {
				t.Fatal(err)
			}
			want := filepath.Join(dir, "leaky.log") + " line 2: " + v.What
			if len(leaks) != 1 || leaks[0] != want {
				t.Fatalf("scan reported %q, want exactly [%q]", leaks, want)
			}
		})
	}
}

// TestSecretVariantsCoverPlain checks that the variant list holds the
// exact AUTH PLAIN response a client sends for alice, computed here
// independently.
func TestSecretVariantsCoverPlain(t *testing.T) {
	tests := []struct{ name, value string }{
		{"plain with full address", base64.StdEncoding.EncodeToString([]byte("\x00alice@example.test\x00" + alice.Password))},
		{"login password", base64.StdEncoding.EncodeToString([]byte(bob.Password))},
		{"wrong password", wrongPassword},
	}
	vs := secretVariants()
	for _, tt := range tests {
		found := false
		for _, v := range vs {
			found = found || v.Value == tt.value
		}
		if !found {
			t.Errorf("%s: %q not among the searched variants", tt.name, tt.value)
		}
	}
}
