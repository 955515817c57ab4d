// Package config holds postgate's configuration: the schema (every field
// documented with its default in example.toml, which `postgate config
// example` prints), loading from TOML, and validation that names the bad
// key and line.
package config

import (
	"fmt"
	"net/netip"
	"path/filepath"
	"strings"
	"time"
)

// Config is the whole configuration. The zero value is not useful: start
// from Default().
type Config struct {
	// Hostname is used in the greeting, EHLO, Received: and as the
	// default DIGEST-MD5 realm.
	Hostname string `toml:"hostname"`
	// Aliases are other names clients use for this server (DIGEST-MD5
	// digest-uri, certificate names).
	Aliases []string `toml:"aliases"`
	// DataDir holds the spool, the mailboxes, the user store and the
	// generated certificate.
	DataDir string `toml:"data_dir"`
	// LocalDomains are delivered locally into Maildirs.
	LocalDomains []string `toml:"local_domains"`
	// TrustedNetworks may relay without AUTH (empty: none, not even loopback).
	TrustedNetworks []string `toml:"trusted_networks"`

	Listen   Listen   `toml:"listen"`
	TLS      TLS      `toml:"tls"`
	Limits   Limits   `toml:"limits"`
	Auth     Auth     `toml:"auth"`
	Log      Log      `toml:"log"`
	Metrics  Metrics  `toml:"metrics"`
	Sendmail Sendmail `toml:"sendmail"`
}

// Sendmail configures the sendmail-compatible command (docs/sendmail.md).
type Sendmail struct {
	// TrustedUsers (login names) may set any envelope sender with -f;
	// other local users' senders become login@default domain.
	TrustedUsers []string `toml:"trusted_users"`
}

// Listen says where each listener binds; an empty address turns it off.
type Listen struct {
	SMTP        string `toml:"smtp"`
	Submission  string `toml:"submission"`
	Submissions string `toml:"submissions"`
}

// TLS configures the server certificate and client certificates.
type TLS struct {
	CertFile string `toml:"cert_file"`
	KeyFile  string `toml:"key_file"`
	// ClientCAFile, when set, lets clients present certificates signed by
	// these CAs (used by AUTH EXTERNAL).
	ClientCAFile string `toml:"client_ca_file"`
}

// Limits bound what one client can make the server do.
type Limits struct {
	MaxMessageSize      int64    `toml:"max_message_size"`
	MaxRecipients       int      `toml:"max_recipients"`
	MaxConnections      int      `toml:"max_connections"`
	MaxConnectionsPerIP int      `toml:"max_connections_per_ip"`
	MaxErrors           int      `toml:"max_errors"`
	CommandTimeout      Duration `toml:"command_timeout"`
	DataTimeout         Duration `toml:"data_timeout"`
	ShutdownGrace       Duration `toml:"shutdown_grace"`
	DeliverByMin        int      `toml:"deliverby_min"`
}

// Auth configures SMTP AUTH. See docs/auth.md.
type Auth struct {
	// Mechanisms offered, in order of preference (sendmail's
	// confAUTH_MECHANISMS / TRUST_AUTH_MECH).
	Mechanisms []string `toml:"mechanisms"`
	// Options are sendmail's confAUTH_OPTIONS letters (see docs/auth.md).
	Options string `toml:"options"`
	// AllowPlaintextWithoutTLS offers PLAIN and LOGIN before TLS. Off by
	// default; a warning is logged at every start when on.
	AllowPlaintextWithoutTLS bool `toml:"allow_plaintext_without_tls"`
	// BrokenClients also emits the pre-RFC "AUTH=LOGIN PLAIN" EHLO line
	// (Postfix's broken_sasl_auth_clients).
	BrokenClients bool `toml:"broken_clients"`
	// Realms for DIGEST-MD5; empty means [hostname].
	Realms []string `toml:"realms"`
	// DefaultDomain is appended to a username sent without "@domain";
	// empty means the first local domain.
	DefaultDomain string `toml:"default_domain"`
	// SCRAMIterations for newly set passwords.
	SCRAMIterations int `toml:"scram_iterations"`
	// SenderPolicy: "own" (a user may use only their addresses in MAIL
	// FROM), or "any".
	SenderPolicy string `toml:"sender_policy"`
	// FailureDelay is the minimum duration of a failed attempt.
	FailureDelay Duration `toml:"failure_delay"`
	// MaxFailuresPerSession before 421.
	MaxFailuresPerSession int `toml:"max_failures_per_session"`
	// LockoutFailures within LockoutWindow lock an IP or a user out for
	// LockoutWindow.
	LockoutFailures int      `toml:"lockout_failures"`
	LockoutWindow   Duration `toml:"lockout_window"`
	// Rules narrow or reorder the mechanism list for some clients.
	Rules []AuthRule `toml:"rule"`
}

// AuthRule changes the offered mechanisms for matching clients.
type AuthRule struct {
	// Networks (CIDR) and/or Helo (glob patterns) select clients; both
	// must match when both are set.
	Networks []string `toml:"networks"`
	Helo     []string `toml:"helo"`
	// Listeners limits the rule to these listeners; empty = all.
	Listeners []string `toml:"listeners"`
	// Mechanisms replaces the list (only mechanisms otherwise allowed stay).
	Mechanisms []string `toml:"mechanisms"`
}

// Log configures logging and the protocol trace.
type Log struct {
	Level  string `toml:"level"`
	Format string `toml:"format"`
	// TraceNetworks: sessions from these networks get a protocol trace
	// (credentials redacted) in the log.
	TraceNetworks []string `toml:"trace_networks"`
}

