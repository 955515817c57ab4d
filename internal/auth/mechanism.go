package auth

import (
	"strings"

	"postgate/internal/sasl"
)

// Secret kinds a mechanism needs from the user store. The user store reports
// how many users lack each kind (the missing map of NewPolicy).
const (
	SecretPassword    = "password"      // a slow password hash (PLAIN, LOGIN)
	SecretCRAMMD5     = "CRAM-MD5"      // HMAC-MD5 key states
	SecretDigestMD5   = "DIGEST-MD5"    // H(user:realm:password) per realm
	SecretSCRAMSHA1   = "SCRAM-SHA-1"   // SCRAM keys for SHA-1
	SecretSCRAMSHA256 = "SCRAM-SHA-256" // SCRAM keys for SHA-256
)

// Mechanism describes the security properties of one SASL mechanism. The
// boolean properties follow Cyrus SASL's security flags for the same
// mechanism (a property is true when the Cyrus plugin lacks the flag that
// rules it out), so sendmail's confAUTH_OPTIONS letters select the same
// mechanisms as before:
//
//	mechanism        Cyrus flags
//	PLAIN, LOGIN     NOANONYMOUS PASS_CREDENTIALS
//	CRAM-MD5         NOPLAINTEXT NOANONYMOUS
//	DIGEST-MD5       NOPLAINTEXT NOANONYMOUS MUTUAL_AUTH
//	SCRAM-*          NOPLAINTEXT NOACTIVE NOANONYMOUS MUTUAL_AUTH
//	EXTERNAL         NOPLAINTEXT NOANONYMOUS NODICTIONARY
type Mechanism struct {
	// Name as it appears on the wire, upper case.
	Name string
	// Plaintext: the client sends the password itself (no NOPLAINTEXT
	// flag). Refused before TLS by default.
	Plaintext bool
	// DictionaryAttackable: someone who records the exchange (or, for
	// PLAIN and LOGIN, simply reads it) can test candidate passwords
	// offline (no NODICTIONARY flag). Every password mechanism is; only
	// EXTERNAL is not. Excluded by option 'd'.
	DictionaryAttackable bool
	// ActiveAttackable: an active attacker in the path can take over or
	// replay the exchange (no NOACTIVE flag). Only SCRAM is resistant.
	// Excluded by option 'a'.
	ActiveAttackable bool
	// Anonymous: the mechanism lets a client in without credentials. None
	// of postgate's mechanisms is; option 'y' therefore excludes nothing.
	Anonymous bool
	// MutualAuth: the server proves it knows the secret too (DIGEST-MD5,
	// SCRAM). Option 'm' keeps only these.
	MutualAuth bool
	// ForwardSecrecy: a later leak of the secret does not expose earlier
	// sessions. None of postgate's mechanisms has Cyrus's FORWARD_SECRECY
	// flag, so option 'f' excludes every mechanism.
	ForwardSecrecy bool
	// PassCredentials: the server receives credentials it could use on
	// the client's behalf (PLAIN, LOGIN). Option 'c' keeps only these.
	PassCredentials bool
	// NeedsChannelBinding: the -PLUS variants bind to the TLS channel and
	// need TLS with channel-binding data.
	NeedsChannelBinding bool
	// NeedsClientCert: EXTERNAL needs a verified TLS client certificate.
	NeedsClientCert bool
	// NeedsTLS: the mechanism cannot succeed without TLS at all
	// (NeedsChannelBinding or NeedsClientCert). PLAIN and LOGIN are not
	// NeedsTLS: whether they need TLS is policy, not protocol.
	NeedsTLS bool
	// NeedsSecret is the stored secret kind the mechanism verifies against
	// (one of the Secret constants), "" for EXTERNAL.
	NeedsSecret string
}

// mechanisms lists every mechanism postgate implements, strongest first.
var mechanisms = []Mechanism{
	scram(sasl.SCRAMSHA256Plus, SecretSCRAMSHA256, true),
	scram(sasl.SCRAMSHA256, SecretSCRAMSHA256, false),
	scram(sasl.SCRAMSHA1Plus, SecretSCRAMSHA1, true),
	scram(sasl.SCRAMSHA1, SecretSCRAMSHA1, false),
	{Name: sasl.DigestMD5, DictionaryAttackable: true, ActiveAttackable: true,
		MutualAuth: true, NeedsSecret: SecretDigestMD5},
	{Name: sasl.CRAMMD5, DictionaryAttackable: true, ActiveAttackable: true,
		NeedsSecret: SecretCRAMMD5},
	{Name: sasl.Plain, Plaintext: true, DictionaryAttackable: true, ActiveAttackable: true,
		PassCredentials: true, NeedsSecret: SecretPassword},
	{Name: sasl.Login, Plaintext: true, DictionaryAttackable: true, ActiveAttackable: true,
		PassCredentials: true, NeedsSecret: SecretPassword},
	{Name: sasl.External, ActiveAttackable: true, NeedsClientCert: true, NeedsTLS: true},
}

func scram(name, secret string, plus bool) Mechanism {
	return Mechanism{Name: name, DictionaryAttackable: true, MutualAuth: true,
		NeedsChannelBinding: plus, NeedsTLS: plus, NeedsSecret: secret}
}

// Lookup returns the properties of the named mechanism (any case) and
// whether postgate implements it.
func Lookup(name string) (Mechanism, bool) {
	name = strings.ToUpper(name)
	for _, m := range mechanisms {
		if m.Name == name {
			return m, true
		}
	}
	return Mechanism{}, false
}

// Names returns the names of all implemented mechanisms, strongest first.
func Names() []string {
	out := make([]string, len(mechanisms))
	for i, m := range mechanisms {
		out[i] = m.Name
	}
	return out
}
