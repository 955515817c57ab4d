package sasl

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/sha256"
	"encoding"
	"encoding/binary"
	"fmt"
	"hash"
	"unicode/utf8"
)

// CRAMMD5Secret holds the MD5 chaining values of HMAC-MD5 keyed with the
// password, after the inner (ipad) and outer (opad) key blocks. It proves
// knowledge of the password for CRAM-MD5 exactly as the password would, so
// it is as sensitive as a password for that mechanism, but it does not reveal
// the password itself (this is what Dovecot and Cyrus store for CRAM-MD5).
type CRAMMD5Secret struct {
	Inner [16]byte
	Outer [16]byte
}

// SCRAMSecret holds what RFC 5802 §3 lets a server store: salt, iteration
// count, StoredKey and ServerKey. A leak allows impersonating the server
// to clients but not logging in as the user.
type SCRAMSecret struct {
	Salt       []byte
	Iterations int
	StoredKey  []byte
	ServerKey  []byte
}

// SCRAMHash returns the hash constructor for "SHA-1" or "SHA-256".
func SCRAMHash(name string) (func() hash.Hash, error) {
	switch name {
	case "SHA-1":
		return sha1.New, nil
	case "SHA-256":
		return sha256.New, nil
	}
	return nil, fmt.Errorf("unknown SCRAM hash %q", name)
}

// DeriveSCRAM computes the stored SCRAM secret for a password.
func DeriveSCRAM(hashName, password string, salt []byte, iterations int) (SCRAMSecret, error) {
	h, err := SCRAMHash(hashName)
	if err != nil {
		return SCRAMSecret{}, err
	}
	salted, err := pbkdf2.Key(h, password, salt, iterations, h().Size())
	if err != nil {
		return SCRAMSecret{}, err
	}
	clientKey := hmacSum(h, salted, "Client Key")
	hh := h()
	hh.Write(clientKey)
	return SCRAMSecret{
		Salt:       append([]byte(nil), salt...),
		Iterations: iterations,
		StoredKey:  hh.Sum(nil),
		ServerKey:  hmacSum(h, salted, "Server Key"),
	}, nil
}

func hmacSum(h func() hash.Hash, key []byte, msg string) []byte {
	m := hmac.New(h, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}

// DeriveCRAMMD5 computes the HMAC-MD5 key states for a password.
func DeriveCRAMMD5(password string) CRAMMD5Secret {
	key := []byte(password)
	if len(key) > 64 {
		s := md5.Sum(key)
		key = s[:]
	}
	var ipad, opad [64]byte
	copy(ipad[:], key)
	copy(opad[:], key)
	for i := range ipad {
		ipad[i] ^= 0x36
		opad[i] ^= 0x5c
	}
	return CRAMMD5Secret{Inner: md5State(ipad[:]), Outer: md5State(opad[:])}
}

// md5State returns the MD5 chaining value after one 64-byte block.
func md5State(block []byte) [16]byte {
	h := md5.New()
	h.Write(block)
	b, err := h.(encoding.BinaryMarshaler).MarshalBinary()
	if err != nil {
		panic(err) // crypto/md5 always marshals
	}
	var s [16]byte
	copy(s[:], b[4:20]) // after the 4-byte magic: a, b, c, d big-endian
	return s
}

// md5Resume returns an MD5 hash that continues from a chaining value saved
// by md5State, as if one 64-byte block had been written.
func md5Resume(state [16]byte) hash.Hash {
	var b [4 + 16 + 64 + 8]byte
	copy(b[:4], "md5\x01")
	copy(b[4:20], state[:])
	binary.BigEndian.PutUint64(b[84:], 64)
	h := md5.New()
	if err := h.(encoding.BinaryUnmarshaler).UnmarshalBinary(b[:]); err != nil {
		panic(err) // the layout above is crypto/md5's own
	}
	return h
}

// Digest computes HMAC-MD5(password, challenge) from the stored states.
func (s CRAMMD5Secret) Digest(challenge []byte) [16]byte {
	inner := md5Resume(s.Inner)
	inner.Write(challenge)
	outer := md5Resume(s.Outer)
	outer.Write(inner.Sum(nil))
	var d [16]byte
	copy(d[:], outer.Sum(nil))
	return d
}

// DeriveDigestMD5 computes H({ username-value, ":", realm-value, ":", passwd })
// as a client using charset=utf-8 does (RFC 2831 §2.1.2): when all three
// strings can be represented in ISO 8859-1 they are converted to it first.
// A client that sends no charset directive hashes ISO 8859-1 as well, so the
// one value serves both.
func DeriveDigestMD5(user, realm, password string) [16]byte {
	u, r, p := user, realm, password
	if l1, ok := latin1(u + "\x00" + r + "\x00" + p); ok {
		parts := splitNUL(l1)
		u, r, p = parts[0], parts[1], parts[2]
	}
	return md5.Sum([]byte(u + ":" + r + ":" + p))
}

// latin1 converts a UTF-8 string to ISO 8859-1 if every rune fits.
func latin1(s string) (string, bool) {
	out := make([]byte, 0, len(s))
	for _, r := range s {
		if r == utf8.RuneError || r > 0xff {
			return "", false
		}
		out = append(out, byte(r))
	}
	return string(out), true
}

func splitNUL(s string) []string {
	var parts []string
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			parts = append(parts, s[start:i])
			start = i + 1
		}
	}
	return append(parts, s[start:])
}
