package smtpclient

import (
	"strconv"
	"strings"

	"postgate/internal/sasl"
)

// Redacted replaces a secret in transcripts and traces.
const Redacted = "<redacted>"

// redactClient returns what may be shown of a client response for mech:
// nothing of PLAIN and LOGIN (the password, and for LOGIN the step is not
// known), the user name but not the digest of CRAM-MD5, DIGEST-MD5
// directives without response=, SCRAM messages without p=. EXTERNAL
// carries only an authorization identity. Unknown mechanisms: nothing.
func redactClient(mech string, b []byte) string {
	if len(b) == 0 {
		return ""
	}
	switch {
	case mech == sasl.CRAMMD5:
		s := string(b)
		if i := strings.LastIndexByte(s, ' '); i >= 0 {
			return printable(s[:i]) + " " + Redacted
		}
		return Redacted
	case mech == sasl.DigestMD5:
		return redactDirectives(string(b), "response")
	case strings.HasPrefix(mech, "SCRAM-"):
		return redactAttrs(string(b), "p")
	case mech == sasl.External:
		return printable(string(b))
	}
	return Redacted
}

// redactServer returns what may be shown of a server challenge: all of
// it, except the server's proofs rspauth= (DIGEST-MD5) and v= (SCRAM).
// Those are not reusable, but like the client's proof they let whoever
// reads them test candidate passwords offline.
func redactServer(mech string, b []byte) string {
	switch {
	case mech == sasl.DigestMD5:
		return redactDirectives(string(b), "rspauth")
	case strings.HasPrefix(mech, "SCRAM-"):
		return redactAttrs(string(b), "v")
	}
	return printable(string(b))
}

// redactAttrs replaces the value of the SCRAM attribute name ("p=...").
func redactAttrs(s, name string) string {
	parts := strings.Split(s, ",")
	for i, p := range parts {
		if strings.HasPrefix(p, name+"=") {
			parts[i] = name + "=" + Redacted
		}
	}
	return printable(strings.Join(parts, ","))
}

// redactDirectives replaces the value of the DIGEST-MD5 directive name.
func redactDirectives(s, name string) string {
	parts := splitDirectives(s)
	for i, p := range parts {
		k, _, ok := strings.Cut(p, "=")
		if ok && strings.EqualFold(strings.TrimSpace(k), name) {
			parts[i] = strings.TrimSpace(k) + "=" + Redacted
		}
	}
	return printable(strings.Join(parts, ","))
}

// splitDirectives splits an RFC 2831 directive list at the commas outside
// quoted strings; each part is trimmed.
func splitDirectives(s string) []string {
	var parts []string
	var cur strings.Builder
	quoted, escaped := false, false
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case escaped:
			escaped = false
		case quoted && ch == '\\':
			escaped = true
		case ch == '"':
			quoted = !quoted
		case ch == ',' && !quoted:
			if t := strings.TrimSpace(cur.String()); t != "" {
				parts = append(parts, t)
			}
			cur.Reset()
			continue
		}
		cur.WriteByte(ch)
	}
	if t := strings.TrimSpace(cur.String()); t != "" {
		parts = append(parts, t)
	}
	return parts
}

// Directive is one name=value pair of a DIGEST-MD5 message, the value
// unquoted.
type Directive struct {
	Name  string
	Value string
}

// Directives parses a DIGEST-MD5 challenge or response as shown in a
// transcript (RFC 2831 §7.1 syntax, leniently): names are lower-cased and
// quoted values unquoted. It is meant for diagnostics, not for the
// mechanism itself.
func Directives(s string) []Directive {
	var out []Directive
	for _, p := range splitDirectives(s) {
		k, v, _ := strings.Cut(p, "=")
		v = strings.TrimSpace(v)
		if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
			var b strings.Builder
			inner := v[1 : len(v)-1]
			for i := 0; i < len(inner); i++ {
				if inner[i] == '\\' && i+1 < len(inner) {
					i++
				}
				b.WriteByte(inner[i])
			}
			v = b.String()
		}
		out = append(out, Directive{Name: strings.ToLower(strings.TrimSpace(k)), Value: v})
	}
	return out
}

// printable escapes control characters and invalid UTF-8 so that server
// text cannot forge lines in a terminal or a log.
func printable(s string) string {
	ok := true
	for _, r := range s {
		if r < 0x20 || r == 0x7f || r == 0xfffd {
			ok = false
			break
		}
	}
	if ok {
		return s
	}
	q := strconv.Quote(s)
	return q[1 : len(q)-1]
}
