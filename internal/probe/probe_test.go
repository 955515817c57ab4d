package probe

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"testing"

	"postgate/internal/config"
	"postgate/internal/probe/probetest"
)

func TestResolveTarget(t *testing.T) {
	tests := []struct {
		target   string
		mode     Mode
		addr     string
		wantMode Mode
		wantErr  bool
	}{
		{"mail.example.test", "", "mail.example.test:587", ModeStartTLS, false},
		{"mail.example.test:465", "", "mail.example.test:465", ModeTLS, false},
		{"mail.example.test:587", "", "mail.example.test:587", ModeStartTLS, false},
		{"mail.example.test:25", "", "mail.example.test:25", ModeAuto, false},
		{"127.0.0.1:2525", "", "127.0.0.1:2525", ModeAuto, false},
		{"127.0.0.1:465", ModePlain, "127.0.0.1:465", ModePlain, false},
		{"[::1]:25", "", "[::1]:25", ModeAuto, false},
		{"::1", "", "[::1]:587", ModeStartTLS, false},
		{"", "", "", "", true},
		{"host:0", "", "", "", true},
		{"host:smtp", "", "", "", true},
		{"host:25", "bogus", "", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.target, func(t *testing.T) {
			_, addr, mode, err := ResolveTarget(tt.target, tt.mode)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if addr != tt.addr || mode != tt.wantMode {
				t.Errorf("got %q %q, want %q %q", addr, mode, tt.addr, tt.wantMode)
			}
		})
	}
}

// row returns the result for mech or fails.
func row(t *testing.T, rep *Report, mech string) Result {
	t.Helper()
	for _, r := range rep.Results {
		if r.Mechanism == mech {
			return r
		}
	}
	t.Fatalf("no result for %s in %+v", mech, rep.Results)
	return Result{}
}

type want struct {
	mech    string
	before  string // yes, no, -
	after   string
	outcome Outcome
	hint    []string // substrings of the hint
}

