package userstore

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Length limits from RFC 5321 §4.5.3.1.
const (
	maxLocalPart = 64
	maxDomain    = 255
)

// Canonical applies the username rule: a name without "@" gets "@" +
// defaultDomain appended; the local part (before the "@") is
// NFC-normalised and otherwise kept as given; the domain is lower-cased.
// It rejects, with an error wrapping ErrInvalidAddress, names that are not
// valid UTF-8, have an empty or over-long part, or contain control
// characters, white space or any of `"\<>,;` or a second "@".
func Canonical(name, defaultDomain string) (string, error) {
	local, domain, ok := strings.Cut(name, "@")
	if !ok {
		if defaultDomain == "" {
			return "", fmt.Errorf("%w: %q has no domain and no default domain is configured", ErrInvalidAddress, name)
		}
		domain = defaultDomain
	}
	if strings.Contains(domain, "@") {
		return "", fmt.Errorf("%w: %q contains more than one @", ErrInvalidAddress, name)
	}
	local, err := canonicalLocal(local)
	if err != nil {
		return "", fmt.Errorf("%w: %q: %s", ErrInvalidAddress, name, err)
	}
	domain, err = canonicalDomain(domain)
	if err != nil {
		return "", fmt.Errorf("%w: %q: %s", ErrInvalidAddress, name, err)
	}
	return local + "@" + domain, nil
}

// canonicalLocal validates a local part and returns it in NFC.
func canonicalLocal(local string) (string, error) {
	if local == "" {
		return "", fmt.Errorf("empty local part")
	}
	if err := checkChars(local); err != nil {
		return "", err
	}
	local = norm.NFC.String(local)
	if len(local) > maxLocalPart {
		return "", fmt.Errorf("local part longer than %d octets", maxLocalPart)
	}
	return local, nil
}

// canonicalDomain validates a domain and returns it lower-cased.
func canonicalDomain(domain string) (string, error) {
	if domain == "" {
		return "", fmt.Errorf("empty domain")
	}
	if err := checkChars(domain); err != nil {
		return "", err
	}
	domain = strings.ToLower(norm.NFC.String(domain))
	if len(domain) > maxDomain {
		return "", fmt.Errorf("domain longer than %d octets", maxDomain)
	}
	for label := range strings.SplitSeq(domain, ".") {
		if label == "" {
			return "", fmt.Errorf("domain has an empty label")
		}
	}
	return domain, nil
}

// checkChars rejects invalid UTF-8, control characters, white space and the
// characters that would need quoting in an address.
func checkChars(s string) error {
	if !utf8.ValidString(s) {
		return fmt.Errorf("not valid UTF-8")
	}
	for _, r := range s {
		switch {
		case unicode.IsControl(r) || unicode.IsSpace(r):
			return fmt.Errorf("contains a control or space character")
		case strings.ContainsRune("\"\\<>,;", r):
			return fmt.Errorf("contains %q", r)
		}
	}
	return nil
}

// canonicalSender canonicalises a sender entry: an address under the
// username rule, or "@domain" with the domain lower-cased.
func canonicalSender(sender, defaultDomain string) (string, error) {
	if d, ok := strings.CutPrefix(sender, "@"); ok {
		d, err := canonicalDomain(d)
		if err != nil || strings.Contains(d, "@") {
			return "", fmt.Errorf("%w: sender entry %q is not @domain", ErrInvalidAddress, sender)
		}
		return "@" + d, nil
	}
	return Canonical(sender, defaultDomain)
}
