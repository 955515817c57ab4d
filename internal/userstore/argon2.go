package userstore

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Argon2Params are the argon2id cost parameters for newly set passwords.
// A stored hash carries its own parameters, so changing them affects only
// passwords set afterwards.
type Argon2Params struct {
	// Memory in KiB.
	Memory uint32
	// Time is the number of passes.
	Time uint32
	// Threads is the degree of parallelism.
	Threads uint8
}

// DefaultArgon2 is OWASP's recommended argon2id configuration
// (m=19 MiB, t=2, p=1): tens of milliseconds per login, and little memory
// per concurrent attempt.
var DefaultArgon2 = Argon2Params{Memory: 19 * 1024, Time: 2, Threads: 1}

const (
	argon2SaltLen = 16
	argon2KeyLen  = 32
	// Bounds on parameters read from a stored hash, so a corrupted row
	// cannot make a login allocate unbounded memory.
	argon2MaxMemory = 4 << 20 // KiB, 4 GiB
	argon2MaxTime   = 100
)

var b64 = base64.RawStdEncoding

// hashPassword returns the argon2id PHC string for password with a fresh
// random salt: $argon2id$v=19$m=M,t=T,p=P$salt$hash.
func hashPassword(password string, p Argon2Params) string {
	salt := make([]byte, argon2SaltLen)
	rand.Read(salt)
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, argon2KeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// errBadHash reports a stored hash that does not parse; it never includes
// the stored value.
var errBadHash = errors.New("stored password hash is malformed")

// verifyPassword reports whether password matches the PHC string, in time
// that does not depend on where the two differ.
func verifyPassword(phc, password string) (bool, error) {
	p, salt, want, err := parsePHC(phc)
	if err != nil {
		return false, err
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// parsePHC splits an argon2id PHC string into its parameters, salt and hash.
func parsePHC(phc string) (Argon2Params, []byte, []byte, error) {
	var p Argon2Params
	f := strings.Split(phc, "$")
	if len(f) != 6 || f[0] != "" || f[1] != "argon2id" || f[2] != "v="+strconv.Itoa(argon2.Version) {
		return p, nil, nil, errBadHash
	}
	for kv := range strings.SplitSeq(f[3], ",") {
		k, v, _ := strings.Cut(kv, "=")
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return p, nil, nil, errBadHash
		}
		switch k {
		case "m":
			p.Memory = uint32(n)
		case "t":
			p.Time = uint32(n)
		case "p":
			if n > 255 {
				return p, nil, nil, errBadHash
			}
			p.Threads = uint8(n)
		default:
			return p, nil, nil, errBadHash
		}
	}
	salt, err1 := b64.DecodeString(f[4])
	key, err2 := b64.DecodeString(f[5])
	if err1 != nil || err2 != nil || len(salt) < 8 || len(key) < 16 ||
		p.Time < 1 || p.Time > argon2MaxTime || p.Threads < 1 ||
		p.Memory < 8*uint32(p.Threads) || p.Memory > argon2MaxMemory {
		return p, nil, nil, errBadHash
	}
	return p, salt, key, nil
}