func TestProbePostgate(t *testing.T) {
	const user, password = "alice@example.test", "pw-alice"
	tests := []struct {
		name      string
		server    probetest.Options
		listener  string
		opt       Options
		succeeded bool
		rows      []want
		best      string
		wouldFail []string
	}{
		{
			name: "right password over STARTTLS", listener: "submission",
			opt:       Options{Mode: ModeStartTLS, User: user, Password: password},
			succeeded: true,
			rows: []want{
				{mech: "SCRAM-SHA-256-PLUS", before: "no", after: "yes", outcome: OK},
				{mech: "SCRAM-SHA-256", before: "yes", after: "yes", outcome: OK},
				{mech: "SCRAM-SHA-1-PLUS", before: "no", after: "yes", outcome: OK},
				{mech: "DIGEST-MD5", before: "yes", after: "yes", outcome: OK},
				{mech: "CRAM-MD5", before: "yes", after: "yes", outcome: OK},
				{mech: "PLAIN", before: "no", after: "yes", outcome: OK},
				{mech: "LOGIN", before: "no", after: "yes", outcome: OK},
			},
			best: "SCRAM-SHA-256-PLUS",
		},
		{
			name: "wrong password", listener: "submission",
			opt: Options{Mode: ModeStartTLS, User: user, Password: "not-it"},
			rows: []want{
				{mech: "SCRAM-SHA-256", before: "yes", after: "yes", outcome: Failed, hint: []string{"wrong user name or password"}},
				{mech: "PLAIN", before: "no", after: "yes", outcome: Failed, hint: []string{"wrong user name or password"}},
				{mech: "DIGEST-MD5", outcome: Failed, before: "yes", after: "yes", hint: []string{"server realm is mail.example.test", "digest-uri sent smtp/127.0.0.1"}},
			},
			wouldFail: []string{"SCRAM-SHA-256-PLUS", "SCRAM-SHA-256", "SCRAM-SHA-1-PLUS", "SCRAM-SHA-1", "DIGEST-MD5", "CRAM-MD5", "PLAIN", "LOGIN"},
		},
		{
			name: "no credentials: bogus login refused", listener: "submissions",
			opt:       Options{Mode: ModeTLS},
			succeeded: true,
			rows: []want{
				{mech: "SCRAM-SHA-256-PLUS", before: "-", after: "yes", outcome: Refused},
				{mech: "DIGEST-MD5", before: "-", after: "yes", outcome: Skipped},
				{mech: "LOGIN", before: "-", after: "yes", outcome: Skipped},
			},
		},
		{
			name: "broken DIGEST-MD5: no secret for the server's realm", listener: "submission",
			server:    probetest.Options{StoredRealms: []string{"old.example.test"}},
			opt:       Options{User: user, Password: password},
			succeeded: true,
			rows: []want{
				{mech: "DIGEST-MD5", before: "yes", after: "yes", outcome: Failed, hint: []string{
					"server realm is mail.example.test", "digest-uri sent smtp/127.0.0.1",
					"the password is right (SCRAM-SHA-256-PLUS worked)", "no DIGEST-MD5 secret"}},
				{mech: "SCRAM-SHA-256", before: "yes", after: "yes", outcome: OK},
			},
			best: "SCRAM-SHA-256-PLUS", wouldFail: []string{"DIGEST-MD5"},
		},
		{
			name: "broken CRAM-MD5: user has no secret", listener: "submission",
			server:    probetest.Options{NoCRAMSecret: true},
			opt:       Options{User: user, Password: password},
			succeeded: true,
			rows: []want{
				{mech: "CRAM-MD5", before: "yes", after: "yes", outcome: Failed, hint: []string{"no CRAM-MD5 secret"}},
				{mech: "PLAIN", before: "no", after: "yes", outcome: OK},
			},
			best: "SCRAM-SHA-256-PLUS", wouldFail: []string{"CRAM-MD5"},
		},
		{
			name: "plain mode: PLAIN refused before TLS", listener: "smtp",
			opt:       Options{Mode: ModePlain, User: user, Password: password, Mechs: []string{"plain", "SCRAM-SHA-256-PLUS"}},
			succeeded: true,
			rows: []want{
				{mech: "PLAIN", before: "no", after: "-", outcome: Failed, hint: []string{"PLAIN refused before TLS: use --starttls"}},
				{mech: "SCRAM-SHA-256", before: "yes", after: "-", outcome: OK},
				{mech: "SCRAM-SHA-256-PLUS", before: "no", after: "-", outcome: Failed, hint: []string{"channel binding"}},
			},
			best: "SCRAM-SHA-256",
		},
		{
			name: "mechanisms restricted: unadvertised ones tried on request", listener: "submission",
			server: probetest.Options{Edit: func(c *config.Config) { c.Auth.Mechanisms = []string{"SCRAM-SHA-256", "PLAIN"} }},
			opt:    Options{Mode: ModeStartTLS, User: user, Password: password, Mechs: []string{"CRAM-MD5", "XOAUTH2"}},
			rows: []want{
				{mech: "CRAM-MD5", before: "no", after: "no", outcome: Failed, hint: []string{"not advertised"}},
				{mech: "XOAUTH2", before: "no", after: "no", outcome: Skipped},
				{mech: "SCRAM-SHA-256", before: "yes", after: "yes", outcome: OK},
			},
			succeeded: true, best: "SCRAM-SHA-256",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := probetest.Start(t, tt.server)
			opt := tt.opt
			opt.Target = srv.Addr[tt.listener]
			var trace strings.Builder
			var mu sync.Mutex
			opt.Trace = func(label, dir, line string) {
				mu.Lock()
				defer mu.Unlock()
				trace.WriteString("[" + label + "] " + dir + ": " + line + "\n")
			}
			rep, err := Run(context.Background(), opt)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Error != "" {
				t.Fatalf("probe error: %s", rep.Error)
			}
			var text bytes.Buffer
			rep.WriteText(&text, false)
			if rep.Succeeded() != tt.succeeded {
				t.Errorf("Succeeded() = %v, want %v\n%s", rep.Succeeded(), tt.succeeded, text.String())
			}
			for _, w := range tt.rows {
				r := row(t, rep, w.mech)
				if yesNo(r.OfferedBeforeTLS) != w.before || yesNo(r.OfferedAfterTLS) != w.after || r.Outcome != w.outcome {
					t.Errorf("%s: offered %s/%s result %s, want %s/%s %s (reason %q)", w.mech,
						yesNo(r.OfferedBeforeTLS), yesNo(r.OfferedAfterTLS), r.Outcome, w.before, w.after, w.outcome, r.Reason)
				}
				for _, h := range w.hint {
					if !strings.Contains(r.Hint, h) {
						t.Errorf("%s: hint %q lacks %q", w.mech, r.Hint, h)
					}
				}
			}
			if rep.Recommendation.Best != tt.best {
				t.Errorf("best = %q, want %q", rep.Recommendation.Best, tt.best)
			}
			if tt.wouldFail != nil && !slices.Equal(rep.Recommendation.WouldFail, tt.wouldFail) {
				t.Errorf("would fail = %v, want %v", rep.Recommendation.WouldFail, tt.wouldFail)
			}
			var js bytes.Buffer
			rep.WriteJSON(&js)
			for what, out := range map[string]string{"text": text.String(), "json": js.String(), "trace": trace.String()} {
				if password != "" && strings.Contains(out, password) {
					t.Errorf("the password appears in the %s output", what)
				}
			}
			if t.Failed() {
				t.Logf("report:\n%s", text.String())
			}
		})
	}
}

