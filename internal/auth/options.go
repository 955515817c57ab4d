package auth

import "fmt"

// options are sendmail's confAUTH_OPTIONS letters, parsed.
type options struct {
	noPlaintext     bool // p: no plaintext mechanism unless TLS is active
	noAnonymous     bool // y: no anonymous mechanism
	noDictionary    bool // d: no mechanism open to passive dictionary attack
	mutualAuth      bool // m: only mechanisms with mutual authentication
	forwardSecrecy  bool // f: only mechanisms with forward secrecy
	noActive        bool // a: only mechanisms resistant to active attack
	passCredentials bool // c: only mechanisms that pass client credentials
	authParamOnly   bool // A: MAIL FROM AUTH= only from authenticated sessions
}

// knownLetters is the set parseOptions accepts, for error messages.
const knownLetters = "A a c d f m p y"

// parseOptions reads the letters of auth.options. Spaces and commas between
// letters are ignored (sendmail's m4 is written "A p").
func parseOptions(s string) (options, error) {
	var o options
	for _, r := range s {
		switch r {
		case 'p':
			o.noPlaintext = true
		case 'y':
			o.noAnonymous = true
		case 'd':
			o.noDictionary = true
		case 'm':
			o.mutualAuth = true
		case 'f':
			o.forwardSecrecy = true
		case 'a':
			o.noActive = true
		case 'c':
			o.passCredentials = true
		case 'A':
			o.authParamOnly = true
		case ' ', '\t', ',':
		default:
			return options{}, fmt.Errorf("auth.options: unknown letter %q (known: %s)", r, knownLetters)
		}
	}
	return o, nil
}

// exclusion says why the options rule a mechanism out regardless of the
// session. weak is true when the reason is a security property (reply
// 534 5.7.9), false when it is a requirement the mechanism simply does not
// meet (504 5.5.4).
type exclusion struct {
	letter byte
	reason string
	weak   bool
}

// excludes returns why the options rule m out, or nil. Letter 'p' is not
// here: it depends on the session's TLS state (see Policy.Check).
func (o options) excludes(m Mechanism) *exclusion {
	switch {
	case o.noAnonymous && m.Anonymous:
		return &exclusion{'y', "it allows anonymous login", true}
	case o.noDictionary && m.DictionaryAttackable:
		return &exclusion{'d', "it is open to offline dictionary attack", true}
	case o.noActive && m.ActiveAttackable:
		return &exclusion{'a', "it is open to active attack", true}
	case o.mutualAuth && !m.MutualAuth:
		return &exclusion{'m', "it does not authenticate the server", true}
	case o.forwardSecrecy && !m.ForwardSecrecy:
		return &exclusion{'f', "it has no forward secrecy", true}
	case o.passCredentials && !m.PassCredentials:
		return &exclusion{'c', "it does not pass client credentials", false}
	}
	return nil
}

// String renders the exclusion for logs and replies.
func (e *exclusion) String() string {
	return fmt.Sprintf("auth.options '%c': %s", e.letter, e.reason)
}
