package metrics

import (
	"bufio"
	"context"
	"crypto/tls"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"postgate/internal/smtp"
)

// scrape fetches url and returns every sample as "name{labels}" → value.
func scrape(t *testing.T, url string) map[string]float64 {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("bad sample line %q", line)
		}
		out[line[:i]] = v
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func serveTest(t *testing.T, m *Metrics) string {
	t.Helper()
	e, err := m.Serve("127.0.0.1:0", false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := e.Close(context.Background()); err != nil {
			t.Error(err)
		}
	})
	return "http://" + e.Addr() + "/metrics"
}

func TestScrapeCountersMove(t *testing.T) {
	m := New()
	url := serveTest(t, m)

	before := scrape(t, url)
	for _, k := range []string{
		`postgate_sessions_total{listener="smtp"}`,
		`postgate_sessions_total{listener="local"}`,
		`postgate_deliveries_total{outcome="deferred",transport="smtp"}`,
		`postgate_queue_messages`,
		`postgate_queue_oldest_age_seconds`,
	} {
		if v, ok := before[k]; !ok || v != 0 {
			t.Errorf("before any event: %s = %v, present %v; want 0, present", k, v, ok)
		}
	}

	m.SessionStarted("smtp")
	m.SessionStarted("smtp")
	m.SessionStarted("submission")
	m.SessionEnded("smtp")
	m.SessionStarted("evil\nlistener")
	m.ConnectionRefused("smtp")
	m.TLSEstablished(tls.VersionTLS13)
	m.TLSEstablished(0x0300)
	m.TLSFailed("submissions")
	m.AuthAttempt("scram-sha-256", true, "")
	m.AuthAttempt("PLAIN", false, "wrong password")
	m.AuthAttempt("PLAIN", false, "unknown user")
	m.AuthAttempt("X-MADE-UP-BY-CLIENT", false, "Unrecognized authentication type")
	m.MessageAccepted("local", 1234)
	m.MessageRejected(StageRcpt, RejectRelayDenied)
	m.MessageRejected("bogus", "user-controlled text")
	m.Delivery(TransportMaildir, OutcomeDelivered)
	m.Delivery("carrier-pigeon", "lost")
	m.FsyncSeconds(3 * time.Millisecond)
	m.RegisterQueue(func() (int, time.Duration) { return 7, 90 * time.Second })

	after := scrape(t, url)
	want := map[string]float64{
		`postgate_sessions_total{listener="smtp"}`:                                                 2,
		`postgate_sessions_total{listener="submission"}`:                                           1,
		`postgate_sessions_total{listener="other"}`:                                                1,
		`postgate_sessions_active{listener="smtp"}`:                                                1,
		`postgate_connections_refused_total{listener="smtp"}`:                                      1,
		`postgate_tls_sessions_total{version="1.3"}`:                                               1,
		`postgate_tls_sessions_total{version="other"}`:                                             1,
		`postgate_tls_handshake_failures_total{listener="submissions"}`:                            1,
		`postgate_auth_attempts_total{mechanism="SCRAM-SHA-256",reason="none",result="success"}`:   1,
		`postgate_auth_attempts_total{mechanism="PLAIN",reason="wrong_password",result="failure"}`: 1,
		`postgate_auth_attempts_total{mechanism="PLAIN",reason="unknown_user",result="failure"}`:   1,
		`postgate_auth_attempts_total{mechanism="other",reason="not_allowed",result="failure"}`:    1,
		`postgate_messages_accepted_total{listener="local"}`:                                       1,
		`postgate_message_bytes_accepted_total{listener="local"}`:                                  1234,
		`postgate_messages_rejected_total{reason="relay_denied",stage="rcpt"}`:                     1,
		`postgate_messages_rejected_total{reason="other",stage="other"}`:                           1,
		`postgate_deliveries_total{outcome="delivered",transport="maildir"}`:                       1,
		`postgate_deliveries_total{outcome="other",transport="other"}`:                             1,
		`postgate_spool_fsync_seconds_count`:                                                       1,
		`postgate_spool_fsync_seconds_bucket{le="0.005"}`:                                          1,
		`postgate_spool_fsync_seconds_bucket{le="0.0025"}`:                                         0,
		`postgate_queue_messages`:                                                                  7,
		`postgate_queue_oldest_age_seconds`:                                                        90,
	}
	for k, v := range want {
		got, ok := after[k]
		if !ok {
			t.Errorf("missing sample %s", k)
			continue
		}
		if got != v {
			t.Errorf("%s = %v, want %v", k, got, v)
		}
	}
	for k := range after {
		if strings.Contains(k, "evil") || strings.Contains(k, "MADE-UP") || strings.Contains(k, "pigeon") || strings.Contains(k, "user-controlled") {
			t.Errorf("client-chosen text reached a label: %s", k)
		}
	}
	if _, ok := after["go_goroutines"]; !ok {
		t.Error("Go runtime collector missing")
	}
}

func TestServeOtherPaths404(t *testing.T) {
	url := serveTest(t, New())
	resp, err := http.Get(strings.TrimSuffix(url, "/metrics") + "/debug/pprof/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("status %d, want 404", resp.StatusCode)
	}
}

func TestNilMetricsIsNoop(t *testing.T) {
	var m *Metrics
	// None of these may panic.
	m.SessionStarted("smtp")
	m.SessionEnded("smtp")
	m.ConnectionRefused("smtp")
	m.TLSEstablished(tls.VersionTLS12)
	m.TLSFailed("smtp")
	m.AuthAttempt("PLAIN", false, "x")
	m.MessageAccepted("smtp", 1)
	m.MessageRejected(StageMail, RejectSyntax)
	m.Delivery(TransportSMTP, OutcomeFailed)
	m.FsyncSeconds(time.Second)
	m.RegisterQueue(nil)
	if m.Registry() != nil {
		t.Error("nil Metrics has a registry")
	}
}

