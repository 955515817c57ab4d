package probe

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"time"

	"postgate/internal/sasl"
	"postgate/internal/smtpclient"
)

// Options configure a probe.
type Options struct {
	// Target is HOST[:PORT]; see ResolveTarget for the default port and mode.
	Target string
	// Mode overrides the mode chosen from the port ("" = from the port).
	Mode Mode
	// User and Password are the credentials to test; without a User the
	// probe checks that a bogus login is refused.
	User, Password string
	// Mechs are mechanisms to try besides the advertised ones.
	Mechs []string
	// Helo is the name sent in EHLO; "" means "localhost".
	Helo string
	// Timeout bounds each connection; 0 means 30 seconds.
	Timeout time.Duration
	// RootCAs verify the server's certificate; nil means the system roots.
	RootCAs *x509.CertPool
	// Trace, when set, receives the protocol lines of every connection,
	// labelled with the connection's purpose; secrets are redacted.
	Trace func(label, dir, line string)
}

// session is one connection of the probe, up to the point of AUTH.
type session struct {
	c       *smtpclient.Client
	before  *smtpclient.Extensions
	after   *smtpclient.Extensions
	tlsUsed bool
	cancel  context.CancelFunc
}

// quit ends the session politely and releases its context.
func (s *session) quit() {
	s.c.Quit()
	s.cancel()
}

// Run probes the server and returns the report. It returns an error only
// for bad options; connection failures are in Report.Error.
func Run(ctx context.Context, opt Options) (*Report, error) {
	host, addr, mode, err := ResolveTarget(opt.Target, opt.Mode)
	if err != nil {
		return nil, err
	}
	if opt.Helo == "" {
		opt.Helo = "localhost"
	}
	if opt.Timeout <= 0 {
		opt.Timeout = 30 * time.Second
	}
	rep := &Report{Target: opt.Target, Host: host, Address: addr, Mode: mode,
		Credentials: opt.User != "", User: opt.User}
	p := &prober{opt: opt, host: host, addr: addr, mode: mode}

	// The first connection: greeting, EHLO, TLS, EHLO again.
	s, err := p.connect(ctx, "discover")
	if s != nil {
		p.describe(rep, s)
		s.quit()
	}
	if err != nil {
		rep.Error = clean(err.Error())
		return rep, nil
	}

	tried := false
	for _, mech := range p.candidates(rep) {
		// Without credentials one bogus login shows the server refuses
		// strangers; more would only slow this address down and count
		// toward the server's lockout (postgate's included).
		if !rep.Credentials && len(p.opt.Mechs) == 0 && tried {
			rep.Results = append(rep.Results, p.skip(rep, mech,
				"not tried: without --user one bogus login is enough, and each failure counts toward lockouts"))
			continue
		}
		r := p.try(ctx, rep, mech)
		tried = tried || r.Outcome != Skipped
		rep.Results = append(rep.Results, r)
	}
	diagnose(rep)
	rep.Recommendation = recommend(rep)
	return rep, nil
}

type prober struct {
	opt  Options
	host string
	addr string
	mode Mode
}