func TestTLSInfoVerifies(t *testing.T) {
	tests := []struct {
		name     string
		roots    bool
		verified bool
	}{
		{"trusted root", true, true},
		{"system roots", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// A server each: failed logins slow down later ones (auth.Limiter).
			srv := probetest.Start(t, probetest.Options{Edit: func(c *config.Config) { c.Aliases = []string{"127.0.0.1"} }})
			opt := Options{Target: srv.Addr["submissions"], Mode: ModeTLS}
			if tt.roots {
				opt.RootCAs = srv.Roots
			}
			rep, err := Run(context.Background(), opt)
			if err != nil || rep.TLS == nil {
				t.Fatalf("err %v, report %+v", err, rep)
			}
			if rep.TLS.Verified != tt.verified || (rep.TLS.VerifyError == "") != tt.verified {
				t.Errorf("verified %v (%s), want %v", rep.TLS.Verified, rep.TLS.VerifyError, tt.verified)
			}
			if !slices.Contains(rep.TLS.Names, "127.0.0.1") || rep.TLS.Version != "TLS 1.3" || rep.TLS.ChannelBinding != "tls-exporter" {
				t.Errorf("TLS info %+v", rep.TLS)
			}
			if !rep.Succeeded() || len(rep.Results) == 0 {
				t.Errorf("probe did not go on: %+v", rep)
			}
		})
	}
}

func TestConnectionFailure(t *testing.T) {
	rep, err := Run(context.Background(), Options{Target: "127.0.0.1:1", Mode: ModeStartTLS})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Error == "" || rep.Succeeded() {
		t.Errorf("a refused connection must be an error: %+v", rep)
	}
}

func TestWriteText(t *testing.T) {
	rep := &Report{Address: "127.0.0.1:587", Host: "127.0.0.1", Mode: ModeStartTLS, Greeting: "mx ready",
		EhloBeforeTLS: []string{"AUTH CRAM-MD5", "STARTTLS"}, EhloAfterTLS: []string{"AUTH CRAM-MD5 PLAIN"},
		Credentials: true, User: "u",
		Results: []Result{
			{Mechanism: "CRAM-MD5", OfferedBeforeTLS: boolp(true), OfferedAfterTLS: boolp(true), Outcome: Failed,
				RoundTrips: 2, Reason: "server answered 535 5.7.8 no", Hint: "the hint"},
			{Mechanism: "PLAIN", OfferedBeforeTLS: boolp(false), OfferedAfterTLS: boolp(true), Outcome: OK, RoundTrips: 1},
		}}
	rep.Recommendation = recommend(rep)
	var plain, colour bytes.Buffer
	rep.WriteText(&plain, false)
	rep.WriteText(&colour, true)
	out := plain.String()
	checks := []struct {
		name string
		ok   bool
	}{
		{"no escape codes without colour", !strings.Contains(out, "\x1b")},
		{"escape codes with colour", strings.Contains(colour.String(), "\x1b[31mfailed\x1b[0m")},
		{"header", strings.Contains(out, "MECHANISM  BEFORE TLS  AFTER TLS  RESULT  ROUND TRIPS  TIME  REASON")},
		{"aligned row", strings.Contains(out, "CRAM-MD5   yes         yes        failed  2            0ms   server answered 535 5.7.8 no")},
		{"hint", strings.Contains(out, "hint: the hint")},
		{"recommendation", strings.Contains(out, "use PLAIN: the most secure mechanism that worked")},
		{"would fail", strings.Contains(out, "CRAM-MD5 is advertised and stronger than PLAIN but fails")},
		{"same text without colour codes", stripANSI(colour.String()) == out},
	}
	for _, c := range checks {
		if !c.ok {
			t.Errorf("%s:\n%s", c.name, out)
		}
	}
	var js bytes.Buffer
	if err := rep.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	var back map[string]any
	if err := json.Unmarshal(js.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	res := back["results"].([]any)[0].(map[string]any)
	if res["mechanism"] != "CRAM-MD5" || res["result"] != "failed" || res["offered_before_tls"] != true || res["hint"] != "the hint" {
		t.Errorf("JSON result %v", res)
	}
}

func stripANSI(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == 0x1b {
			for i < len(s) && s[i] != 'm' {
				i++
			}
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func TestCleanServerText(t *testing.T) {
	if got := clean("ok\x1b[2Jbad\rx"); got != "ok?[2Jbad?x" {
		t.Errorf("clean = %q", got)
	}
}