func TestCheckAddr(t *testing.T) {
	tests := []struct {
		addr    string
		allow   bool
		wantErr bool
	}{
		{"127.0.0.1:9100", false, false},
		{"127.1.2.3:9100", false, false},
		{"[::1]:9100", false, false},
		{"localhost:9100", false, false},
		{"LOCALHOST:9100", false, false},
		{"[::ffff:127.0.0.1]:9100", false, false},
		{":9100", false, true},
		{"0.0.0.0:9100", false, true},
		{"[::]:9100", false, true},
		{"192.0.2.1:9100", false, true},
		{"metrics.example.org:9100", false, true},
		{"0.0.0.0:9100", true, false},
		{":9100", true, false},
		{"127.0.0.1", false, true},
		{"127.0.0.1:", false, true},
	}
	for _, tt := range tests {
		err := CheckAddr(tt.addr, tt.allow)
		if (err != nil) != tt.wantErr {
			t.Errorf("CheckAddr(%q, %v) = %v, want error %v", tt.addr, tt.allow, err, tt.wantErr)
		}
	}
	if _, err := New().Serve("0.0.0.0:0", false); err == nil {
		t.Error("Serve accepted a wildcard address without allowNonLoopback")
	}
}

func TestReasonClass(t *testing.T) {
	tests := []struct{ reason, want string }{
		{"unknown user", ReasonUnknownUser},
		{"wrong password", ReasonWrongPassword},
		{`no user mapped to client certificate subject "CN=x"`, ReasonUnknownUser},
		{"no SCRAM-SHA-256 secret stored for user (password set before the mechanism was enabled?)", ReasonMissingSecret},
		{"bad response format: 1 NUL separators, want 2 (authzid NUL authcid NUL passwd)", ReasonMalformed},
		{"bad response format: digest-uri missing", ReasonMalformed},
		{"bad base64 in initial response", ReasonMalformed},
		{"response line too long", ReasonMalformed},
		{"step out of order", ReasonMalformed},
		{"bad client-final message: proof is 3 bytes, SHA-256 needs 32", ReasonMalformed},
		{`digest-uri "imap/mail.example.org" names service "imap", want "smtp"`, ReasonDigestURI},
		{`realm "x" not offered (offered [a]) and no secret stored for it`, ReasonRealm},
		{"nonce does not match the one issued", ReasonNonce},
		{"nonce stale (response 10m after the challenge, limit 5m)", ReasonNonce},
		{"channel binding mismatch", ReasonChannelBinding},
		{"channel binding downgrade: client sent y but server supports channel binding", ReasonChannelBinding},
		{"no verified client certificate", ReasonCertificate},
		{"Encryption required for requested authentication mechanism: PLAIN needs TLS first (auth.options 'p')", ReasonTLSRequired},
		{"Encryption required for requested authentication mechanism: SCRAM-SHA-256-PLUS needs TLS with channel binding", ReasonTLSRequired},
		{`user "alice" may not act as "bob"`, ReasonNotAllowed},
		{"Unrecognized authentication type: CRAM-MD5 is not enabled here (auth.mechanisms)", ReasonNotAllowed},
		{"user locked out after repeated failures", ReasonLockedOut},
		{"credentials lookup failed", ReasonTemporary},
		{"auth cancelled by client", ReasonCancelled},
		{"something entirely new", ReasonOther},
		{"", ReasonOther},
	}
	valid := map[string]bool{}
	for _, c := range ReasonClasses() {
		valid[c] = true
	}
	for _, tt := range tests {
		got := ReasonClass(tt.reason)
		if got != tt.want {
			t.Errorf("ReasonClass(%q) = %q, want %q", tt.reason, got, tt.want)
		}
		if !valid[got] {
			t.Errorf("ReasonClass(%q) = %q, not in ReasonClasses()", tt.reason, got)
		}
	}
}

func TestRejectReasonOf(t *testing.T) {
	tests := []struct {
		r    smtp.Reply
		want string
	}{
		{smtp.ReplyRelayDenied, RejectRelayDenied},
		{smtp.ReplyAuthRequired, RejectAuthRequired},
		{smtp.ReplyTooBig, RejectTooBig},
		{smtp.ReplyShuttingDown, RejectShuttingDown},
		{smtp.ReplyLocalError, RejectTemporary},
		{smtp.ReplyBadParameter, RejectSyntax},
		{smtp.R(550, "5.1.1", "No such user"), RejectUnknownUser},
		{smtp.R(501, "5.1.3", "Bad recipient address syntax"), RejectBadAddress},
		{smtp.R(553, "5.7.1", "Sender address <a@b> not owned by user c"), RejectSenderDenied},
		{smtp.R(452, "4.5.3", "Too many recipients"), RejectTooManyRcpts},
		{smtp.R(554, "5.6.0", "Bare LF"), RejectContent},
		{smtp.R(554, "5.0.0", "Rejected"), RejectOther},
	}
	for _, tt := range tests {
		if got := RejectReasonOf(tt.r); got != tt.want {
			t.Errorf("RejectReasonOf(%d %s %s) = %q, want %q", tt.r.Code, tt.r.Enhanced, tt.r.Text, got, tt.want)
		}
	}
}

func TestMechanismLabel(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain", "PLAIN"},
		{"SCRAM-SHA-256-PLUS", "SCRAM-SHA-256-PLUS"},
		{"cram-md5", "CRAM-MD5"},
		{"X-UNKNOWN", "other"},
		{"", "other"},
	}
	for _, tt := range tests {
		if got := MechanismLabel(tt.in); got != tt.want {
			t.Errorf("MechanismLabel(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
