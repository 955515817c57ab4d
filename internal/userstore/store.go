package userstore

import (
	"context"
	"errors"
	"time"

	"postgate/internal/sasl"
)

// Store is a user database. Every method applies the username rule (see
// the package documentation) to the names it is given.
type Store interface {
	sasl.Credentials

	// Canonical returns the stored form of a user name or address, or an
	// error wrapping ErrInvalidAddress. It does not look the user up.
	Canonical(name string) (string, error)

	// AddUser creates a user and stores every secret derived from
	// password. It fails with ErrUserExists when the user exists.
	AddUser(ctx context.Context, address, password string) error
	// SetPassword replaces all of a user's secrets with ones derived from
	// password. It fails with sasl.ErrUnknownUser for an unknown user.
	SetPassword(ctx context.Context, address, password string) error
	// DeleteUser removes a user, its secrets and its sender entries.
	DeleteUser(ctx context.Context, address string) error
	// ListUsers returns every user, ordered by address.
	ListUsers(ctx context.Context) ([]User, error)
	// Exists reports whether the user exists. A name that is not a valid
	// address does not exist (false, nil). RCPT TO uses it to refuse
	// unknown local users with 550 5.1.1.
	Exists(ctx context.Context, address string) (bool, error)

	// AddSender lets user use sender in MAIL FROM. sender is an address,
	// or "@domain" for every address in that domain. Adding an entry that
	// exists is not an error.
	AddSender(ctx context.Context, user, sender string) error
	// RemoveSender removes a sender entry; ErrNoSuchSender when absent.
	RemoveSender(ctx context.Context, user, sender string) error
	// Senders returns the addresses user may use in MAIL FROM: the user's
	// own address first, then its sender entries in order.
	Senders(ctx context.Context, user string) ([]string, error)
	// MaySend reports whether user may use from in MAIL FROM: from is the
	// user's own address, equals one of its sender entries, or is in the
	// domain of one of its "@domain" entries. The null reverse-path ("")
	// claims no address and is always allowed.
	MaySend(ctx context.Context, user, from string) (bool, error)

	// Coverage counts, for each kind of secret, the users that lack it.
	Coverage(ctx context.Context) (Coverage, error)

	// Close releases the store.
	Close() error
}

// User describes one stored user.
type User struct {
	// Address is the canonical address, the user name.
	Address string `json:"address"`
	// Senders are the user's sender entries (addresses or "@domain"). The
	// user's own address is always allowed and is not listed here.
	Senders []string `json:"senders"`
	// Created is when the user was added.
	Created time.Time `json:"created"`
	// Mechanisms names the secrets stored for the user: "password",
	// "CRAM-MD5", "SCRAM-SHA-1", "SCRAM-SHA-256", and "DIGEST-MD5:realm"
	// for each realm with a HA1, sorted.
	Mechanisms []string `json:"mechanisms"`
}

// Secret kinds as stored and as reported by Coverage and User.Mechanisms.
const (
	KindPassword    = "password"      // argon2id PHC string: PLAIN, LOGIN
	KindCRAMMD5     = "CRAM-MD5"      // HMAC-MD5 inner and outer states
	KindDigestMD5   = "DIGEST-MD5"    // HA1, one per realm and username form
	KindSCRAMSHA1   = "SCRAM-SHA-1"   // salt, iterations, StoredKey, ServerKey
	KindSCRAMSHA256 = "SCRAM-SHA-256" // as KindSCRAMSHA1, with SHA-256
)

// Coverage reports how many users lack each kind of secret, so that the
// auth policy can avoid advertising a mechanism that cannot succeed for
// every user and log why.
type Coverage struct {
	// Users is the number of users.
	Users int
	// Missing maps KindPassword, KindCRAMMD5, KindSCRAMSHA1 and
	// KindSCRAMSHA256 to the number of users without that secret.
	Missing map[string]int
	// DigestMissing maps each configured DIGEST-MD5 realm (as configured)
	// to the number of users without a HA1 for it under their full address.
	DigestMissing map[string]int
}

// MissingFor returns how many users cannot authenticate with the SASL
// mechanism mech for lack of a stored secret: PLAIN and LOGIN need the
// password hash, the SCRAM mechanisms (with or without -PLUS) their SCRAM
// secret, CRAM-MD5 its states, DIGEST-MD5 a HA1 for every configured realm
// (the largest count over the realms is returned). EXTERNAL needs no
// secret (0). An unknown mechanism returns Users.
func (c Coverage) MissingFor(mech string) int {
	switch mech {
	case sasl.Plain, sasl.Login:
		return c.Missing[KindPassword]
	case sasl.CRAMMD5:
		return c.Missing[KindCRAMMD5]
	case sasl.SCRAMSHA1, sasl.SCRAMSHA1Plus:
		return c.Missing[KindSCRAMSHA1]
	case sasl.SCRAMSHA256, sasl.SCRAMSHA256Plus:
		return c.Missing[KindSCRAMSHA256]
	case sasl.DigestMD5:
		n := 0
		for _, m := range c.DigestMissing {
			n = max(n, m)
		}
		return n
	case sasl.External:
		return 0
	}
	return c.Users
}

// Errors returned by the store besides sasl.ErrUnknownUser, sasl.ErrNoSecret
// and sasl.ErrWrongPassword. They are wrapped with the address concerned
// (never with a password); match them with errors.Is.
var (
	// ErrUserExists: AddUser for an address that is already a user.
	ErrUserExists = errors.New("user already exists")
	// ErrInvalidAddress: a name that the username rule cannot turn into
	// local@domain.
	ErrInvalidAddress = errors.New("invalid address")
	// ErrInvalidPassword: empty, too long, or containing NUL, CR or LF
	// (which no SASL mechanism or the command line can carry).
	ErrInvalidPassword = errors.New("invalid password")
	// ErrNoSuchSender: RemoveSender for an entry the user does not have.
	ErrNoSuchSender = errors.New("no such sender entry")
)
