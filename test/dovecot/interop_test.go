package dovecot

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"postgate/internal/probe"
	"postgate/internal/probe/probetest"
	"postgate/internal/sasl"
	"postgate/internal/smtp"
	"postgate/internal/smtpclient"
)

// dovecotMechanisms are the mechanisms the configuration enables. Debian
// 12's Dovecot 2.3.19 implements all of them; it has no SCRAM-*-PLUS
// (channel binding came with Dovecot 2.4), so none is offered.
var dovecotMechanisms = []string{"PLAIN", "LOGIN", "CRAM-MD5", "DIGEST-MD5", "SCRAM-SHA-1", "SCRAM-SHA-256"}

func TestDovecot(t *testing.T) {
	pg := probetest.Start(t, probetest.Options{Users: map[string]string{
		"alice@example.test": "pg-alice", "carol@example.test": "pg-carol"}})
	_, relayPort, _ := net.SplitHostPort(pg.Addr["smtp"])
	port, _ := strconv.Atoi(relayPort)
	dc := startDovecot(t, port)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	// connect dials Dovecot, says EHLO, upgrades with STARTTLS when asked
	// and says EHLO again.
	connect := func(t *testing.T, useTLS bool) (*smtpclient.Client, *smtpclient.Extensions) {
		t.Helper()
		c, err := smtpclient.Dial(ctx, dc.Addr, smtpclient.Options{CommandTimeout: 30 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		ext, err := c.Ehlo("client.example.test")
		if err != nil {
			t.Fatal(err)
		}
		if useTLS {
			if !ext.Has("STARTTLS") {
				t.Fatalf("Dovecot does not offer STARTTLS: %+v", ext.List)
			}
			if err := c.StartTLS(&tls.Config{RootCAs: dc.Roots, ServerName: "dovecot.example.test"}); err != nil {
				t.Fatal(err)
			}
			if ext, err = c.Ehlo("client.example.test"); err != nil {
				t.Fatal(err)
			}
		}
		return c, ext
	}

	for _, useTLS := range []bool{true, false} {
		state := map[bool]string{true: "STARTTLS", false: "no TLS"}[useTLS]
		t.Run("advertised/"+state, func(t *testing.T) {
			_, ext := connect(t, useTLS)
			got := ext.AuthMechanisms
			// Dovecot counts loopback connections as secured, so it
			// offers PLAIN and LOGIN even without TLS.
			if !slices.Equal(got, dovecotMechanisms) {
				t.Errorf("AUTH %v, want %v", got, dovecotMechanisms)
			}
		})
		for _, mech := range dovecotMechanisms {
			for _, right := range []bool{true, false} {
				name := state + "/" + mech + "/" + map[bool]string{true: "right password", false: "wrong password"}[right]
				t.Run("auth/"+name, func(t *testing.T) {
					c, ext := connect(t, useTLS)
					if !ext.OffersMechanism(mech) {
						t.Fatalf("%s not offered: %v", mech, ext.AuthMechanisms)
					}
					pw := alicePassword
					if !right {
						pw = "not-" + alicePassword
					}
					m, err := sasl.NewClient(mech, sasl.ClientCredentials{User: alice, Password: pw},
						sasl.ClientInfo{Service: "smtp", Host: "127.0.0.1"})
					if err != nil {
						t.Fatal(err)
					}
					res, err := c.Auth(m)
					transcript := func() string {
						var b strings.Builder
						for _, s := range res.Transcript {
							b.WriteString(s.Dir + ": " + strconv.Itoa(s.Code) + " " + s.Text + "\n")
						}
						return b.String()
					}
					if right {
						if err != nil || res.Reply.Code != 235 {
							t.Fatalf("Auth: %v\n%s", err, transcript())
						}
						wantVerified := mech == "DIGEST-MD5" || strings.HasPrefix(mech, "SCRAM-")
						if res.ServerVerified != wantVerified {
							t.Errorf("ServerVerified = %v, want %v\n%s", res.ServerVerified, wantVerified, transcript())
						}
					} else {
						var se *smtp.Error
						if !errors.As(err, &se) || se.Reply.Code != 535 {
							t.Fatalf("wrong password: err %v, want a 535\n%s", err, transcript())
						}
					}
					if strings.Contains(transcript(), pw) {
						t.Errorf("password in transcript")
					}
				})
			}
		}
	}

	// Dovecot 2.3 has no channel binding: -PLUS must not be offered and an
	// attempt must be refused. Should a later Dovecot offer it, it must work.
	t.Run("auth/SCRAM-SHA-256-PLUS", func(t *testing.T) {
		c, ext := connect(t, true)
		m, _ := sasl.NewClient(sasl.SCRAMSHA256Plus, sasl.ClientCredentials{User: alice, Password: alicePassword},
			sasl.ClientInfo{Service: "smtp", Host: "127.0.0.1", ChannelBindings: c.ChannelBindings()})
		res, err := c.Auth(m)
		var se *smtp.Error
		switch {
		case ext.OffersMechanism(sasl.SCRAMSHA256Plus):
			if err != nil || !res.ServerVerified {
				t.Errorf("advertised SCRAM-SHA-256-PLUS: err %v, verified %v", err, res.ServerVerified)
			}
		case !errors.As(err, &se) || se.Reply.Code/100 != 5:
			t.Errorf("unadvertised SCRAM-SHA-256-PLUS: err %v, want a 5xx refusal", err)
		}
	})

	t.Run("message relayed to postgate", func(t *testing.T) {
		c, _ := connect(t, true)
		m, _ := sasl.NewClient(sasl.SCRAMSHA256, sasl.ClientCredentials{User: alice, Password: alicePassword},
			sasl.ClientInfo{Service: "smtp", Host: "127.0.0.1"})
		if _, err := c.Auth(m); err != nil {
			t.Fatal(err)
		}
		if err := c.Mail(alice); err != nil {
			t.Fatal(err)
		}
		if err := c.Rcpt("carol@example.test"); err != nil {
			t.Fatal(err)
		}
		msg := "From: <alice@example.test>\nTo: <carol@example.test>\nSubject: via dovecot\nDate: Thu, 1 Jan 2026 00:00:00 +0000\nMessage-ID: <interop@example.test>\n\n.leading dot\nbody\n"
		if _, err := c.Data(strings.NewReader(msg)); err != nil {
			t.Fatal(err)
		}
		if err := c.Quit(); err != nil {
			t.Fatal(err)
		}
		ids, err := pg.Spool.List()
		if err != nil || len(ids) != 1 {
			t.Fatalf("postgate spool: %v %v", ids, err)
		}
		rc, err := pg.Spool.OpenMessage(ids[0])
		if err != nil {
			t.Fatal(err)
		}
		defer rc.Close()
		body, _ := io.ReadAll(rc)
		for _, want := range []string{"Subject: via dovecot", "\r\n.leading dot\r\n"} {
			if !bytes.Contains(body, []byte(want)) {
				t.Errorf("relayed message lacks %q:\n%s", want, body)
			}
		}
	})

	t.Run("probe", func(t *testing.T) {
		tests := []struct {
			name      string
			user, pw  string
			succeeded bool
			outcomes  map[string]probe.Outcome
			hints     map[string]string
			best      string
			wouldFail []string
			text      []string
		}{
			{name: "plaintext-stored user", user: alice, pw: alicePassword, succeeded: true,
				outcomes: map[string]probe.Outcome{"SCRAM-SHA-256": probe.OK, "SCRAM-SHA-1": probe.OK, "DIGEST-MD5": probe.OK,
					"CRAM-MD5": probe.OK, "PLAIN": probe.OK, "LOGIN": probe.OK},
				best: "SCRAM-SHA-256",
				text: []string{"SCRAM-SHA-256  yes         yes        ok      3", "PLAIN          yes         yes        ok      1",
					"verifies for 127.0.0.1: yes", "use SCRAM-SHA-256"}},
			{name: "one-way hash: mechanisms Dovecot advertises but cannot run", user: bob, pw: bobPassword, succeeded: true,
				outcomes: map[string]probe.Outcome{"SCRAM-SHA-256": probe.Failed, "SCRAM-SHA-1": probe.Failed,
					"DIGEST-MD5": probe.Failed, "CRAM-MD5": probe.Failed, "PLAIN": probe.OK, "LOGIN": probe.OK},
				hints: map[string]string{"CRAM-MD5": "the password is right (PLAIN worked)",
					"DIGEST-MD5":    "server realm is example.test; digest-uri sent smtp/127.0.0.1",
					"SCRAM-SHA-256": "no usable SCRAM-SHA-256 secret for this user"},
				best:      "PLAIN",
				wouldFail: []string{"SCRAM-SHA-256", "SCRAM-SHA-1", "DIGEST-MD5", "CRAM-MD5"},
				text:      []string{"CRAM-MD5       yes         yes        failed", "SCRAM-SHA-256 is advertised and stronger than PLAIN but fails"}},
			{name: "wrong password", user: alice, pw: "xq-not-the-password", succeeded: false,
				outcomes: map[string]probe.Outcome{"SCRAM-SHA-256": probe.Failed, "PLAIN": probe.Failed},
				hints:    map[string]string{"PLAIN": "wrong user name or password"},
				text:     []string{"no mechanism worked"}},
			{name: "no credentials", succeeded: true,
				outcomes: map[string]probe.Outcome{"SCRAM-SHA-256": probe.Refused, "DIGEST-MD5": probe.Skipped, "PLAIN": probe.Skipped},
				text:     []string{"bogus login was refused by every mechanism"}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				rep, err := probe.Run(ctx, probe.Options{Target: dc.Addr, Mode: probe.ModeStartTLS,
					User: tt.user, Password: tt.pw, RootCAs: dc.Roots, Helo: "client.example.test"})
				if err != nil {
					t.Fatal(err)
				}
				var text bytes.Buffer
				rep.WriteText(&text, false)
				defer func() {
					if t.Failed() {
						t.Logf("report:\n%s", text.String())
					}
				}()
				if rep.Error != "" || rep.Succeeded() != tt.succeeded {
					t.Fatalf("error %q, succeeded %v, want %v", rep.Error, rep.Succeeded(), tt.succeeded)
				}
				if rep.TLS == nil || !rep.TLS.Verified {
					t.Errorf("TLS %+v: want a certificate that verifies for 127.0.0.1", rep.TLS)
				}
				got := map[string]probe.Result{}
				for _, r := range rep.Results {
					got[r.Mechanism] = r
				}
				if len(rep.Results) != len(dovecotMechanisms) {
					t.Errorf("%d results, want one per advertised mechanism", len(rep.Results))
				}
				for mech, want := range tt.outcomes {
					if got[mech].Outcome != want {
						t.Errorf("%s: %s (%s), want %s", mech, got[mech].Outcome, got[mech].Reason, want)
					}
				}
				for mech, want := range tt.hints {
					if !strings.Contains(got[mech].Hint, want) {
						t.Errorf("%s hint %q lacks %q", mech, got[mech].Hint, want)
					}
				}
				if tt.best != "" && rep.Recommendation.Best != tt.best {
					t.Errorf("best %q, want %q", rep.Recommendation.Best, tt.best)
				}
				if tt.wouldFail != nil && !slices.Equal(rep.Recommendation.WouldFail, tt.wouldFail) {
					t.Errorf("would fail %v, want %v", rep.Recommendation.WouldFail, tt.wouldFail)
				}
				for _, s := range tt.text {
					if !strings.Contains(text.String(), s) {
						t.Errorf("report lacks %q", s)
					}
				}
				if tt.pw != "" && strings.Contains(text.String(), tt.pw) {
					t.Error("password in the report")
				}
			})
		}
	})
}
