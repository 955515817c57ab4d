package probe

import (
	"slices"
	"time"

	"postgate/internal/sasl"
	"postgate/internal/smtpclient"
)

// Outcome of one mechanism's attempt.
type Outcome string

// Outcomes. With credentials an attempt is OK or Failed; without, the probe
// logs in with a bogus account and expects Refused.
const (
	OK       Outcome = "ok"       // authenticated with the given credentials
	Failed   Outcome = "failed"   // did not authenticate with the given credentials
	Refused  Outcome = "refused"  // the bogus login was refused, as it must be
	Accepted Outcome = "ACCEPTED" // the bogus login was accepted: the server is broken
	Errored  Outcome = "error"    // the connection failed before the mechanism could run
	Skipped  Outcome = "skipped"  // the probe cannot try this mechanism
)

// Report is everything the probe found.
type Report struct {
	// Target is HOST[:PORT] as given; Host and Address as resolved.
	Target  string `json:"target"`
	Host    string `json:"host"`
	Address string `json:"address"`
	// Mode is the connection mode used.
	Mode Mode `json:"mode"`
	// Greeting is the server's 220 line(s).
	Greeting string `json:"greeting"`
	// EhloBeforeTLS and EhloAfterTLS list the extensions ("KEYWORD
	// params") announced before and after TLS; nil when that state was
	// not seen (implicit TLS has no "before", plain no "after").
	EhloBeforeTLS []string `json:"ehlo_before_tls"`
	EhloAfterTLS  []string `json:"ehlo_after_tls"`
	// MechsBeforeTLS and MechsAfterTLS are the advertised mechanisms.
	MechsBeforeTLS []string `json:"mechanisms_before_tls"`
	MechsAfterTLS  []string `json:"mechanisms_after_tls"`
	// TLS describes the TLS session; nil without TLS.
	TLS *TLSInfo `json:"tls"`
	// Credentials reports whether a user and password were given; User
	// is the user (never the password).
	Credentials bool   `json:"credentials"`
	User        string `json:"user,omitempty"`
	// Results has one entry per mechanism tried, strongest first.
	Results []Result `json:"results"`
	// Recommendation summarises the results.
	Recommendation Recommendation `json:"recommendation"`
	// Error is set when the probe could not complete the first
	// connection (the report then holds what was seen before).
	Error string `json:"error,omitempty"`
}

// TLSInfo describes the TLS session and the server's certificate.
type TLSInfo struct {
	Version string `json:"version"`
	Cipher  string `json:"cipher"`
	// Subject and Issuer of the leaf certificate.
	Subject string `json:"subject"`
	Issuer  string `json:"issuer"`
	// Names are the DNS names and IP addresses the certificate is for.
	Names     []string  `json:"names"`
	NotBefore time.Time `json:"not_before"`
	NotAfter  time.Time `json:"not_after"`
	// Verified reports whether the chain verifies for Host against the
	// trusted roots; VerifyError says why not.
	Verified    bool   `json:"verified"`
	VerifyError string `json:"verify_error,omitempty"`
	// ChannelBinding is the binding type -PLUS uses on this session.
	ChannelBinding string `json:"channel_binding,omitempty"`
}

// Result is one mechanism's attempt.
type Result struct {
	Mechanism string `json:"mechanism"`
	// OfferedBeforeTLS and OfferedAfterTLS are nil where that state was
	// not seen.
	OfferedBeforeTLS *bool   `json:"offered_before_tls"`
	OfferedAfterTLS  *bool   `json:"offered_after_tls"`
	Outcome          Outcome `json:"result"`
	RoundTrips       int     `json:"round_trips"`
	// Duration of the AUTH exchange.
	Duration time.Duration `json:"-"`
	// TimeMS is Duration in milliseconds, for JSON.
	TimeMS float64 `json:"time_ms"`
	// Reply is the server's final reply to the exchange ("535 5.7.8 ...").
	Reply string `json:"reply,omitempty"`
	// Reason says, decoded, why the attempt failed (or was skipped).
	Reason string `json:"reason,omitempty"`
	// Hint suggests what to do or what is wrong.
	Hint string `json:"hint,omitempty"`
	// ServerVerified: the server proved it knows the password.
	ServerVerified bool `json:"server_verified"`
	// Transcript is the exchange, secrets redacted.
	Transcript []smtpclient.AuthStep `json:"transcript,omitempty"`

	// err is the error the attempt ended with, for the hint.
	err error
	// tls reports whether the attempt ran under TLS.
	tls bool
}

// Advertised reports whether the server offered the mechanism in the
// state the probe authenticated in.
func (r Result) Advertised() bool {
	if r.OfferedAfterTLS != nil {
		return *r.OfferedAfterTLS
	}
	return r.OfferedBeforeTLS != nil && *r.OfferedBeforeTLS
}

// Recommendation summarises the results for a client's configuration.
type Recommendation struct {
	// Best is the most secure mechanism that worked ("" when none did).
	Best string `json:"best,omitempty"`
	// WouldFail lists the advertised mechanisms that failed; a client
	// picks the strongest advertised mechanism it supports and does not
	// fall back, so a client supporting any of these fails.
	WouldFail []string `json:"would_fail,omitempty"`
	// Lines are the recommendation in words.
	Lines []string `json:"text"`
}

// Succeeded reports the probe's verdict: with credentials, at least one
// mechanism authenticated; without, no mechanism accepted the bogus login
// and the first connection worked.
func (r *Report) Succeeded() bool {
	if r.Error != "" {
		return false
	}
	if !r.Credentials {
		for _, res := range r.Results {
			if res.Outcome == Accepted {
				return false
			}
		}
		return true
	}
	for _, res := range r.Results {
		if res.Outcome == OK {
			return true
		}
	}
	return false
}

// strength ranks a mechanism: lower is stronger; unknown mechanisms last.
func strength(mech string) int {
	if i := slices.Index(sasl.Mechanisms, mech); i >= 0 {
		return i
	}
	return len(sasl.Mechanisms)
}

func boolp(b bool) *bool { return &b }