// connect opens a connection and brings it to the state in which AUTH is
// tried. On error after the greeting, the session is returned too (with
// what was seen) and its connection is already closed.
func (p *prober) connect(ctx context.Context, label string) (*session, error) {
	ctx, cancel := context.WithTimeout(ctx, p.opt.Timeout)
	copt := smtpclient.Options{CommandTimeout: p.opt.Timeout, TLSConfig: p.tlsConfig()}
	if p.opt.Trace != nil {
		copt.Trace = func(dir, line string) { p.opt.Trace(label, dir, line) }
	}
	copt.ImplicitTLS = p.mode == ModeTLS
	c, err := smtpclient.Dial(ctx, p.addr, copt)
	if err != nil {
		cancel()
		var ne net.Error
		if p.mode != ModeTLS && errors.As(err, &ne) && ne.Timeout() {
			return nil, fmt.Errorf("connecting to %s: no greeting: %w (if the port expects TLS at once, use --tls)", p.addr, err)
		}
		return nil, fmt.Errorf("connecting to %s: %w", p.addr, err)
	}
	s := &session{c: c, tlsUsed: p.mode == ModeTLS, cancel: cancel}
	fail := func(err error) (*session, error) {
		c.Close()
		cancel()
		return s, err
	}
	ext, err := c.Ehlo(p.opt.Helo)
	if err != nil {
		return fail(fmt.Errorf("EHLO: %w", err))
	}
	if p.mode == ModeTLS {
		s.after = ext
		return s, nil
	}
	s.before = ext
	useTLS := p.mode == ModeStartTLS || (p.mode == ModeAuto && ext.Has("STARTTLS"))
	if !useTLS {
		return s, nil
	}
	if !ext.Has("STARTTLS") {
		return fail(errors.New("server does not offer STARTTLS (use --plain to probe without TLS)"))
	}
	if err := c.StartTLS(p.tlsConfig()); err != nil {
		return fail(fmt.Errorf("STARTTLS: %w", err))
	}
	s.tlsUsed = true
	if s.after, err = c.Ehlo(p.opt.Helo); err != nil {
		return fail(fmt.Errorf("EHLO after STARTTLS: %w", err))
	}
	return s, nil
}

// tlsConfig accepts any certificate: verification is done and reported
// separately, and the probe goes on either way.
func (p *prober) tlsConfig() *tls.Config {
	cfg := &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS10}
	if net.ParseIP(p.host) == nil {
		cfg.ServerName = p.host
	}
	return cfg
}

// describe fills the report from the discovery session.
func (p *prober) describe(rep *Report, s *session) {
	rep.Greeting = clean(s.c.Greeting().Text)
	if s.before != nil {
		rep.EhloBeforeTLS, rep.MechsBeforeTLS = extLines(s.before), nonNil(s.before.Mechanisms())
	}
	if s.after != nil {
		rep.EhloAfterTLS, rep.MechsAfterTLS = extLines(s.after), nonNil(s.after.Mechanisms())
	}
	if st, ok := s.c.TLSState(); ok {
		rep.TLS = p.tlsInfo(st, s.c.ChannelBindings())
	}
}

// nonNil copies a mechanism list, never nil, with control characters replaced.
func nonNil(s []string) []string {
	out := []string{}
	for _, m := range s {
		out = append(out, clean(m))
	}
	return out
}

func extLines(e *smtpclient.Extensions) []string {
	out := []string{}
	for _, x := range e.List {
		out = append(out, clean(strings.TrimSpace(x.Keyword+" "+x.Params)))
	}
	return out
}

// tlsInfo describes the session and verifies the certificate for the host.
func (p *prober) tlsInfo(st tls.ConnectionState, cb map[string][]byte) *TLSInfo {
	info := &TLSInfo{Version: tls.VersionName(st.Version), Cipher: tls.CipherSuiteName(st.CipherSuite)}
	for k := range cb {
		info.ChannelBinding = k
	}
	if len(st.PeerCertificates) == 0 {
		info.VerifyError = "no certificate"
		return info
	}
	leaf := st.PeerCertificates[0]
	info.Subject, info.Issuer = clean(leaf.Subject.String()), clean(leaf.Issuer.String())
	for _, n := range leaf.DNSNames {
		info.Names = append(info.Names, clean(n))
	}
	for _, ip := range leaf.IPAddresses {
		info.Names = append(info.Names, ip.String())
	}
	info.NotBefore, info.NotAfter = leaf.NotBefore, leaf.NotAfter
	inter := x509.NewCertPool()
	for _, c := range st.PeerCertificates[1:] {
		inter.AddCert(c)
	}
	_, err := leaf.Verify(x509.VerifyOptions{DNSName: p.host, Roots: p.opt.RootCAs, Intermediates: inter})
	info.Verified = err == nil
	if err != nil {
		info.VerifyError = clean(err.Error())
	}
	return info
}

