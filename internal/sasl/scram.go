package sasl

// Shared SCRAM machinery (RFC 5802, RFC 7677): the GS2 header, the
// attribute=value message syntax, saslname escaping, nonces and the key
// arithmetic. The server and client state machines are in scram_server.go
// and scram_client.go.
//
// Security notes:
//   - The server never stores or sees the password: it checks the proof
//     against StoredKey (H(ClientKey)) and proves itself with ServerKey.
//   - Proofs and signatures are compared in constant time (hmac.Equal).
//   - An unknown user gets a server-first message indistinguishable from a
//     real one (salt derived from the name under a process-wide random key,
//     the configured iteration count), and the failure comes only at the
//     proof, so the exchange does not reveal which users exist.
//   - With channel binding (-PLUS) the client's proof covers the TLS channel
//     (tls-unique, RFC 5929, or tls-exporter, RFC 9266), so a proof relayed
//     through a man in the middle does not verify. A client that could bind
//     but believes the server cannot ("y") while the server offers -PLUS is
//     treated as a downgrade attack.
//   - Error reasons never contain a proof, a key, a signature or a password.

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

const (
	// scramNonceLen is how many random bytes (one nonce character each)
	// a nonce is made of.
	scramNonceLen = 24
	// scramMaxIterations caps the iteration count a client accepts from a
	// server, so a hostile server cannot make it spin for minutes.
	scramMaxIterations = 10_000_000
	// scramDefaultIterations is used for the fake secret of an unknown user
	// when ServerInfo.SCRAMIterations is not set.
	scramDefaultIterations = 4096
	// scramFakeSaltLen is the salt length of the fake secret of an unknown
	// user; it matches the 16-byte salts the user store generates.
	scramFakeSaltLen = 16
)

// scramB64 is the strict, padded base64 SCRAM uses for c=, s=, p= and v=.
var scramB64 = base64.StdEncoding.Strict()

// scramMechName returns the wire name of a SCRAM mechanism.
func scramMechName(hashName string, plus bool) string {
	name := "SCRAM-" + hashName
	if plus {
		name += "-PLUS"
	}
	return name
}

