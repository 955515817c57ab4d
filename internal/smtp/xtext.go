package smtp

import (
	"errors"
	"strings"
)

// ErrBadXtext reports malformed xtext or xtext that decodes to a control
// character (CR and LF must never survive decoding into a stored envelope).
var ErrBadXtext = errors.New("malformed xtext")

// DecodeXtext decodes RFC 3461 §4 xtext: "+" followed by two upper-case hex
// digits encodes one octet; other characters are printable ASCII except
// "+" and "=". The decoded value must be printable ASCII too.
func DecodeXtext(s string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '+' {
			if i+2 >= len(s) {
				return "", ErrBadXtext
			}
			v, ok := hexByte(s[i+1], s[i+2])
			if !ok {
				return "", ErrBadXtext
			}
			c = v
			i += 2
		} else if c == '=' || c < 33 || c > 126 {
			return "", ErrBadXtext
		}
		if c < 32 || c == 127 {
			return "", ErrBadXtext
		}
		b.WriteByte(c)
	}
	return b.String(), nil
}

// EncodeXtext encodes s as xtext.
func EncodeXtext(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 33 || c > 126 || c == '+' || c == '=' {
			b.WriteString("+" + strings.ToUpper(string("0123456789abcdef"[c>>4])+string("0123456789abcdef"[c&15])))
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

func hexByte(h, l byte) (byte, bool) {
	hv, ok1 := hexVal(h)
	lv, ok2 := hexVal(l)
	return hv<<4 | lv, ok1 && ok2
}

func hexVal(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	case c >= 'a' && c <= 'f': // RFC 3461 says upper case; accept lower, as Postfix does
		return c - 'a' + 10, true
	}
	return 0, false
}
