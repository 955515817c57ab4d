// Package sasl implements the SASL mechanisms postgate speaks, server and
// client side, as small pure state machines with no I/O:
//
//   - PLAIN (RFC 4616)
//   - LOGIN (draft-murchison-sasl-login; challenges "Username:" and "Password:")
//   - CRAM-MD5 (RFC 2195)
//   - DIGEST-MD5 (RFC 2831, qop "auth" only)
//   - SCRAM-SHA-1, SCRAM-SHA-256 and their -PLUS variants (RFC 5802, RFC 7677,
//     channel bindings tls-unique RFC 5929 and tls-exporter RFC 9266)
//   - EXTERNAL (RFC 4422 appendix A)
//
// The transport (SMTP AUTH, RFC 4954) base64-decodes the client's responses,
// hands them to Server.Next and encodes the challenges it returns. Secrets are
// never held in plaintext: a server mechanism asks a Credentials source for
// the per-mechanism secret it needs (see secrets.go), so a user store keeps
// only derived values.
//
// Errors returned by mechanisms are *Error values: their Kind says which SMTP
// reply they become and their Reason says, for the log, exactly what went
// wrong. A Reason never contains a password or a reusable secret.
package sasl

import (
	"crypto/x509"
	"errors"
	"fmt"
	"time"
)

// Mechanism names as they appear on the wire.
const (
	Plain           = "PLAIN"
	Login           = "LOGIN"
	CRAMMD5         = "CRAM-MD5"
	DigestMD5       = "DIGEST-MD5"
	SCRAMSHA1       = "SCRAM-SHA-1"
	SCRAMSHA1Plus   = "SCRAM-SHA-1-PLUS"
	SCRAMSHA256     = "SCRAM-SHA-256"
	SCRAMSHA256Plus = "SCRAM-SHA-256-PLUS"
	External        = "EXTERNAL"
)

// Server is one server-side authentication exchange. It is used once.
type Server interface {
	// Next consumes the client's decoded response and returns the next
	// challenge. The first call carries the initial response, or nil when
	// the client sent none (an empty initial response, "=" in SMTP, is a
	// non-nil empty slice). done reports that the exchange is over; with a
	// nil error it succeeded and Result is valid. A challenge returned with
	// done == false must be sent to the client (even when empty).
	Next(response []byte) (challenge []byte, done bool, err error)
	// Result describes who authenticated; valid after a successful exchange.
	Result() Result
}

// Result describes a successful authentication.
type Result struct {
	// User is the authenticated identity (authcid), normalised as the
	// credentials source stores it.
	User string
	// Authz is the requested authorization identity, "" when none was sent
	// or when it equals User.
	Authz string
	// Notes names each interoperability variant that was needed to accept
	// the client's exchange (e.g. `digest-uri host "127.0.0.1" is the
	// connected address`), for the log. Empty for a textbook exchange.
	Notes []string
}

// Client is one client-side authentication exchange.
type Client interface {
	// Start returns the mechanism name and the initial response, nil when
	// the mechanism sends none.
	Start() (mech string, initial []byte, err error)
	// Next answers a server challenge. When the challenge is the server's
	// final message (DIGEST-MD5 rspauth, SCRAM server-final) Next verifies
	// it, returns an error if the server did not prove knowledge of the
	// secret, and otherwise returns the empty response the caller sends.
	Next(challenge []byte) (response []byte, err error)
}

// Kind classifies a failure by the reply it becomes.
type Kind int

// Failure kinds.
const (
	// BadCredentials: wrong password, unknown user, failed proof. SMTP 535 5.7.8.
	BadCredentials Kind = iota + 1
	// Malformed: the client's message does not parse. SMTP 501 5.5.2.
	Malformed
	// Temporary: the credentials source failed. SMTP 454 4.7.0.
	Temporary
	// AuthzDenied: the user may not act as the requested authorization identity. SMTP 535 5.7.8.
	AuthzDenied
)

