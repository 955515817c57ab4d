package sasl

import (
	"crypto/rand"
	"errors"
	"time"
)

// credentialsFailure turns an error from a Credentials lookup into an *Error
// whose Reason names what went wrong: the unknown user, the wrong password,
// the missing per-mechanism secret, or (for anything else) a temporary
// failure of the credentials source. mech names the mechanism whose secret
// was asked for. user is the username as the client sent it.
func credentialsFailure(mech, user string, err error) *Error {
	switch {
	case errors.Is(err, ErrUnknownUser):
		return &Error{Kind: BadCredentials, User: user, Reason: "unknown user"}
	case errors.Is(err, ErrWrongPassword):
		return &Error{Kind: BadCredentials, User: user, Reason: "wrong password"}
	case errors.Is(err, ErrNoSecret):
		return &Error{Kind: BadCredentials, User: user,
			Reason: "no " + mech + " secret stored for user (password set before the mechanism was enabled?)"}
	}
	return &Error{Kind: Temporary, User: user, Reason: "credentials lookup failed", Err: err}
}

// outOfOrder is the failure for a Next call the exchange does not expect
// (after it ended).
func outOfOrder(user string) *Error {
	return Failf(Malformed, user, "step out of order")
}

// authorizeAs decides the authorization identity of an authenticated user.
// sent is the authentication identity as the client sent it, canonical as
// the credentials source returned it. An empty authz, or one equal to
// either form of the user's own name, is no request at all and yields "".
// Any other authz must be allowed by creds.MayAuthorize.
func authorizeAs(creds Credentials, sent, canonical, authz string) (string, *Error) {
	if authz == "" || authz == sent || authz == canonical {
		return "", nil
	}
	if !creds.MayAuthorize(canonical, authz) {
		return "", Failf(AuthzDenied, sent, "user %q may not act as %q", canonical, authz)
	}
	return authz, nil
}

// serverRandom returns n random bytes from info.Nonce, or crypto/rand when
// that is nil. A short injected source is padded with zeros.
func serverRandom(info ServerInfo, n int) []byte {
	return randomFrom(info.Nonce, n)
}

func randomFrom(src func(int) []byte, n int) []byte {
	b := make([]byte, n)
	if src != nil {
		copy(b, src(n))
		return b
	}
	rand.Read(b) // never fails (crypto/rand panics on an unusable source)
	return b
}

// serverNow returns info.Now(), or time.Now when that is nil.
func serverNow(info ServerInfo) time.Time {
	if info.Now != nil {
		return info.Now()
	}
	return time.Now()
}

// serviceName returns the configured GSSAPI service name, "smtp" by default.
func serviceName(s string) string {
	if s == "" {
		return "smtp"
	}
	return s
}