// scramEscape encodes a user or authorization name as a saslname:
// "," becomes "=2C" and "=" becomes "=3D".
func scramEscape(s string) string {
	if !strings.ContainsAny(s, ",=") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case ',':
			b.WriteString("=2C")
		case '=':
			b.WriteString("=3D")
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// scramUnescape decodes a saslname. Any "=" not starting "=2C" or "=3D" is
// malformed, as are a raw ",", NUL, invalid UTF-8 and the empty name.
func scramUnescape(s string) (string, error) {
	if s == "" {
		return "", errors.New("empty name")
	}
	if !utf8.ValidString(s) {
		return "", errors.New("name is not valid UTF-8")
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case 0:
			return "", errors.New("name contains NUL")
		case ',':
			return "", errors.New("name contains a raw ','")
		case '=':
			switch {
			case strings.HasPrefix(s[i:], "=2C"):
				b.WriteByte(',')
			case strings.HasPrefix(s[i:], "=3D"):
				b.WriteByte('=')
			default:
				return "", errors.New("name contains '=' not followed by 2C or 3D")
			}
			i += 2
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}

// scramGS2 is a parsed GS2 header (RFC 5802 §7: gs2-cbind-flag "," [authzid] ",").
type scramGS2 struct {
	// flag is 'n' (client does not support channel binding), 'y' (client
	// supports it but thinks the server does not) or 'p' (client binds).
	flag byte
	// cbType is the channel binding type after "p=".
	cbType string
	// authz is the unescaped authorization identity, "" when absent.
	authz string
	// raw is the header exactly as sent, both commas included; it is what
	// c= must encode.
	raw string
}

// scramParseGS2 splits a client-first message into its GS2 header and the
// client-first-message-bare that follows it.
func scramParseGS2(msg string) (scramGS2, string, error) {
	var g scramGS2
	rest := msg
	switch {
	case strings.HasPrefix(rest, "n,"), strings.HasPrefix(rest, "y,"):
		g.flag = rest[0]
		rest = rest[2:]
	case strings.HasPrefix(rest, "p="):
		end := strings.IndexByte(rest, ',')
		if end < 0 {
			return g, "", errors.New("GS2 header is not terminated")
		}
		g.flag = 'p'
		g.cbType = rest[2:end]
		if !scramValidCBName(g.cbType) {
			return g, "", errors.New("bad channel binding type name")
		}
		rest = rest[end+1:]
	case rest == "":
		return g, "", errors.New("empty message")
	default:
		return g, "", errors.New("GS2 header does not start with n, y or p=")
	}
	end := strings.IndexByte(rest, ',')
	if end < 0 {
		return g, "", errors.New("GS2 header is not terminated")
	}
	if end > 0 {
		a := rest[:end]
		if !strings.HasPrefix(a, "a=") {
			return g, "", errors.New("GS2 header has something other than a= in the authzid position")
		}
		authz, err := scramUnescape(a[2:])
		if err != nil {
			return g, "", fmt.Errorf("bad authzid: %v", err)
		}
		g.authz = authz
	}
	rest = rest[end+1:]
	g.raw = msg[:len(msg)-len(rest)]
	return g, rest, nil
}

// scramValidCBName reports whether s is a cb-name: 1*(ALPHA / DIGIT / "." / "-").
func scramValidCBName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

// scramAttr is one attr-val of a SCRAM message: a single letter, "=", and a
// non-empty value without "," or NUL.
type scramAttr struct {
	key byte
	val string
}

// scramSplitAttrs splits a message into its attributes. It rejects empty
// attributes, keys that are not one ASCII letter, empty values, NUL and
// invalid UTF-8.
func scramSplitAttrs(msg string) ([]scramAttr, error) {
	if msg == "" {
		return nil, errors.New("empty message")
	}
	if !utf8.ValidString(msg) {
		return nil, errors.New("not valid UTF-8")
	}
	if strings.IndexByte(msg, 0) >= 0 {
		return nil, errors.New("contains NUL")
	}
	parts := strings.Split(msg, ",")
	attrs := make([]scramAttr, 0, len(parts))
	for _, p := range parts {
		if len(p) < 2 || p[1] != '=' || !(p[0] >= 'a' && p[0] <= 'z' || p[0] >= 'A' && p[0] <= 'Z') {
			return nil, errors.New("attribute is not of the form x=value")
		}
		if len(p) == 2 {
			return nil, fmt.Errorf("attribute %c= has an empty value", p[0])
		}
		attrs = append(attrs, scramAttr{key: p[0], val: p[2:]})
	}
	return attrs, nil
}

// scramExpect checks that attrs[i] exists and has the given key.
func scramExpect(attrs []scramAttr, i int, key byte) (string, error) {
	if i >= len(attrs) {
		return "", fmt.Errorf("missing %c= attribute", key)
	}
	if attrs[i].key != key {
		return "", fmt.Errorf("expected %c= attribute, got %c=", key, attrs[i].key)
	}
	return attrs[i].val, nil
}

// scramCheckExtensions rejects the mandatory-extension attribute m= among
// the optional extensions attrs (RFC 5802 §5.1: a server that does not
// understand m= must fail); other extensions are ignored.
func scramCheckExtensions(attrs []scramAttr) error {
	for _, a := range attrs {
		if a.key == 'm' {
			return errors.New("unsupported mandatory extension m=")
		}
	}
	return nil
}

// scramValidNonce reports whether s is a SCRAM nonce: 1*printable, where
// printable is %x21-2B / %x2D-7E (no comma).
func scramValidNonce(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x21 || c > 0x7e || c == ',' {
			return false
		}
	}
	return true
}

// scramClientFirst is a parsed client-first-message-bare.
type scramClientFirst struct {
	user  string // unescaped
	nonce string
}

// scramParseClientFirstBare parses [reserved-mext ","] username "," nonce
// ["," extensions]; m= anywhere is rejected.
func scramParseClientFirstBare(bare string) (scramClientFirst, error) {
	var cf scramClientFirst
	attrs, err := scramSplitAttrs(bare)
	if err != nil {
		return cf, err
	}
	if attrs[0].key == 'm' {
		return cf, errors.New("unsupported mandatory extension m=")
	}
	name, err := scramExpect(attrs, 0, 'n')
	if err != nil {
		return cf, err
	}
	if cf.user, err = scramUnescape(name); err != nil {
		return cf, fmt.Errorf("bad username: %v", err)
	}
	if cf.nonce, err = scramExpect(attrs, 1, 'r'); err != nil {
		return cf, err
	}
	if !scramValidNonce(cf.nonce) {
		return cf, errors.New("client nonce has non-printable characters")
	}
	return cf, scramCheckExtensions(attrs[2:])
}

// scramClientFinal is a parsed client-final-message.
type scramClientFinal struct {
	cbind        []byte // decoded c=
	nonce        string
	proof        []byte // decoded p=
	withoutProof string // the message up to, not including, ",p="
}

// scramParseClientFinal parses channel-binding "," nonce ["," extensions]
// "," proof.
func scramParseClientFinal(msg string) (scramClientFinal, error) {
	var cf scramClientFinal
	attrs, err := scramSplitAttrs(msg)
	if err != nil {
		return cf, err
	}
	c, err := scramExpect(attrs, 0, 'c')
	if err != nil {
		return cf, err
	}
	if cf.cbind, err = scramB64.DecodeString(c); err != nil {
		return cf, errors.New("c= is not valid base64")
	}
	if cf.nonce, err = scramExpect(attrs, 1, 'r'); err != nil {
		return cf, err
	}
	last := len(attrs) - 1
	if last < 2 || attrs[last].key != 'p' {
		return cf, errors.New("missing p= attribute at the end")
	}
	if err := scramCheckExtensions(attrs[2:last]); err != nil {
		return cf, err
	}
	if cf.proof, err = scramB64.DecodeString(attrs[last].val); err != nil {
		return cf, errors.New("p= is not valid base64")
	}
	cf.withoutProof = msg[:strings.LastIndex(msg, ",p=")]
	return cf, nil
}

// scramServerFirst is a parsed server-first-message.
type scramServerFirst struct {
	nonce string
	salt  []byte
	iter  int
}

// scramParseServerFirst parses [reserved-mext ","] nonce "," salt ","
// iteration-count ["," extensions].
func scramParseServerFirst(msg string) (scramServerFirst, error) {
	var sf scramServerFirst
	attrs, err := scramSplitAttrs(msg)
	if err != nil {
		return sf, err
	}
	if attrs[0].key == 'm' {
		return sf, errors.New("unsupported mandatory extension m=")
	}
	if sf.nonce, err = scramExpect(attrs, 0, 'r'); err != nil {
		return sf, err
	}
	if !scramValidNonce(sf.nonce) {
		return sf, errors.New("nonce has non-printable characters")
	}
	s, err := scramExpect(attrs, 1, 's')
	if err != nil {
		return sf, err
	}
	if sf.salt, err = scramB64.DecodeString(s); err != nil {
		return sf, errors.New("s= is not valid base64")
	}
	i, err := scramExpect(attrs, 2, 'i')
	if err != nil {
		return sf, err
	}
	if sf.iter, err = scramParseIterations(i); err != nil {
		return sf, err
	}
	return sf, scramCheckExtensions(attrs[3:])
}

// scramParseIterations parses a posit-number (%x31-39 *DIGIT) and caps it.
func scramParseIterations(s string) (int, error) {
	if s == "" || s[0] < '1' || s[0] > '9' {
		return 0, errors.New("i= is not a positive number")
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, errors.New("i= is not a positive number")
		}
	}
	n, err := strconv.Atoi(s)
	if err != nil || n > scramMaxIterations {
		return 0, fmt.Errorf("iteration count exceeds the limit of %d", scramMaxIterations)
	}
	return n, nil
}

