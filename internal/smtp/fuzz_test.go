package smtp

import (
	"strings"
	"testing"
)

// FuzzParsePath: any input either fails or yields an address whose
// rendering parses back to the same address, with no CR, LF or NUL.
func FuzzParsePath(f *testing.F) {
	for _, s := range []string{"<a@example.org>", "<>", "<@r.example:a@b.example> SIZE=1",
		`<"a b"@example.org>`, "<a@[IPv6:::1]>", "<jörg@exämple.org>", "<a@b", "<\"\\\x00\"@x>"} {
		f.Add(s, true, true)
	}
	f.Fuzz(func(t *testing.T, s string, null, utf8ok bool) {
		a, _, err := ParsePath(s, null, utf8ok)
		if err != nil {
			return
		}
		out := a.String()
		if strings.ContainsAny(out, "\r\n\x00") {
			t.Fatalf("%q parsed to %q", s, out)
		}
		if a.IsNull() {
			return
		}
		b, err := ParseMailbox(out, true)
		if err != nil || b != a {
			t.Fatalf("%q -> %q does not parse back (%v, %+v)", s, out, err, b)
		}
	})
}

// FuzzParseMailParams: decoded values never carry CR, LF or NUL into the
// envelope, whatever the client sends.
func FuzzParseMailParams(f *testing.F) {
	for _, s := range []string{"SIZE=10 BODY=8BITMIME SMTPUTF8", "RET=FULL ENVID=a+0Db", "AUTH=<> BY=10;NT",
		"AUTH=a+2Bb@example.org", "ENVID=+0A"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParseMailParams(s)
		if err != nil {
			if err.Reply.Code < 500 || err.Reply.Enhanced == "" {
				t.Fatalf("%q: reply %+v", s, err.Reply)
			}
			return
		}
		for _, v := range []string{p.EnvID, p.Auth, p.Body, p.Ret} {
			if strings.ContainsAny(v, "\r\n\x00") {
				t.Fatalf("%q decoded to %q", s, v)
			}
		}
	})
}
