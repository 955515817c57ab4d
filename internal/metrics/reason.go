package metrics

import "strings"

// Authentication failure reason classes: the only values the reason label
// of postgate_auth_attempts_total takes (besides "none" on success).
const (
	ReasonUnknownUser    = "unknown_user"    // no such user, or no user mapped to a certificate
	ReasonWrongPassword  = "wrong_password"  // the proof or password did not match
	ReasonMissingSecret  = "missing_secret"  // no secret stored for this mechanism (password predates it)
	ReasonMalformed      = "malformed"       // syntax: bad base64, bad message format, out-of-order step, too long
	ReasonDigestURI      = "digest_uri"      // DIGEST-MD5 digest-uri names another service or host
	ReasonRealm          = "realm"           // DIGEST-MD5 realm not offered
	ReasonNonce          = "nonce"           // nonce mismatch, reuse or staleness
	ReasonChannelBinding = "channel_binding" // SCRAM channel-binding mismatch or downgrade
	ReasonCertificate    = "certificate"     // EXTERNAL without a verified client certificate
	ReasonTLSRequired    = "tls_required"    // mechanism needs TLS (or channel binding) first
	ReasonNotAllowed     = "not_allowed"     // mechanism not offered here, or authorization identity denied
	ReasonLockedOut      = "locked_out"      // client address or user locked out after repeated failures
	ReasonCancelled      = "cancelled"       // client sent "*"
	ReasonTemporary      = "temporary"       // credentials lookup failed, no randomness
	ReasonOther          = other             // anything not recognised
)

// reasonRules map substrings of the free-text reason (lower-cased) to a
// class. The first match wins, so more specific phrases come first.
var reasonRules = []struct{ substr, class string }{
	{"locked out", ReasonLockedOut},
	{"cancel", ReasonCancelled},
	{"bad response", ReasonMalformed},
	{"bad client-", ReasonMalformed},
	{"unknown user", ReasonUnknownUser},
	{"no user mapped", ReasonUnknownUser},
	{"wrong password", ReasonWrongPassword},
	{"needs tls", ReasonTLSRequired},
	{"encryption required", ReasonTLSRequired},
	{"channel binding", ReasonChannelBinding},
	{"channel-binding", ReasonChannelBinding},
	{"digest-uri", ReasonDigestURI},
	{"realm", ReasonRealm},
	{"secret stored for", ReasonMissingSecret},
	{"nonce", ReasonNonce},
	{"client certificate", ReasonCertificate},
	{"may not act as", ReasonNotAllowed},
	{"not enabled", ReasonNotAllowed},
	{"not offered", ReasonNotAllowed},
	{"unrecognized authentication", ReasonNotAllowed},
	{"excluded by", ReasonNotAllowed},
	{"credentials lookup failed", ReasonTemporary},
	{"cannot make", ReasonTemporary},
	{"temporary", ReasonTemporary},
	{"base64", ReasonMalformed},
	{"malformed", ReasonMalformed},
	{"too long", ReasonMalformed},
	{"out of order", ReasonMalformed},
	{"not valid utf-8", ReasonMalformed},
	{"empty or contains nul", ReasonMalformed},
}

// ReasonClass reduces a free-text authentication failure reason (a
// sasl.Error's Reason, a policy refusal, the engine's own texts) to one of
// the Reason constants, so the label has a small fixed set of values and
// no user-controlled text becomes a label.
func ReasonClass(reason string) string {
	r := strings.ToLower(reason)
	for _, rule := range reasonRules {
		if strings.Contains(r, rule.substr) {
			return rule.class
		}
	}
	return ReasonOther
}

// ReasonClasses lists every value ReasonClass can return, in a stable
// order (for documentation and tests).
func ReasonClasses() []string {
	return []string{ReasonUnknownUser, ReasonWrongPassword, ReasonMissingSecret, ReasonMalformed,
		ReasonDigestURI, ReasonRealm, ReasonNonce, ReasonChannelBinding, ReasonCertificate,
		ReasonTLSRequired, ReasonNotAllowed, ReasonLockedOut, ReasonCancelled, ReasonTemporary, ReasonOther}
}