// scramParseServerFinal parses (server-error / verifier) ["," extensions].
// It returns the decoded verifier, or the server's error value.
func scramParseServerFinal(msg string) (verifier []byte, serverErr string, err error) {
	attrs, err := scramSplitAttrs(msg)
	if err != nil {
		return nil, "", err
	}
	switch attrs[0].key {
	case 'e':
		return nil, attrs[0].val, nil
	case 'v':
		v, err := scramB64.DecodeString(attrs[0].val)
		if err != nil {
			return nil, "", errors.New("v= is not valid base64")
		}
		return v, "", nil
	}
	return nil, "", errors.New("neither v= nor e= attribute")
}

// scramNonce returns a fresh nonce. Each byte from src (crypto/rand when
// nil) becomes one printable character: bytes that already are printable
// nonce characters are kept, so tests can inject an RFC nonce verbatim, and
// the others are mapped onto the base64 alphabet. Every character carries at
// least 6 bits of entropy, 144 bits for the 24 characters.
func scramNonce(src func(n int) []byte) (string, error) {
	var raw []byte
	if src != nil {
		raw = src(scramNonceLen)
	} else {
		raw = make([]byte, scramNonceLen)
		rand.Read(raw)
	}
	if len(raw) == 0 {
		return "", errors.New("nonce source returned no bytes")
	}
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	out := make([]byte, len(raw))
	for i, c := range raw {
		if c >= 0x21 && c <= 0x7e && c != ',' {
			out[i] = c
		} else {
			out[i] = alphabet[c&63]
		}
	}
	return string(out), nil
}

// scramHashOf returns the hash constructor for hashName, or nil.
func scramHashOf(hashName string) func() hash.Hash {
	h, err := SCRAMHash(hashName)
	if err != nil {
		return nil
	}
	return h
}

// scramHashSum returns H(b).
func scramHashSum(h func() hash.Hash, b []byte) []byte {
	hh := h()
	hh.Write(b)
	return hh.Sum(nil)
}

// scramXOR returns a XOR b; the slices have the same length.
func scramXOR(a, b []byte) []byte {
	out := make([]byte, len(a))
	for i := range a {
		out[i] = a[i] ^ b[i]
	}
	return out
}

// scramCBInput returns what c= must encode: the GS2 header followed, when
// the client binds, by the channel binding data.
func scramCBInput(gs2Header string, cbData []byte) []byte {
	return append([]byte(gs2Header), cbData...)
}

// scramHasChannelBinding reports whether any channel binding data is
// available, i.e. the -PLUS mechanisms are offered on this connection.
func scramHasChannelBinding(cb map[string][]byte) bool {
	for _, d := range cb {
		if len(d) > 0 {
			return true
		}
	}
	return false
}

// scramFakeKey keys the derivation of fake salts for unknown users. It is
// random per process, so the fake salt of a name is stable across
// connections (as a real user's salt is) but cannot be predicted.
var scramFakeKey = sync.OnceValue(func() []byte {
	k := make([]byte, 32)
	rand.Read(k)
	return k
})
