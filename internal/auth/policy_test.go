package auth

import (
	"bytes"
	"errors"
	"log/slog"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"postgate/internal/config"
	"postgate/internal/smtp"
)

// Sessions used across the tests.
var (
	client    = netip.MustParseAddr("203.0.113.7")
	legacyNet = netip.MustParseAddr("192.0.2.10")

	noTLS   = Session{Listener: "submission", ClientIP: client, Helo: "laptop.example"}
	withTLS = Session{Listener: "submission", ClientIP: client, Helo: "laptop.example", TLS: true}
	withCB  = Session{Listener: "submission", ClientIP: client, Helo: "laptop.example", TLS: true, ChannelBinding: true}
	withCrt = Session{Listener: "submission", ClientIP: client, Helo: "laptop.example", TLS: true, ChannelBinding: true, ClientCert: true}
)

func defaultAuth() config.Auth { return config.Default().Auth }

func with(s Session, f func(*Session)) Session { f(&s); return s }

func mustPolicy(t *testing.T, cfg config.Auth, missing map[string]int) *Policy {
	t.Helper()
	p, err := NewPolicy(cfg, missing, nil)
	if err != nil {
		t.Fatalf("NewPolicy: %v", err)
	}
	return p
}

func TestOffered(t *testing.T) {
	opts := func(o string, allowPlain bool) func(*config.Auth) {
		return func(a *config.Auth) { a.Options = o; a.AllowPlaintextWithoutTLS = allowPlain }
	}
	rules := func(r ...config.AuthRule) func(*config.Auth) {
		return func(a *config.Auth) { a.Rules = r }
	}
	const scramNoPlus = "SCRAM-SHA-256 SCRAM-SHA-1"
	tests := []struct {
		name    string
		cfg     func(*config.Auth)
		missing map[string]int
		s       Session
		want    string // space-separated
	}{
		{name: "default before TLS", s: noTLS,
			want: scramNoPlus + " DIGEST-MD5 CRAM-MD5"},
		{name: "default after TLS, no channel binding", s: withTLS,
			want: scramNoPlus + " DIGEST-MD5 CRAM-MD5 PLAIN LOGIN"},
		{name: "default after TLS with channel binding", s: withCB,
			want: "SCRAM-SHA-256-PLUS SCRAM-SHA-256 SCRAM-SHA-1-PLUS SCRAM-SHA-1 DIGEST-MD5 CRAM-MD5 PLAIN LOGIN"},
		{name: "default with client certificate", s: withCrt,
			want: "SCRAM-SHA-256-PLUS SCRAM-SHA-256 SCRAM-SHA-1-PLUS SCRAM-SHA-1 DIGEST-MD5 CRAM-MD5 PLAIN LOGIN EXTERNAL"},
		{name: "channel binding flag without TLS is ignored", s: with(noTLS, func(s *Session) { s.ChannelBinding = true; s.ClientCert = true }),
			want: scramNoPlus + " DIGEST-MD5 CRAM-MD5"},
		{name: "no p, plaintext not allowed: still no PLAIN before TLS", cfg: opts("A", false), s: noTLS,
			want: scramNoPlus + " DIGEST-MD5 CRAM-MD5"},
		{name: "no p and allow_plaintext_without_tls: PLAIN before TLS", cfg: opts("A", true), s: noTLS,
			want: scramNoPlus + " DIGEST-MD5 CRAM-MD5 PLAIN LOGIN"},
		{name: "p overrides allow_plaintext_without_tls", cfg: opts("Ap", true), s: noTLS,
			want: scramNoPlus + " DIGEST-MD5 CRAM-MD5"},
		{name: "d keeps only EXTERNAL", cfg: opts("Apd", false), s: withCrt, want: "EXTERNAL"},
		{name: "d without certificate offers nothing", cfg: opts("d", false), s: withCB, want: ""},
		{name: "m keeps mutual authentication", cfg: opts("m", false), s: withCB,
			want: "SCRAM-SHA-256-PLUS SCRAM-SHA-256 SCRAM-SHA-1-PLUS SCRAM-SHA-1 DIGEST-MD5"},
		{name: "a keeps SCRAM", cfg: opts("a", false), s: withCrt,
			want: "SCRAM-SHA-256-PLUS SCRAM-SHA-256 SCRAM-SHA-1-PLUS SCRAM-SHA-1"},
		{name: "f excludes everything", cfg: opts("f", false), s: withCrt, want: ""},
		{name: "c keeps credential-passing mechanisms", cfg: opts("c", false), s: withTLS, want: "PLAIN LOGIN"},
		{name: "y excludes nothing", cfg: opts("Apy", false), s: withTLS,
			want: scramNoPlus + " DIGEST-MD5 CRAM-MD5 PLAIN LOGIN"},
		{name: "letters with spaces", cfg: opts("A p m", false), s: noTLS, want: scramNoPlus + " DIGEST-MD5"},
		{name: "configured order is kept",
			cfg: func(a *config.Auth) { a.Mechanisms = []string{"login", "PLAIN", "CRAM-MD5", "login"} },
			s:   withTLS, want: "LOGIN PLAIN CRAM-MD5"},
		{name: "empty mechanisms: no AUTH", cfg: func(a *config.Auth) { a.Mechanisms = nil }, s: withCrt, want: ""},

		{name: "missing CRAM-MD5 secrets hide CRAM-MD5", missing: map[string]int{SecretCRAMMD5: 3}, s: withTLS,
			want: scramNoPlus + " DIGEST-MD5 PLAIN LOGIN"},
		{name: "missing SCRAM-SHA-256 secrets hide it and its -PLUS", missing: map[string]int{SecretSCRAMSHA256: 1}, s: withCB,
			want: "SCRAM-SHA-1-PLUS SCRAM-SHA-1 DIGEST-MD5 CRAM-MD5 PLAIN LOGIN"},
		{name: "missing password hashes hide PLAIN and LOGIN", missing: map[string]int{SecretPassword: 2}, s: withTLS,
			want: scramNoPlus + " DIGEST-MD5 CRAM-MD5"},
		{name: "zero missing hides nothing", missing: map[string]int{SecretDigestMD5: 0}, s: noTLS,
			want: scramNoPlus + " DIGEST-MD5 CRAM-MD5"},

		{name: "network rule narrows and reorders",
			cfg: rules(config.AuthRule{Networks: []string{"192.0.2.0/24"}, Mechanisms: []string{"LOGIN", "PLAIN"}}),
			s:   with(withTLS, func(s *Session) { s.ClientIP = legacyNet }), want: "LOGIN PLAIN"},
		{name: "network rule cannot enable plaintext before TLS",
			cfg: rules(config.AuthRule{Networks: []string{"192.0.2.0/24"}, Mechanisms: []string{"LOGIN", "PLAIN"}}),
			s:   with(noTLS, func(s *Session) { s.ClientIP = legacyNet }), want: ""},
		{name: "network rule does not touch other clients",
			cfg: rules(config.AuthRule{Networks: []string{"192.0.2.0/24"}, Mechanisms: []string{"LOGIN", "PLAIN"}}),
			s:   withTLS, want: scramNoPlus + " DIGEST-MD5 CRAM-MD5 PLAIN LOGIN"},
		{name: "IPv4-mapped client matches IPv4 network",
			cfg: rules(config.AuthRule{Networks: []string{"192.0.2.0/24"}, Mechanisms: []string{"PLAIN"}}),
			s:   with(withTLS, func(s *Session) { s.ClientIP = netip.MustParseAddr("::ffff:192.0.2.10") }), want: "PLAIN"},
		{name: "IPv6 network rule",
			cfg: rules(config.AuthRule{Networks: []string{"2001:db8::/32"}, Mechanisms: []string{"CRAM-MD5"}}),
			s:   with(withTLS, func(s *Session) { s.ClientIP = netip.MustParseAddr("2001:db8:1::5") }), want: "CRAM-MD5"},
		{name: "helo glob matches without case",
			cfg: rules(config.AuthRule{Helo: []string{"*.LEGACY.example"}, Mechanisms: []string{"LOGIN", "PLAIN", "CRAM-MD5"}}),
			s:   with(withTLS, func(s *Session) { s.Helo = "Outlook.legacy.EXAMPLE" }), want: "LOGIN PLAIN CRAM-MD5"},
		{name: "helo glob not matching",
			cfg: rules(config.AuthRule{Helo: []string{"*.legacy.example"}, Mechanisms: []string{"LOGIN"}}),
			s:   with(withTLS, func(s *Session) { s.Helo = "legacy.example" }), want: scramNoPlus + " DIGEST-MD5 CRAM-MD5 PLAIN LOGIN"},
		{name: "network and helo must both match",
			cfg: rules(config.AuthRule{Networks: []string{"192.0.2.0/24"}, Helo: []string{"old-*"}, Mechanisms: []string{"PLAIN"}}),
			s:   with(withTLS, func(s *Session) { s.Helo = "old-pc" }), want: scramNoPlus + " DIGEST-MD5 CRAM-MD5 PLAIN LOGIN"},
		{name: "network and helo both matching",
			cfg: rules(config.AuthRule{Networks: []string{"192.0.2.0/24"}, Helo: []string{"old-*"}, Mechanisms: []string{"PLAIN"}}),
			s:   with(withTLS, func(s *Session) { s.Helo = "old-pc"; s.ClientIP = legacyNet }), want: "PLAIN"},
		{name: "rule limited to another listener",
			cfg: rules(config.AuthRule{Listeners: []string{"smtp"}, Mechanisms: []string{"PLAIN"}}),
			s:   withTLS, want: scramNoPlus + " DIGEST-MD5 CRAM-MD5 PLAIN LOGIN"},
		{name: "rule limited to this listener",
			cfg: rules(config.AuthRule{Listeners: []string{"smtp", "submission"}, Mechanisms: []string{"PLAIN"}}),
			s:   withTLS, want: "PLAIN"},
		{name: "first matching rule wins",
			cfg: rules(
				config.AuthRule{Helo: []string{"nomatch"}, Mechanisms: []string{"LOGIN"}},
				config.AuthRule{Networks: []string{"0.0.0.0/0"}, Mechanisms: []string{"CRAM-MD5"}},
				config.AuthRule{Networks: []string{"0.0.0.0/0"}, Mechanisms: []string{"PLAIN"}}),
			s: withTLS, want: "CRAM-MD5"},
		{name: "rule cannot add a mechanism auth.mechanisms lacks",
			cfg: func(a *config.Auth) {
				a.Mechanisms = []string{"PLAIN"}
				a.Rules = []config.AuthRule{{Helo: []string{"*"}, Mechanisms: []string{"CRAM-MD5", "PLAIN"}}}
			},
			s: withTLS, want: "PLAIN"},
		{name: "rule cannot re-enable an options exclusion",
			cfg: func(a *config.Auth) {
				a.Options = "Apm"
				a.Rules = []config.AuthRule{{Helo: []string{"*"}, Mechanisms: []string{"CRAM-MD5", "DIGEST-MD5"}}}
			},
			s: withTLS, want: "DIGEST-MD5"},
		{name: "rule cannot re-enable a missing secret",
			cfg:     rules(config.AuthRule{Helo: []string{"*"}, Mechanisms: []string{"CRAM-MD5", "PLAIN"}}),
			missing: map[string]int{SecretCRAMMD5: 1}, s: withTLS, want: "PLAIN"},
		{name: "rule with no mechanisms turns AUTH off for its clients",
			cfg: rules(config.AuthRule{Networks: []string{"203.0.113.0/24"}}), s: withCrt, want: ""},
		{name: "client without address does not match networks",
			cfg: rules(config.AuthRule{Networks: []string{"0.0.0.0/0", "::/0"}, Mechanisms: []string{"PLAIN"}}),
			s:   with(withTLS, func(s *Session) { s.ClientIP = netip.Addr{} }), want: scramNoPlus + " DIGEST-MD5 CRAM-MD5 PLAIN LOGIN"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := defaultAuth()
			if tc.cfg != nil {
				tc.cfg(&cfg)
			}
			p := mustPolicy(t, cfg, tc.missing)
			got := strings.Join(p.Offered(tc.s), " ")
			if got != tc.want {
				t.Errorf("Offered = %q, want %q", got, tc.want)
			}
			// Offered and Check must agree for every mechanism.
			offered := p.Offered(tc.s)
			for _, name := range Names() {
				err := p.Check(name, tc.s)
				if (err == nil) != slices.Contains(offered, name) {
					t.Errorf("Check(%s) = %v, but offered = %v", name, err, slices.Contains(offered, name))
				}
			}
		})
	}
}

