package sasl

import (
	"fmt"
	"strings"
)

// digestDirective is one `name=value` element of a DIGEST-MD5 challenge or
// response (RFC 2831 §7.1).
type digestDirective struct {
	name   string // lower case
	value  string // quotes removed, backslash escapes resolved
	quoted bool   // the value was a quoted-string
}

// parseDigestDirectives parses a comma-separated list of directives the
// way real peers write it: linear white space around "=" and ",", empty
// list elements, directive names in any case, and values quoted or not
// (an unquoted value runs to the next comma or white space, so unquoted
// base64 survives). Errors name the offending directive and offset but
// never quote a value: the "response" directive is a password proof.
func parseDigestDirectives(b []byte) ([]digestDirective, error) {
	var out []digestDirective
	i := 0
	for {
		for i < len(b) && (isDigestLWS(b[i]) || b[i] == ',') {
			i++
		}
		if i == len(b) {
			return out, nil
		}
		start := i
		for i < len(b) && isDigestTokenChar(b[i]) {
			i++
		}
		if i == start {
			return nil, fmt.Errorf("expected a directive name at offset %d", i)
		}
		d := digestDirective{name: strings.ToLower(string(b[start:i]))}
		i = skipDigestLWS(b, i)
		if i == len(b) || b[i] != '=' {
			return nil, fmt.Errorf("directive %q has no '=' (offset %d)", d.name, i)
		}
		i = skipDigestLWS(b, i+1)
		if i < len(b) && b[i] == '"' {
			d.quoted = true
			var v []byte
			for i++; ; i++ {
				if i == len(b) {
					return nil, fmt.Errorf("unterminated quoted value of directive %q", d.name)
				}
				c := b[i]
				if c == '"' {
					i++
					break
				}
				if c == '\\' {
					i++
					if i == len(b) {
						return nil, fmt.Errorf("unterminated quoted value of directive %q", d.name)
					}
					c = b[i]
				}
				v = append(v, c)
			}
			d.value = string(v)
		} else {
			start = i
			for i < len(b) && !isDigestLWS(b[i]) && b[i] != ',' && b[i] != '"' && b[i] >= 0x20 && b[i] != 0x7f {
				i++
			}
			d.value = string(b[start:i])
		}
		i = skipDigestLWS(b, i)
		if i < len(b) && b[i] != ',' {
			return nil, fmt.Errorf("expected ',' after directive %q at offset %d", d.name, i)
		}
		out = append(out, d)
	}
}

func isDigestLWS(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

func skipDigestLWS(b []byte, i int) int {
	for i < len(b) && isDigestLWS(b[i]) {
		i++
	}
	return i
}

// isDigestTokenChar reports whether c may appear in an RFC 2616 token.
func isDigestTokenChar(c byte) bool {
	if c <= 0x20 || c >= 0x7f {
		return false
	}
	return !strings.ContainsRune(`()<>@,;:\"/[]?={}`, rune(c))
}

// uniqueDigestDirectives indexes directives by name; a repeated directive is
// an error (RFC 2831 allows repetition only of realm, in challenges).
func uniqueDigestDirectives(ds []digestDirective) (map[string]digestDirective, error) {
	m := make(map[string]digestDirective, len(ds))
	for _, d := range ds {
		if _, dup := m[d.name]; dup {
			return nil, fmt.Errorf("directive %q repeated", d.name)
		}
		m[d.name] = d
	}
	return m, nil
}

// quoteDigest writes s as an RFC 2831 quoted-string.
func quoteDigest(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' || s[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('"')
	return b.String()
}

// latin1ToUTF8 decodes ISO 8859-1 bytes, the encoding of username and realm
// when no charset directive is present.
func latin1ToUTF8(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		b.WriteRune(rune(s[i]))
	}
	return b.String()
}
