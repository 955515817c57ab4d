package auth

import (
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"strings"

	"postgate/internal/config"
	"postgate/internal/smtp"
)

// Session is the state of one SMTP session the policy decides on.
type Session struct {
	// Listener is "smtp", "submission" or "submissions".
	Listener string
	// TLS is true once STARTTLS completed, or from the start on submissions.
	TLS bool
	// ChannelBinding: TLS is active and channel-binding data (tls-unique
	// or tls-exporter) is available, so the -PLUS mechanisms can work.
	ChannelBinding bool
	// ClientCert: the client presented a certificate that verified.
	ClientCert bool
	// ClientIP is the client's address.
	ClientIP netip.Addr
	// Helo is the name the client gave in EHLO.
	Helo string
}

// Policy decides which mechanisms a session is offered and allowed. It is
// immutable after NewPolicy and safe for concurrent use.
type Policy struct {
	mechs         []string               // auth.mechanisms, upper case, in order
	hidden        map[string]*smtp.Error // configured but never usable, and why
	opts          options
	allowPlain    bool
	brokenClients bool
	rules         []*rule
}

// NewPolicy checks cfg and builds the policy. missing says, for each secret
// kind (the Secret constants), how many users have no stored secret of that
// kind; a mechanism needing such a secret is neither offered nor allowed,
// because it would fail for those users. NewPolicy logs, once per
// mechanism, why a configured mechanism will not be offered, and warns when
// allow_plaintext_without_tls is on or option 'A' is absent. log may be nil.
func NewPolicy(cfg config.Auth, missing map[string]int, log *slog.Logger) (*Policy, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	opts, err := parseOptions(cfg.Options)
	if err != nil {
		return nil, err
	}
	if err := checkNumbers(cfg); err != nil {
		return nil, err
	}
	p := &Policy{
		hidden:        map[string]*smtp.Error{},
		opts:          opts,
		allowPlain:    cfg.AllowPlaintextWithoutTLS,
		brokenClients: cfg.BrokenClients,
	}
	mechs, err := mechanismList(cfg.Mechanisms, "auth.mechanisms")
	if err != nil {
		return nil, err
	}
	p.mechs = mechs
	for i, rc := range cfg.Rules {
		r, err := compileRule(i, rc)
		if err != nil {
			return nil, err
		}
		p.rules = append(p.rules, r)
	}

	p.hideUnusable(missing, log)
	p.logWarnings(cfg, log)
	return p, nil
}