// Metrics configures the Prometheus endpoint.
type Metrics struct {
	Listen string `toml:"listen"`
	// AllowNonLoopback permits a metrics address that is not loopback.
	AllowNonLoopback bool `toml:"allow_non_loopback"`
}

// Duration is a time.Duration written as "30s", "5m" in TOML.
type Duration struct{ time.Duration }

// UnmarshalText parses a Go duration string.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return err
	}
	d.Duration = v
	return nil
}

// MarshalText renders the duration as Go does.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// Default returns the embedded defaults, the same values example.toml documents.
func Default() *Config {
	return &Config{
		Hostname:     "localhost",
		DataDir:      "./postgate-data",
		LocalDomains: []string{"localhost"},
		Listen: Listen{
			SMTP:        "127.0.0.1:2525",
			Submission:  "127.0.0.1:2587",
			Submissions: "127.0.0.1:2465",
		},
		Limits: Limits{
			MaxMessageSize:      35 << 20,
			MaxRecipients:       1000,
			MaxConnections:      1000,
			MaxConnectionsPerIP: 50,
			MaxErrors:           20,
			CommandTimeout:      Duration{5 * time.Minute},
			DataTimeout:         Duration{10 * time.Minute},
			ShutdownGrace:       Duration{30 * time.Second},
			DeliverByMin:        60,
		},
		Auth: Auth{
			Mechanisms: []string{"SCRAM-SHA-256-PLUS", "SCRAM-SHA-256", "SCRAM-SHA-1-PLUS",
				"SCRAM-SHA-1", "DIGEST-MD5", "CRAM-MD5", "PLAIN", "LOGIN", "EXTERNAL"},
			Options:               "Ap",
			SCRAMIterations:       4096,
			SenderPolicy:          "own",
			FailureDelay:          Duration{time.Second},
			MaxFailuresPerSession: 3,
			LockoutFailures:       10,
			LockoutWindow:         Duration{15 * time.Minute},
		},
		Log:      Log{Level: "info", Format: "text"},
		Sendmail: Sendmail{TrustedUsers: []string{"root"}},
	}
}

// Path resolves a name under DataDir.
func (c *Config) Path(elem ...string) string {
	return filepath.Join(append([]string{c.DataDir}, elem...)...)
}

// DigestRealms returns the DIGEST-MD5 realms, the hostname when none is set.
func (c *Config) DigestRealms() []string {
	if len(c.Auth.Realms) > 0 {
		return c.Auth.Realms
	}
	return []string{c.Hostname}
}

// UserDefaultDomain returns the domain appended to bare usernames.
func (c *Config) UserDefaultDomain() string {
	if c.Auth.DefaultDomain != "" {
		return c.Auth.DefaultDomain
	}
	if len(c.LocalDomains) > 0 {
		return c.LocalDomains[0]
	}
	return c.Hostname
}

// IsLocalDomain reports whether domain (any case) is one of LocalDomains.
func (c *Config) IsLocalDomain(domain string) bool {
	for _, d := range c.LocalDomains {
		if strings.EqualFold(d, domain) {
			return true
		}
	}
	return false
}

// Validate checks values that TOML types cannot. Its errors name the key.
func (c *Config) Validate() error {
	if c.Hostname == "" {
		return fmt.Errorf("hostname: must not be empty")
	}
	if c.DataDir == "" {
		return fmt.Errorf("data_dir: must not be empty")
	}
	if (c.TLS.CertFile == "") != (c.TLS.KeyFile == "") {
		return fmt.Errorf("tls.cert_file and tls.key_file: set both or neither")
	}
	for _, n := range c.TrustedNetworks {
		if _, err := netip.ParsePrefix(n); err != nil {
			return fmt.Errorf("trusted_networks: %q is not a network in CIDR form", n)
		}
	}
	for _, n := range c.Log.TraceNetworks {
		if _, err := netip.ParsePrefix(n); err != nil {
			return fmt.Errorf("log.trace_networks: %q is not a network in CIDR form", n)
		}
	}
	l := c.Limits
	switch {
	case l.MaxMessageSize <= 0:
		return fmt.Errorf("limits.max_message_size: must be positive")
	case l.MaxRecipients <= 0:
		return fmt.Errorf("limits.max_recipients: must be positive")
	case l.MaxConnections <= 0:
		return fmt.Errorf("limits.max_connections: must be positive")
	case l.MaxConnectionsPerIP <= 0:
		return fmt.Errorf("limits.max_connections_per_ip: must be positive")
	case l.MaxErrors <= 0:
		return fmt.Errorf("limits.max_errors: must be positive")
	case l.CommandTimeout.Duration <= 0 || l.DataTimeout.Duration <= 0:
		return fmt.Errorf("limits.command_timeout, limits.data_timeout: must be positive")
	case l.DeliverByMin < 0:
		return fmt.Errorf("limits.deliverby_min: must not be negative")
	}
	switch c.Auth.SenderPolicy {
	case "own", "any":
	default:
		return fmt.Errorf("auth.sender_policy: %q is not one of own, any", c.Auth.SenderPolicy)
	}
	if c.Auth.SCRAMIterations < 4096 {
		return fmt.Errorf("auth.scram_iterations: %d is below RFC 7677's minimum of 4096", c.Auth.SCRAMIterations)
	}
	for i, r := range c.Auth.Rules {
		for _, n := range r.Networks {
			if _, err := netip.ParsePrefix(n); err != nil {
				return fmt.Errorf("auth.rule[%d].networks: %q is not a network in CIDR form", i, n)
			}
		}
	}
	switch c.Log.Format {
	case "text", "json":
	default:
		return fmt.Errorf("log.format: %q is not one of text, json", c.Log.Format)
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("log.level: %q is not one of debug, info, warn, error", c.Log.Level)
	}
	return nil
}