func TestCheck(t *testing.T) {
	type want struct {
		code     int
		enhanced string
		text     string // substring of the reply text
	}
	ok := want{}
	tests := []struct {
		name    string
		cfg     func(*config.Auth)
		missing map[string]int
		mech    string
		s       Session
		want    want
	}{
		{name: "SCRAM before TLS", mech: "SCRAM-SHA-256", s: noTLS, want: ok},
		{name: "lower-case name", mech: "plain", s: withTLS, want: ok},
		{name: "EXTERNAL with certificate", mech: "EXTERNAL", s: withCrt, want: ok},
		{name: "unknown mechanism", mech: "XOAUTH2", s: withTLS,
			want: want{504, "5.5.4", "Unrecognized authentication type XOAUTH2"}},
		{name: "unknown mechanism with unsafe name is not echoed", mech: "A\r\n250 OK", s: withTLS,
			want: want{504, "5.5.4", "Unrecognized authentication type"}},
		{name: "PLAIN before TLS under p", mech: "PLAIN", s: noTLS,
			want: want{538, "5.7.11", "Encryption required for requested authentication mechanism: PLAIN needs TLS first (auth.options 'p')"}},
		{name: "LOGIN before TLS without p", cfg: func(a *config.Auth) { a.Options = "A" }, mech: "LOGIN", s: noTLS,
			want: want{538, "5.7.11", "LOGIN needs TLS first (auth.allow_plaintext_without_tls is off)"}},
		{name: "LOGIN before TLS allowed", cfg: func(a *config.Auth) { a.Options = "A"; a.AllowPlaintextWithoutTLS = true },
			mech: "LOGIN", s: noTLS, want: ok},
		{name: "-PLUS before TLS", mech: "SCRAM-SHA-256-PLUS", s: noTLS,
			want: want{538, "5.7.11", "SCRAM-SHA-256-PLUS needs TLS with channel binding"}},
		{name: "-PLUS over TLS without channel binding data", mech: "SCRAM-SHA-1-PLUS", s: withTLS,
			want: want{538, "5.7.11", "channel-binding data, which this connection lacks"}},
		{name: "EXTERNAL without certificate", mech: "EXTERNAL", s: withCB,
			want: want{538, "5.7.11", "EXTERNAL needs TLS with a verified client certificate"}},
		{name: "d excludes CRAM-MD5 as too weak", cfg: func(a *config.Auth) { a.Options = "Apd" }, mech: "CRAM-MD5", s: withTLS,
			want: want{534, "5.7.9", "Authentication mechanism is too weak: CRAM-MD5 is excluded by auth.options 'd'"}},
		{name: "m excludes PLAIN as too weak", cfg: func(a *config.Auth) { a.Options = "m" }, mech: "PLAIN", s: withTLS,
			want: want{534, "5.7.9", "auth.options 'm'"}},
		{name: "f excludes SCRAM as too weak", cfg: func(a *config.Auth) { a.Options = "f" }, mech: "SCRAM-SHA-256", s: withTLS,
			want: want{534, "5.7.9", "auth.options 'f'"}},
		{name: "a excludes DIGEST-MD5 as too weak", cfg: func(a *config.Auth) { a.Options = "a" }, mech: "DIGEST-MD5", s: withTLS,
			want: want{534, "5.7.9", "auth.options 'a'"}},
		{name: "c excludes SCRAM, not for weakness", cfg: func(a *config.Auth) { a.Options = "c" }, mech: "SCRAM-SHA-256", s: withTLS,
			want: want{504, "5.5.4", "auth.options 'c'"}},
		{name: "weakness reported before missing TLS", cfg: func(a *config.Auth) { a.Options = "pd" }, mech: "PLAIN", s: noTLS,
			want: want{534, "5.7.9", "auth.options 'd'"}},
		{name: "not in auth.mechanisms", cfg: func(a *config.Auth) { a.Mechanisms = []string{"PLAIN"} }, mech: "CRAM-MD5", s: withTLS,
			want: want{504, "5.5.4", "CRAM-MD5 is not enabled here (auth.mechanisms)"}},
		{name: "missing secret", missing: map[string]int{SecretDigestMD5: 4}, mech: "DIGEST-MD5", s: withTLS,
			want: want{504, "5.5.4", "not every user has a DIGEST-MD5 secret"}},
		{name: "missing secret text has no count", missing: map[string]int{SecretDigestMD5: 4}, mech: "DIGEST-MD5", s: withTLS,
			want: want{504, "5.5.4", "DIGEST-MD5 is not available here"}},
		{name: "excluded by rule",
			cfg: func(a *config.Auth) {
				a.Rules = []config.AuthRule{{Helo: []string{"nomatch"}}, {Networks: []string{"203.0.113.0/24"}, Mechanisms: []string{"PLAIN"}}}
			},
			mech: "SCRAM-SHA-256", s: withTLS,
			want: want{504, "5.5.4", "SCRAM-SHA-256 is not offered to this client (auth.rule[1])"}},
		{name: "rule exclusion reported before missing TLS",
			cfg: func(a *config.Auth) {
				a.Rules = []config.AuthRule{{Helo: []string{"*"}, Mechanisms: []string{"CRAM-MD5"}}}
			},
			mech: "PLAIN", s: noTLS,
			want: want{504, "5.5.4", "auth.rule[0]"}},
		{name: "rule-listed mechanism still needs TLS",
			cfg: func(a *config.Auth) {
				a.Rules = []config.AuthRule{{Helo: []string{"*"}, Mechanisms: []string{"PLAIN"}}}
			},
			mech: "PLAIN", s: noTLS,
			want: want{538, "5.7.11", "PLAIN needs TLS first"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := defaultAuth()
			if tc.cfg != nil {
				tc.cfg(&cfg)
			}
			p := mustPolicy(t, cfg, tc.missing)
			err := p.Check(tc.mech, tc.s)
			if tc.want == ok {
				if err != nil {
					t.Fatalf("Check(%q) = %v, want nil", tc.mech, err)
				}
				return
			}
			var se *smtp.Error
			if !errors.As(err, &se) {
				t.Fatalf("Check(%q) = %v (%T), want *smtp.Error", tc.mech, err, err)
			}
			r := se.Reply
			if r.Code != tc.want.code || r.Enhanced != tc.want.enhanced || !strings.Contains(r.Text, tc.want.text) {
				t.Errorf("Check(%q) = %d %s %q, want %d %s containing %q",
					tc.mech, r.Code, r.Enhanced, r.Text, tc.want.code, tc.want.enhanced, tc.want.text)
			}
			if strings.ContainsAny(r.Text, "\r\n") {
				t.Errorf("reply text %q contains a line break", r.Text)
			}
		})
	}
}

func TestNewPolicyErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  func(*config.Auth)
		want []string // substrings of the error
	}{
		{"unknown mechanisms are all named", func(a *config.Auth) { a.Mechanisms = []string{"PLAIN", "MD5", "XOAUTH2"} },
			[]string{"auth.mechanisms", `"MD5"`, `"XOAUTH2"`}},
		{"unknown option letter", func(a *config.Auth) { a.Options = "Apx" },
			[]string{"auth.options", "'x'"}},
		{"postfix-style option word", func(a *config.Auth) { a.Options = "noplaintext" },
			[]string{"auth.options", "'n'"}},
		{"bad rule network", func(a *config.Auth) { a.Rules = []config.AuthRule{{Networks: []string{"192.0.2.1/33"}}} },
			[]string{"auth.rule[0].networks", "192.0.2.1/33"}},
		{"bad rule helo pattern", func(a *config.Auth) {
			a.Rules = []config.AuthRule{{Helo: []string{"ok"}}, {Helo: []string{"[bad"}}}
		}, []string{"auth.rule[1].helo", "[bad"}},
		{"bad rule listener", func(a *config.Auth) { a.Rules = []config.AuthRule{{Listeners: []string{"smtps"}}} },
			[]string{"auth.rule[0].listeners", "smtps"}},
		{"unknown rule mechanism", func(a *config.Auth) { a.Rules = []config.AuthRule{{Mechanisms: []string{"NTLM"}}} },
			[]string{"auth.rule[0].mechanisms", `"NTLM"`}},
		{"negative failure delay", func(a *config.Auth) { a.FailureDelay.Duration = -1 },
			[]string{"auth.failure_delay"}},
		{"negative lockout failures", func(a *config.Auth) { a.LockoutFailures = -1 },
			[]string{"auth.lockout_failures"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := defaultAuth()
			tc.cfg(&cfg)
			p, err := NewPolicy(cfg, nil, nil)
			if err == nil {
				t.Fatalf("NewPolicy succeeded (%v), want an error", p)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestNewPolicyLogs(t *testing.T) {
	tests := []struct {
		name    string
		cfg     func(*config.Auth)
		missing map[string]int
		want    []string // substrings, each expected exactly once
		absent  []string
	}{
		{name: "defaults log nothing", absent: []string{"level="}},
		{name: "missing secrets", missing: map[string]int{SecretCRAMMD5: 3, SecretPassword: 1},
			want: []string{
				"CRAM-MD5 not offered: 3 users have no CRAM-MD5 secret (passwords set before it was enabled); run postgate user passwd",
				"PLAIN not offered: 1 user has no password hash",
				"LOGIN not offered: 1 user has no password hash",
			}},
		{name: "missing secret of an unconfigured mechanism is not logged",
			cfg:     func(a *config.Auth) { a.Mechanisms = []string{"PLAIN"} },
			missing: map[string]int{SecretCRAMMD5: 3}, absent: []string{"CRAM-MD5"}},
		{name: "options exclusion", cfg: func(a *config.Auth) { a.Options = "Apm" },
			want:   []string{"CRAM-MD5 not offered: excluded by auth.options 'm'", "PLAIN not offered", "EXTERNAL not offered"},
			absent: []string{"DIGEST-MD5 not offered", "never be offered"}},
		{name: "nothing offerable", cfg: func(a *config.Auth) { a.Options = "Af" },
			want: []string{"SMTP AUTH will never be offered"}},
		{name: "plaintext without TLS", cfg: func(a *config.Auth) { a.Options = "A"; a.AllowPlaintextWithoutTLS = true },
			want: []string{"level=WARN", "allow_plaintext_without_tls is on: PLAIN and LOGIN are offered before TLS"}},
		{name: "plaintext without TLS overridden by p", cfg: func(a *config.Auth) { a.AllowPlaintextWithoutTLS = true },
			want: []string{"has no effect: auth.options 'p'"}},
		{name: "no A", cfg: func(a *config.Auth) { a.Options = "p" },
			want: []string{"auth.options lacks 'A'"}},
		{name: "rule lists disabled mechanism", cfg: func(a *config.Auth) {
			a.Mechanisms = []string{"PLAIN"}
			a.Rules = []config.AuthRule{{Helo: []string{"*"}, Mechanisms: []string{"CRAM-MD5", "PLAIN"}}}
		}, want: []string{"auth.rule[0] lists mechanisms auth.mechanisms does not enable", "mechanisms=CRAM-MD5"}},
		{name: "AUTH off", cfg: func(a *config.Auth) { a.Mechanisms = nil },
			want: []string{"SMTP AUTH is off"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
			cfg := defaultAuth()
			if tc.cfg != nil {
				tc.cfg(&cfg)
			}
			if _, err := NewPolicy(cfg, tc.missing, log); err != nil {
				t.Fatal(err)
			}
			out := buf.String()
			for _, w := range tc.want {
				if n := strings.Count(out, w); n != 1 {
					t.Errorf("log has %q %d times, want once; log:\n%s", w, n, out)
				}
			}
			for _, a := range tc.absent {
				if strings.Contains(out, a) {
					t.Errorf("log contains %q; log:\n%s", a, out)
				}
			}
		})
	}
}

func TestTrustMailAuth(t *testing.T) {
	tests := []struct {
		options       string
		authenticated bool
		want          bool
	}{
		{"Ap", true, true},
		{"Ap", false, false},
		{"p", true, true},
		{"p", false, true},
	}
	for _, tc := range tests {
		cfg := defaultAuth()
		cfg.Options = tc.options
		p := mustPolicy(t, cfg, nil)
		if got := p.TrustMailAuth(tc.authenticated); got != tc.want {
			t.Errorf("options %q: TrustMailAuth(%v) = %v, want %v", tc.options, tc.authenticated, got, tc.want)
		}
	}
}

func TestBrokenClientsLine(t *testing.T) {
	tests := []struct {
		name string
		cfg  func(*config.Auth)
		s    Session
		want string
	}{
		{"off", func(a *config.Auth) {}, withTLS, ""},
		{"on after TLS", func(a *config.Auth) { a.BrokenClients = true }, withTLS, "AUTH=LOGIN PLAIN"},
		{"on before TLS: nothing old-style offered", func(a *config.Auth) { a.BrokenClients = true }, noTLS, ""},
		{"on, plaintext allowed before TLS", func(a *config.Auth) {
			a.BrokenClients = true
			a.Options = "A"
			a.AllowPlaintextWithoutTLS = true
		}, noTLS, "AUTH=LOGIN PLAIN"},
		{"rule offers only PLAIN", func(a *config.Auth) {
			a.BrokenClients = true
			a.Rules = []config.AuthRule{{Helo: []string{"*"}, Mechanisms: []string{"SCRAM-SHA-256", "PLAIN"}}}
		}, withTLS, "AUTH=PLAIN"},
		{"only LOGIN configured", func(a *config.Auth) {
			a.BrokenClients = true
			a.Mechanisms = []string{"LOGIN"}
			a.Options = "Apc"
		}, withTLS, "AUTH=LOGIN"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := defaultAuth()
			tc.cfg(&cfg)
			p := mustPolicy(t, cfg, nil)
			if got := p.BrokenClientsLine(tc.s); got != tc.want {
				t.Errorf("BrokenClientsLine = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestLookup(t *testing.T) {
	tests := []struct {
		name   string
		ok     bool
		secret string
		check  func(Mechanism) bool
	}{
		{"PLAIN", true, SecretPassword, func(m Mechanism) bool { return m.Plaintext && m.PassCredentials && !m.NeedsTLS }},
		{"login", true, SecretPassword, func(m Mechanism) bool { return m.Name == "LOGIN" && m.Plaintext }},
		{"CRAM-MD5", true, SecretCRAMMD5, func(m Mechanism) bool { return !m.Plaintext && m.DictionaryAttackable && !m.MutualAuth }},
		{"DIGEST-MD5", true, SecretDigestMD5, func(m Mechanism) bool { return m.MutualAuth && m.ActiveAttackable }},
		{"SCRAM-SHA-1", true, SecretSCRAMSHA1, func(m Mechanism) bool { return m.MutualAuth && !m.ActiveAttackable && !m.NeedsTLS }},
		{"SCRAM-SHA-256-PLUS", true, SecretSCRAMSHA256, func(m Mechanism) bool { return m.NeedsChannelBinding && m.NeedsTLS }},
		{"EXTERNAL", true, "", func(m Mechanism) bool { return m.NeedsClientCert && m.NeedsTLS && !m.DictionaryAttackable }},
		{"GSSAPI", false, "", nil},
	}
	for _, tc := range tests {
		m, ok := Lookup(tc.name)
		if ok != tc.ok {
			t.Errorf("Lookup(%q) ok = %v, want %v", tc.name, ok, tc.ok)
			continue
		}
		if !ok {
			continue
		}
		if m.NeedsSecret != tc.secret {
			t.Errorf("Lookup(%q).NeedsSecret = %q, want %q", tc.name, m.NeedsSecret, tc.secret)
		}
		if !tc.check(m) {
			t.Errorf("Lookup(%q) = %+v: properties wrong", tc.name, m)
		}
	}
	for _, m := range mechanisms {
		if m.ForwardSecrecy || m.Anonymous {
			t.Errorf("%s: no implemented mechanism has forward secrecy or is anonymous", m.Name)
		}
	}
}