// candidates lists the mechanisms to try: advertised before or after TLS
// or named by the user, strongest first.
func (p *prober) candidates(rep *Report) []string {
	var all []string
	for _, list := range [][]string{rep.MechsAfterTLS, rep.MechsBeforeTLS, p.opt.Mechs} {
		for _, m := range list {
			m = strings.ToUpper(strings.TrimSpace(m))
			if m != "" && !slices.Contains(all, m) {
				all = append(all, m)
			}
		}
	}
	slices.SortStableFunc(all, func(a, b string) int { return strength(a) - strength(b) })
	return all
}

// skip records a mechanism that is not tried, with why.
func (p *prober) skip(rep *Report, mech, reason string) Result {
	res := offered(rep, mech)
	res.Outcome, res.Reason = Skipped, reason
	return res
}

// offered starts a Result with where the mechanism was advertised.
func offered(rep *Report, mech string) Result {
	res := Result{Mechanism: mech}
	if rep.EhloBeforeTLS != nil {
		res.OfferedBeforeTLS = boolp(slices.Contains(rep.MechsBeforeTLS, mech))
	}
	if rep.EhloAfterTLS != nil {
		res.OfferedAfterTLS = boolp(slices.Contains(rep.MechsAfterTLS, mech))
	}
	return res
}

// try runs one mechanism in a connection of its own.
func (p *prober) try(ctx context.Context, rep *Report, mech string) Result {
	res := offered(rep, mech)
	if !slices.Contains(sasl.Mechanisms, mech) {
		res.Outcome, res.Reason = Skipped, "not implemented by postgate probe"
		return res
	}
	if mech == sasl.External {
		res.Outcome, res.Reason = Skipped, "needs a TLS client certificate; the probe presents none"
		return res
	}
	user, password := p.opt.User, p.opt.Password
	if !rep.Credentials {
		user, password = bogusCredentials()
	}
	s, err := p.connect(ctx, mech)
	if err != nil {
		res.Outcome, res.Reason, res.err = Errored, clean(err.Error()), err
		return res
	}
	defer s.quit()
	res.tls = s.tlsUsed
	info := sasl.ClientInfo{Service: "smtp", Host: p.host}
	// Bind to the channel only for -PLUS: a plain SCRAM client with
	// binding data says "y", which a server offering -PLUS must refuse
	// as a downgrade; real clients that see -PLUS use it instead.
	if strings.HasSuffix(mech, "-PLUS") {
		info.ChannelBindings = s.c.ChannelBindings()
	}
	m, err := sasl.NewClient(mech, sasl.ClientCredentials{User: user, Password: password}, info)
	if err != nil {
		res.Outcome, res.Reason = Skipped, err.Error()
		return res
	}
	ar, err := s.c.Auth(m)
	res.RoundTrips, res.Duration, res.Transcript = ar.RoundTrips, ar.Duration, ar.Transcript
	res.TimeMS = float64(ar.Duration.Microseconds()) / 1000
	res.ServerVerified = ar.ServerVerified
	if ar.Reply.Code != 0 {
		res.Reply = strings.TrimSpace(fmt.Sprintf("%d %s %s", ar.Reply.Code, ar.Reply.Enhanced,
			strings.ReplaceAll(ar.Reply.Text, "\n", " / ")))
		res.Reply = clean(strings.Join(strings.Fields(res.Reply), " "))
	}
	res.err = err
	switch {
	case err == nil && rep.Credentials:
		res.Outcome = OK
	case err == nil || (errors.Is(err, smtpclient.ErrNoServerProof) && !rep.Credentials):
		res.Outcome = Accepted
	case rep.Credentials:
		res.Outcome = Failed
	default:
		res.Outcome = Refused
	}
	return res
}

// bogusCredentials returns a random user and password no server knows.
func bogusCredentials() (string, string) {
	b := make([]byte, 16)
	rand.Read(b)
	return "probe-" + hex.EncodeToString(b[:4]) + "@invalid", hex.EncodeToString(b[4:])
}

// clean replaces control characters in text that came from the server,
// so that it cannot move the cursor or forge lines on a terminal.
func clean(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 && r != '\n' || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return '?'
		}
		return r
	}, s)
}
