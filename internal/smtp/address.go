package smtp

import (
	"errors"
	"net/netip"
	"strings"
	"unicode/utf8"
)

// Address is a mailbox: local-part "@" domain (RFC 5321 §4.1.2). The zero
// Address is the null reverse-path "<>".
type Address struct {
	Local  string
	Domain string
}

// IsNull reports the null reverse-path.
func (a Address) IsNull() bool { return a.Local == "" && a.Domain == "" }

// String renders local@domain, "" for the null path. A local part that is
// not a dot-string is quoted.
func (a Address) String() string {
	if a.IsNull() {
		return ""
	}
	l := a.Local
	if !isDotString(l) {
		l = `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(l) + `"`
	}
	return l + "@" + a.Domain
}

// Errors from ParsePath; the server maps them to 501 5.1.7 (sender) or
// 501 5.1.3 (recipient).
var (
	ErrBadPath   = errors.New("malformed address: expected <local@domain>")
	ErrNonASCII  = errors.New("non-ASCII address without SMTPUTF8")
	ErrNullPath  = errors.New("null path not allowed here")
	ErrBadDomain = errors.New("malformed domain")
)

// ParsePath parses a path such as "<user@example.org>" at the start of s
// and returns the address and the rest of s (the ESMTP parameters, leading
// space trimmed). Source routes ("<@a,@b:user@c>") are accepted and
// dropped, as RFC 5321 §4.1.2 and C.1 require. allowNull permits "<>"
// (MAIL FROM). utf8ok permits UTF-8 in the local part and domain (RFC 6531).
// The local part is kept as given (its case is significant); the domain is
// returned as sent.
func ParsePath(s string, allowNull, utf8ok bool) (Address, string, error) {
	if !strings.HasPrefix(s, "<") {
		return Address{}, "", ErrBadPath
	}
	end := closingBracket(s)
	if end < 0 {
		return Address{}, "", ErrBadPath
	}
	inner, rest := s[1:end], strings.TrimLeft(s[end+1:], " ")
	if rest != "" && s[end+1] != ' ' {
		return Address{}, "", ErrBadPath
	}
	if inner == "" {
		if !allowNull {
			return Address{}, "", ErrNullPath
		}
		return Address{}, rest, nil
	}
	if strings.HasPrefix(inner, "@") { // source route: drop up to ':'
		i := strings.IndexByte(inner, ':')
		if i < 0 {
			return Address{}, "", ErrBadPath
		}
		inner = inner[i+1:]
	}
	a, err := ParseMailbox(inner, utf8ok)
	return a, rest, err
}

// closingBracket returns the index of the '>' closing the path, skipping
// quoted strings, or -1.
func closingBracket(s string) int {
	quoted := false
	for i := 1; i < len(s); i++ {
		switch c := s[i]; {
		case quoted && c == '\\':
			i++
		case c == '"':
			quoted = !quoted
		case !quoted && c == '>':
			return i
		}
	}
	return -1
}

// ParseMailbox parses local@domain without brackets.
func ParseMailbox(s string, utf8ok bool) (Address, error) {
	if !utf8.ValidString(s) {
		return Address{}, ErrBadPath
	}
	if !utf8ok {
		for i := 0; i < len(s); i++ {
			if s[i] >= 0x80 {
				return Address{}, ErrNonASCII
			}
		}
	}
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || at == len(s)-1 {
		return Address{}, ErrBadPath
	}
	local, domain := s[:at], s[at+1:]
	if strings.HasPrefix(local, `"`) {
		l, ok := unquote(local)
		if !ok {
			return Address{}, ErrBadPath
		}
		local = l
	} else if !isDotString(local) {
		return Address{}, ErrBadPath
	}
	if len(local) > 64 && !utf8ok || len(local) > 255 {
		return Address{}, ErrBadPath
	}
	if !validDomain(domain) {
		return Address{}, ErrBadDomain
	}
	return Address{Local: local, Domain: domain}, nil
}

// unquote decodes an RFC 5321 quoted-string that spans all of s.
func unquote(s string) (string, bool) {
	if len(s) < 2 || s[len(s)-1] != '"' {
		return "", false
	}
	var b strings.Builder
	for i := 1; i < len(s)-1; i++ {
		c := s[i]
		switch {
		case c == '\\':
			i++
			if i >= len(s)-1 || s[i] < 32 || s[i] > 126 {
				return "", false
			}
			b.WriteByte(s[i])
		case c == '"' || c < 32 || c == 127:
			return "", false
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), true
}

// atext per RFC 5322 §3.2.3, plus any UTF-8 (RFC 6531 checks ASCII-ness separately).
func isAtext(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c >= 0x80:
		return true
	}
	return strings.IndexByte("!#$%&'*+-/=?^_`{|}~", c) >= 0
}

func isDotString(s string) bool {
	if s == "" || s[0] == '.' || s[len(s)-1] == '.' || strings.Contains(s, "..") {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] != '.' && !isAtext(s[i]) {
			return false
		}
	}
	return true
}

func validDomain(d string) bool {
	if strings.HasPrefix(d, "[") {
		return validAddressLiteral(d)
	}
	if len(d) > 255 || d == "" {
		return false
	}
	for _, label := range strings.Split(strings.TrimSuffix(d, "."), ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c >= 0x80) {
				return false
			}
		}
	}
	return true
}

func validAddressLiteral(d string) bool {
	if !strings.HasSuffix(d, "]") {
		return false
	}
	lit := d[1 : len(d)-1]
	if v6, ok := strings.CutPrefix(lit, "IPv6:"); ok {
		a, err := netip.ParseAddr(v6)
		return err == nil && a.Is6()
	}
	a, err := netip.ParseAddr(lit)
	return err == nil && a.Is4()
}