// Error is a mechanism failure. Reason is written for an administrator
// reading the log: precise, and never containing a secret.
type Error struct {
	Kind   Kind
	Reason string
	// User is the username as the client sent it, when known.
	User string
	Err  error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Reason + ": " + e.Err.Error()
	}
	return e.Reason
}

func (e *Error) Unwrap() error { return e.Err }

// Failf returns an *Error of the given kind with a formatted reason.
func Failf(kind Kind, user, format string, args ...any) *Error {
	return &Error{Kind: kind, User: user, Reason: fmt.Sprintf(format, args...)}
}

// ErrUnknownUser is returned by a Credentials source for a user it does not
// know; mechanisms turn it into a BadCredentials failure with reason
// "unknown user".
var ErrUnknownUser = errors.New("unknown user")

// ErrNoSecret is returned by a Credentials source when the user exists but
// no secret for the requested mechanism is stored (e.g. a user created
// before the mechanism was enabled).
var ErrNoSecret = errors.New("no secret stored for this mechanism")

// Credentials is where server mechanisms look up secrets. Implementations
// (the user store) return ErrUnknownUser, ErrNoSecret, or another error for
// a temporary failure. User names are passed as the client sent them;
// the source normalises them (NFC, case of the domain) and the canonical
// name is returned so the mechanism can report it in Result.User.
type Credentials interface {
	// CheckPassword verifies a plaintext password (PLAIN, LOGIN) against a
	// slow hash. It returns the canonical user name on success and
	// ErrWrongPassword on mismatch.
	CheckPassword(user, password string) (canonical string, err error)
	// CRAMMD5Secret returns the HMAC-MD5 inner and outer states of the password.
	CRAMMD5Secret(user string) (canonical string, secret CRAMMD5Secret, err error)
	// DigestMD5Secret returns H({ username-value, ":", realm-value, ":", passwd })
	// for the given realm.
	DigestMD5Secret(user, realm string) (canonical string, ha1 [16]byte, err error)
	// SCRAMSecret returns the SCRAM keys for hash "SHA-1" or "SHA-256".
	SCRAMSecret(user, hash string) (canonical string, secret SCRAMSecret, err error)
	// CertificateUser maps a verified TLS client certificate to a user
	// (EXTERNAL). It returns ErrUnknownUser when no user is mapped.
	CertificateUser(cert *x509.Certificate) (canonical string, err error)
	// MayAuthorize reports whether user may act as authz (authz != user).
	MayAuthorize(user, authz string) bool
}

// ErrWrongPassword is returned by Credentials.CheckPassword on mismatch.
var ErrWrongPassword = errors.New("wrong password")

// ServerInfo is what a server mechanism knows about the connection it runs on.
type ServerInfo struct {
	// Service is the GSSAPI service name, "smtp".
	Service string
	// Hostname is the server's configured name.
	Hostname string
	// Aliases are further names a client may use for this server (digest-uri).
	Aliases []string
	// LocalAddr is the IP address the client connected to, without port.
	LocalAddr string
	// Realms are the DIGEST-MD5 realms offered; the first is the default.
	Realms []string
	// ChannelBindings maps a channel binding type ("tls-unique",
	// "tls-exporter") to its data for this connection; empty without TLS.
	ChannelBindings map[string][]byte
	// PeerCertificate is the verified TLS client certificate, nil when none.
	PeerCertificate *x509.Certificate
	// Nonce returns fresh random bytes for nonces; nil means crypto/rand.
	// Tests inject a fixed source to reproduce RFC vectors.
	Nonce func(n int) []byte
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	// SCRAMIterations is the iteration count used for users' SCRAM secrets
	// (informational; the stored secret carries its own count).
	SCRAMIterations int
}

// ClientInfo is what a client mechanism needs besides credentials.
type ClientInfo struct {
	// Service is "smtp".
	Service string
	// Host is the server name used in DIGEST-MD5's digest-uri.
	Host string
	// ChannelBindings as in ServerInfo; the -PLUS mechanisms need one.
	ChannelBindings map[string][]byte
	// Nonce as in ServerInfo.
	Nonce func(n int) []byte
}
