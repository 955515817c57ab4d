package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"postgate/internal/probe/probetest"
)

func TestProbeCommand(t *testing.T) {
	srv := probetest.Start(t, probetest.Options{})
	broken := probetest.Start(t, probetest.Options{StoredRealms: []string{"old.example.test"}})
	// Failed logins slow down later ones from the same address
	// (auth.Limiter), so the bogus-login check gets a server of its own.
	fresh := probetest.Start(t, probetest.Options{})
	sub, subs := srv.Addr["submission"], srv.Addr["submissions"]
	noListeners := writeFile(t, "none.toml", "[listen]\nsmtp = \"\"\nsubmission = \"\"\nsubmissions = \"\"\n")
	ownConfig := writeFile(t, "own.toml", "[listen]\nsubmission = \""+sub+"\"\n")
	tests := []struct {
		name     string
		args     []string
		stdin    string
		code     int
		stdout   []string // substrings of standard output
		stderr   []string // substrings of standard error
		notOut   []string // must not appear in either
		jsonBest string
	}{
		{name: "help", args: []string{"--help"}, code: 0, stdout: []string{"SYNOPSIS", "EXAMPLES", "465 means", "NO_COLOR"}},
		{name: "no target, no listener", args: []string{"--config", noListeners}, code: 64,
			stderr: []string{"no HOST given and no submission or smtp listener configured"}},
		{name: "no target: the configured submission listener", args: []string{"--config", ownConfig, "--starttls",
			"--user", "alice@example.test", "--password-stdin"}, stdin: "pw-alice\n", code: 0,
			stdout: []string{"postgate probe " + sub, "use SCRAM-SHA-256-PLUS"}},
		{name: "two targets", args: []string{sub, subs}, code: 64, stderr: []string{"want one HOST[:PORT], got 2"}},
		{name: "two modes", args: []string{"--tls", "--plain", sub}, code: 64, stderr: []string{"exclude each other"}},
		{name: "password-stdin without user", args: []string{"--password-stdin", sub}, code: 64, stderr: []string{"needs --user"}},
		{name: "user without password source", args: []string{"--user", "alice@example.test", sub}, stdin: "pw-alice\n",
			code: 64, stderr: []string{"needs --password-stdin"}},
		{name: "bad port", args: []string{"127.0.0.1:99999"}, code: 64, stderr: []string{"bad port"}},
		{name: "right password", args: []string{sub, "--starttls", "--user", "alice@example.test", "--password-stdin"},
			stdin: "pw-alice\n", code: 0,
			stdout: []string{"MECHANISM           BEFORE TLS  AFTER TLS  RESULT  ROUND TRIPS  TIME",
				"SCRAM-SHA-256-PLUS  no          yes        ok      3", "PLAIN               no          yes        ok      1",
				"use SCRAM-SHA-256-PLUS"},
			notOut: []string{"pw-alice", "\x1b["}},
		{name: "wrong password", args: []string{"--starttls", "--user", "alice@example.test", "--password-stdin", sub},
			stdin: "nope\r\n", code: 1,
			stdout: []string{"failed", "wrong user name or password", "no mechanism worked"}},
		{name: "no credentials", args: []string{"--tls", fresh.Addr["submissions"]}, code: 0,
			stdout: []string{"refused", "bogus login was refused by every mechanism"}},
		{name: "json", args: []string{"--json", "--tls", "--user", "alice@example.test", "--password-stdin", subs},
			stdin: "pw-alice", code: 0, jsonBest: "SCRAM-SHA-256-PLUS", notOut: []string{"pw-alice"}},
		{name: "trace", args: []string{"--trace", "--starttls", "--mechs", "PLAIN", "--user", "alice@example.test", "--password-stdin", sub},
			stdin: "pw-alice\n", code: 0,
			stderr: []string{"[PLAIN] C: AUTH PLAIN <redacted>", "[discover] C: STARTTLS", "[DIGEST-MD5] C: charset=utf-8,username=", "response=<redacted>"},
			notOut: []string{"pw-alice"}},
		{name: "broken DIGEST-MD5", args: []string{"--starttls", "--user", "alice@example.test", "--password-stdin", broken.Addr["submission"]},
			stdin: "pw-alice\n", code: 0,
			stdout: []string{"DIGEST-MD5          yes         yes        failed", "hint: server realm is mail.example.test; digest-uri sent smtp/127.0.0.1",
				"DIGEST-MD5 is advertised but fails"}},
		{name: "unreachable", args: []string{"--starttls", "127.0.0.1:1"}, code: 69, stdout: []string{"error:"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := runProbe(tt.args, strings.NewReader(tt.stdin), &out, &errOut)
			if code != tt.code {
				t.Errorf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.code, out.String(), errOut.String())
			}
			for _, s := range tt.stdout {
				if !strings.Contains(out.String(), s) {
					t.Errorf("stdout lacks %q:\n%s", s, out.String())
				}
			}
			for _, s := range tt.stderr {
				if !strings.Contains(errOut.String(), s) {
					t.Errorf("stderr lacks %q:\n%s", s, errOut.String())
				}
			}
			for _, s := range tt.notOut {
				if strings.Contains(out.String()+errOut.String(), s) {
					t.Errorf("output contains %q", s)
				}
			}
			if tt.jsonBest != "" {
				var rep struct {
					Credentials    bool `json:"credentials"`
					Recommendation struct {
						Best string `json:"best"`
					} `json:"recommendation"`
					Results []struct {
						Mechanism string `json:"mechanism"`
						Result    string `json:"result"`
					} `json:"results"`
				}
				if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
					t.Fatalf("JSON: %v\n%s", err, out.String())
				}
				if rep.Recommendation.Best != tt.jsonBest || !rep.Credentials || len(rep.Results) < 8 || rep.Results[0].Result != "ok" {
					t.Errorf("JSON report %+v", rep)
				}
			}
		})
	}
}

// writeFile writes a file into a fresh temporary directory.
func writeFile(t *testing.T, name, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
