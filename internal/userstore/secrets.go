package userstore

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"postgate/internal/sasl"
)

// maxPassword bounds a password's length in octets.
const maxPassword = 1024

// scramSaltLen is the length of each SCRAM salt.
const scramSaltLen = 16

// secretRow is one row of the secrets table.
type secretRow struct {
	kind  string
	realm string // DIGEST-MD5 only
	// authcid is the username string hashed into a DIGEST-MD5 HA1: the
	// full address, or the bare local part. Empty for other kinds.
	authcid string
	data    string
}

// checkPasswordText rejects passwords no mechanism could carry. The error
// never contains the password.
func checkPasswordText(password string) error {
	switch {
	case password == "":
		return fmt.Errorf("%w: empty", ErrInvalidPassword)
	case len(password) > maxPassword:
		return fmt.Errorf("%w: longer than %d octets", ErrInvalidPassword, maxPassword)
	case !utf8.ValidString(password):
		return fmt.Errorf("%w: not valid UTF-8", ErrInvalidPassword)
	case strings.ContainsAny(password, "\x00\r\n"):
		return fmt.Errorf("%w: contains NUL, CR or LF", ErrInvalidPassword)
	}
	return nil
}

// normalizePassword puts a password in NFC, the form used for every
// derivation and check. For passwords without compatibility characters
// this equals what SASLprep (RFC 4013), which SCRAM clients apply, yields.
func normalizePassword(password string) string { return norm.NFC.String(password) }

// deriveSecrets computes every stored secret for address (canonical) and
// password (normalised). DIGEST-MD5 gets a HA1 per realm for the full
// address and, when the domain is the default domain, for the bare local
// part too, because the client hashes the username as it typed it.
func deriveSecrets(address, password string, o *Options) ([]secretRow, error) {
	rows := []secretRow{{kind: KindPassword, data: hashPassword(password, o.Argon2)}}

	cram := sasl.DeriveCRAMMD5(password)
	rows = append(rows, secretRow{kind: KindCRAMMD5, data: hex.EncodeToString(cram.Inner[:]) + hex.EncodeToString(cram.Outer[:])})

	for _, h := range []struct{ kind, hash string }{{KindSCRAMSHA1, "SHA-1"}, {KindSCRAMSHA256, "SHA-256"}} {
		salt := make([]byte, scramSaltLen)
		rand.Read(salt)
		s, err := sasl.DeriveSCRAM(h.hash, password, salt, o.SCRAMIterations)
		if err != nil {
			return nil, fmt.Errorf("deriving %s secret: %w", h.kind, err)
		}
		rows = append(rows, secretRow{kind: h.kind, data: encodeSCRAM(s)})
	}

	local, domain, _ := strings.Cut(address, "@")
	forms := []string{address}
	if domain == o.DefaultDomain {
		forms = append(forms, local)
	}
	for _, realm := range o.DigestRealms {
		for _, u := range forms {
			ha1 := sasl.DeriveDigestMD5(u, realm, password)
			rows = append(rows, secretRow{kind: KindDigestMD5, realm: realm, authcid: u, data: hex.EncodeToString(ha1[:])})
		}
	}
	return rows, nil
}

// errBadSecret reports a stored secret that does not decode; it never
// includes the stored value.
var errBadSecret = errors.New("stored secret is malformed")

// encodeSCRAM renders a SCRAM secret as "iterations$salt$StoredKey$ServerKey",
// the byte strings in unpadded base64.
func encodeSCRAM(s sasl.SCRAMSecret) string {
	return strconv.Itoa(s.Iterations) + "$" + b64.EncodeToString(s.Salt) + "$" +
		b64.EncodeToString(s.StoredKey) + "$" + b64.EncodeToString(s.ServerKey)
}

// decodeSCRAM parses what encodeSCRAM wrote.
func decodeSCRAM(data string) (sasl.SCRAMSecret, error) {
	f := strings.Split(data, "$")
	if len(f) != 4 {
		return sasl.SCRAMSecret{}, errBadSecret
	}
	iter, err := strconv.Atoi(f[0])
	salt, err1 := b64.DecodeString(f[1])
	stored, err2 := b64.DecodeString(f[2])
	server, err3 := b64.DecodeString(f[3])
	if err != nil || err1 != nil || err2 != nil || err3 != nil || iter < 1 || len(salt) == 0 {
		return sasl.SCRAMSecret{}, errBadSecret
	}
	return sasl.SCRAMSecret{Salt: salt, Iterations: iter, StoredKey: stored, ServerKey: server}, nil
}

// decodeCRAM parses the hex inner||outer states.
func decodeCRAM(data string) (sasl.CRAMMD5Secret, error) {
	var s sasl.CRAMMD5Secret
	b, err := hex.DecodeString(data)
	if err != nil || len(b) != 32 {
		return s, errBadSecret
	}
	copy(s.Inner[:], b[:16])
	copy(s.Outer[:], b[16:])
	return s, nil
}

// decodeHA1 parses a hex HA1.
func decodeHA1(data string) ([16]byte, error) {
	var h [16]byte
	b, err := hex.DecodeString(data)
	if err != nil || len(b) != 16 {
		return h, errBadSecret
	}
	copy(h[:], b)
	return h, nil
}
