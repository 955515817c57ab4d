package sendmail

import (
	"fmt"
	"net/mail"
	"strings"

	"postgate/internal/smtp"
)

// ParseAddressList returns the addresses of an RFC 5322 address list as
// found in To, Cc and Bcc: display names, comments and group syntax are
// dropped ("undisclosed-recipients:;" yields nothing). It is lenient, as
// mail from scripts needs: an element without a domain ("root",
// "Root <root>") is returned bare, to be qualified later. An element that
// cannot be understood at all is an error.
func ParseAddressList(s string) ([]string, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	if list, err := mail.ParseAddressList(s); err == nil {
		var out []string
		for _, a := range list {
			out = append(out, quoteLocal(a.Address))
		}
		return out, nil
	}
	var out []string
	for _, elem := range splitTopLevel(stripComments(s)) {
		elem = strings.TrimSpace(elem)
		// Group syntax: "name: a, b;" has been split at commas; drop the
		// "name:" before the first member and the ";" after the last.
		if i := strings.IndexByte(elem, ':'); i >= 0 && !strings.Contains(elem[:i], "<") && !strings.Contains(elem[:i], `"`) {
			elem = strings.TrimSpace(elem[i+1:])
		}
		elem = strings.TrimSpace(strings.TrimSuffix(elem, ";"))
		if elem == "" {
			continue
		}
		if l := strings.LastIndexByte(elem, '<'); l >= 0 {
			r := strings.IndexByte(elem[l:], '>')
			if r < 0 {
				return nil, fmt.Errorf("address %q: missing '>'", elem)
			}
			elem = strings.TrimSpace(elem[l+1 : l+r])
		}
		if a, err := mail.ParseAddress(elem); err == nil {
			out = append(out, quoteLocal(a.Address))
			continue
		}
		if !isBareLocal(elem) {
			return nil, fmt.Errorf("cannot parse address %q", elem)
		}
		out = append(out, elem)
	}
	return out, nil
}

// splitTopLevel splits at commas outside quoted strings and angle brackets.
func splitTopLevel(s string) []string {
	var out []string
	var quoted, escaped bool
	depth, start := 0, 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case escaped:
			escaped = false
		case c == '\\' && quoted:
			escaped = true
		case c == '"':
			quoted = !quoted
		case quoted:
		case c == '<':
			depth++
		case c == '>' && depth > 0:
			depth--
		case c == ',' && depth == 0:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

// stripComments removes RFC 5322 comments "(...)" outside quoted strings.
func stripComments(s string) string {
	var b strings.Builder
	var quoted, escaped bool
	depth := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case escaped:
			escaped = false
		case c == '\\' && (quoted || depth > 0):
			escaped = true
			if depth > 0 {
				continue
			}
		case c == '"' && depth == 0:
			quoted = !quoted
		case quoted:
		case c == '(':
			depth++
			continue
		case c == ')' && depth > 0:
			depth--
			continue
		}
		if depth == 0 {
			b.WriteByte(c)
		}
	}
	return b.String()
}

// isBareLocal reports whether s is a plain local name such as "root" or
// "john.doe": RFC 5322 dot-atom characters without "@".
func isBareLocal(s string) bool {
	if s == "" || s[0] == '.' || s[len(s)-1] == '.' || strings.Contains(s, "..") {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x80 || c <= ' ' || strings.IndexByte(`()<>[]:;@\,"`, c) >= 0 || c == 0x7f {
			return false
		}
	}
	return true
}

// Qualify returns addr with "@domain" appended when it has no domain, and
// "" for the null address ("" or "<>").
func Qualify(addr, domain string) string {
	addr = strings.TrimSpace(addr)
	if addr == "" || addr == "<>" {
		return ""
	}
	addr = strings.TrimSuffix(strings.TrimPrefix(addr, "<"), ">")
	if !strings.Contains(addr, "@") {
		return addr + "@" + domain
	}
	return addr
}

// checkMailbox validates addr as an RFC 5321 mailbox before it goes into
// a MAIL or RCPT command, so no argument or header can inject commands.
// utf8 reports whether it needs SMTPUTF8.
func checkMailbox(addr string) (utf8 bool, err error) {
	if _, err := smtp.ParseMailbox(addr, true); err != nil {
		return false, fmt.Errorf("%q is not a valid address: %v", addr, err)
	}
	return has8bit([]byte(addr)), nil
}

// quoteLocal renders an address net/mail returned (local part unquoted)
// in RFC 5321 form, quoting the local part when it is not a dot-string.
func quoteLocal(addr string) string {
	at := strings.LastIndexByte(addr, '@')
	if at < 0 {
		return addr
	}
	return smtp.Address{Local: addr[:at], Domain: addr[at+1:]}.String()
}