// mechanismList upper-cases and de-duplicates a configured mechanism list,
// keeping its order; an unknown name is an error naming the key.
func mechanismList(names []string, key string) ([]string, error) {
	var out, unknown []string
	for _, n := range names {
		name := strings.ToUpper(strings.TrimSpace(n))
		if _, ok := Lookup(name); !ok {
			unknown = append(unknown, n)
			continue
		}
		if !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	if len(unknown) > 0 {
		return nil, fmt.Errorf("%s: unknown mechanism %s (known: %s)", key, quoteList(unknown), strings.Join(Names(), " "))
	}
	return out, nil
}

// checkNumbers rejects negative limits.
func checkNumbers(cfg config.Auth) error {
	switch {
	case cfg.FailureDelay.Duration < 0:
		return fmt.Errorf("auth.failure_delay: must not be negative")
	case cfg.MaxFailuresPerSession < 0:
		return fmt.Errorf("auth.max_failures_per_session: must not be negative")
	case cfg.LockoutFailures < 0:
		return fmt.Errorf("auth.lockout_failures: must not be negative")
	case cfg.LockoutWindow.Duration < 0:
		return fmt.Errorf("auth.lockout_window: must not be negative")
	}
	return nil
}

// hideUnusable records, and logs once, each configured mechanism that no
// session can use: excluded by an options letter, or missing a secret for
// some users.
func (p *Policy) hideUnusable(missing map[string]int, log *slog.Logger) {
	for _, name := range p.mechs {
		m, _ := Lookup(name)
		if ex := p.opts.excludes(m); ex != nil {
			code, enh, text := 504, "5.5.4", "Unrecognized authentication type"
			if ex.weak {
				code, enh, text = 534, "5.7.9", "Authentication mechanism is too weak"
			}
			p.hidden[name] = smtp.Errorf(code, enh, "%s: %s is excluded by %s", text, name, ex)
			log.Info(name+" not offered: excluded by "+ex.String(),
				"mechanism", name, "option", string(ex.letter))
			continue
		}
		if n := missing[m.NeedsSecret]; m.NeedsSecret != "" && n > 0 {
			p.hidden[name] = smtp.Errorf(504, "5.5.4",
				"Unrecognized authentication type: %s is not available here (not every user has a %s)",
				name, secretNoun(m.NeedsSecret))
			log.Warn(fmt.Sprintf("%s not offered: %s %s no %s (passwords set before it was enabled); run postgate user passwd",
				name, users(n), hasHave(n), secretNoun(m.NeedsSecret)),
				"mechanism", name, "secret", m.NeedsSecret, "users", n)
		}
	}
	if len(p.mechs) == 0 {
		log.Info("SMTP AUTH is off: auth.mechanisms is empty")
	} else if len(p.hidden) == len(p.mechs) {
		log.Warn("SMTP AUTH will never be offered: every mechanism in auth.mechanisms is excluded (see the lines above)")
	}
}

// logWarnings warns about settings that weaken security or do nothing.
func (p *Policy) logWarnings(cfg config.Auth, log *slog.Logger) {
	if cfg.AllowPlaintextWithoutTLS {
		if p.opts.noPlaintext {
			log.Warn("auth.allow_plaintext_without_tls is on but has no effect: auth.options 'p' still refuses PLAIN and LOGIN before TLS")
		} else {
			log.Warn("auth.allow_plaintext_without_tls is on: PLAIN and LOGIN are offered before TLS, so passwords can cross the network in clear")
		}
	}
	if !p.opts.authParamOnly {
		log.Warn("auth.options lacks 'A': a MAIL FROM AUTH= parameter is honoured from unauthenticated sessions too (RFC 4954 §5 says to treat it as AUTH=<>)")
	}
	for _, r := range p.rules {
		var extra []string
		for _, name := range r.mechanisms {
			if !slices.Contains(p.mechs, name) {
				extra = append(extra, name)
			}
		}
		if len(extra) > 0 {
			log.Warn(r.name()+" lists mechanisms auth.mechanisms does not enable; rules only narrow or reorder, so they are not offered",
				"rule", r.index, "mechanisms", strings.Join(extra, " "))
		}
		if len(r.mechanisms) == 0 {
			log.Info(r.name()+" has no mechanisms: clients it matches are not offered AUTH", "rule", r.index)
		}
	}
}

// ruleFor returns the first rule matching the session, or nil.
func (p *Policy) ruleFor(s Session) *rule {
	for _, r := range p.rules {
		if r.matches(s) {
			return r
		}
	}
	return nil
}

// Offered returns the mechanisms to advertise in EHLO for the session, in
// order of preference: the first matching rule's list, or auth.mechanisms,
// keeping only those Check would allow. Empty means no AUTH keyword.
func (p *Policy) Offered(s Session) []string {
	r := p.ruleFor(s)
	list := p.mechs
	if r != nil {
		list = r.mechanisms
	}
	var out []string
	for _, name := range list {
		m, _ := Lookup(name)
		if p.decide(m, s, r) == nil {
			out = append(out, name)
		}
	}
	return out
}

// Check decides whether the client may start AUTH with mech (any case) in
// this session. It returns nil or an *smtp.Error whose text says which
// setting excluded the mechanism:
//   - 504 5.5.4: unknown mechanism, not in auth.mechanisms, a secret some
//     users lack, option 'c', or not in the matching rule's list;
//   - 534 5.7.9: excluded as too weak by an options letter (y d a m f);
//   - 538 5.7.11: needs TLS the session lacks (PLAIN/LOGIN before TLS,
//     -PLUS without channel binding, EXTERNAL without a client certificate).
//
// Exclusions that no session could overcome are reported before the TLS
// state, so a client is not invited to retry after STARTTLS in vain.
func (p *Policy) Check(mech string, s Session) error {
	m, ok := Lookup(mech)
	if !ok {
		if safeName(mech) {
			return smtp.Errorf(504, "5.5.4", "Unrecognized authentication type %s", strings.ToUpper(mech))
		}
		return smtp.Errorf(504, "5.5.4", "Unrecognized authentication type")
	}
	if e := p.decide(m, s, p.ruleFor(s)); e != nil {
		return e
	}
	return nil
}

// decide is Check for a known mechanism and the session's rule (nil: none).
func (p *Policy) decide(m Mechanism, s Session, r *rule) *smtp.Error {
	if !slices.Contains(p.mechs, m.Name) {
		return smtp.Errorf(504, "5.5.4", "Unrecognized authentication type: %s is not enabled here (auth.mechanisms)", m.Name)
	}
	if e := p.hidden[m.Name]; e != nil {
		return e
	}
	if r != nil && !slices.Contains(r.mechanisms, m.Name) {
		return smtp.Errorf(504, "5.5.4", "Unrecognized authentication type: %s is not offered to this client (%s)", m.Name, r.name())
	}
	const encRequired = "Encryption required for requested authentication mechanism"
	if m.Plaintext && !s.TLS {
		if p.opts.noPlaintext {
			return smtp.Errorf(538, "5.7.11", "%s: %s needs TLS first (auth.options 'p')", encRequired, m.Name)
		}
		if !p.allowPlain {
			return smtp.Errorf(538, "5.7.11", "%s: %s needs TLS first (auth.allow_plaintext_without_tls is off)", encRequired, m.Name)
		}
	}
	if m.NeedsChannelBinding && !(s.TLS && s.ChannelBinding) {
		if s.TLS {
			return smtp.Errorf(538, "5.7.11", "%s: %s needs TLS channel-binding data, which this connection lacks", encRequired, m.Name)
		}
		return smtp.Errorf(538, "5.7.11", "%s: %s needs TLS with channel binding", encRequired, m.Name)
	}
	if m.NeedsClientCert && !(s.TLS && s.ClientCert) {
		return smtp.Errorf(538, "5.7.11", "%s: %s needs TLS with a verified client certificate", encRequired, m.Name)
	}
	return nil
}

// TrustMailAuth reports whether a MAIL FROM AUTH= parameter may be used in
// a session that is (or is not) authenticated: with option 'A' only in an
// authenticated session, without it always. A caller that does not use the
// parameter treats it as AUTH=<> (RFC 4954 §5).
func (p *Policy) TrustMailAuth(authenticated bool) bool {
	return !p.opts.authParamOnly || authenticated
}

// BrokenClientsLine returns the extra pre-RFC EHLO line "AUTH=LOGIN PLAIN"
// for old clients that only understand it, listing LOGIN and PLAIN (in that
// order) as far as Offered(s) includes them. It is "" when
// auth.broken_clients is off or neither is offered.
func (p *Policy) BrokenClientsLine(s Session) string {
	if !p.brokenClients {
		return ""
	}
	offered := p.Offered(s)
	var old []string
	for _, name := range []string{"LOGIN", "PLAIN"} {
		if slices.Contains(offered, name) {
			old = append(old, name)
		}
	}
	if len(old) == 0 {
		return ""
	}
	return "AUTH=" + strings.Join(old, " ")
}

// safeName reports whether a client-supplied mechanism name is harmless to
// echo: RFC 4422 §3.1 syntax, at most 20 characters.
func safeName(s string) bool {
	if s == "" || len(s) > 20 {
		return false
	}
	for _, c := range s {
		switch {
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-', c == '_':
		default:
			return false
		}
	}
	return true
}

func secretNoun(kind string) string {
	if kind == SecretPassword {
		return "password hash"
	}
	return kind + " secret"
}

func users(n int) string {
	if n == 1 {
		return "1 user"
	}
	return fmt.Sprintf("%d users", n)
}

func hasHave(n int) string {
	if n == 1 {
		return "has"
	}
	return "have"
}
