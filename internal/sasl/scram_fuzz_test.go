package sasl

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

// scramFuzzPassword is the password of "user" in the fuzz targets; no error
// may ever contain it.
const scramFuzzPassword = "pencil-fuzz-secret"

// scramFuzzValidExchange returns a client-first and matching client-final
// for the fuzz server (nonce "srvnonce"), so the fuzzer starts from an
// exchange that succeeds.
func scramFuzzValidExchange(plus bool) (first, final []byte) {
	info := ClientInfo{Nonce: scramFixedNonce("clinonce")}
	if plus {
		info.ChannelBindings = scramTLS13
	}
	c := NewSCRAMClient("SHA-256", plus, "", "user", scramFuzzPassword, info)
	_, first, err := c.Start()
	if err != nil {
		panic(err)
	}
	serverFirst := "r=clinoncesrvnonce,s=c2FsdHNhbHQ=,i=4096"
	final, err = c.Next([]byte(serverFirst))
	if err != nil {
		panic(err)
	}
	return first, final
}

// FuzzSCRAMServer feeds arbitrary client-first and client-final messages to
// a SCRAM-SHA-256 server (PLUS or not) and checks that it never panics,
// always fails with a well-formed *Error that reveals no password, and only
// succeeds for the one real user.
func FuzzSCRAMServer(f *testing.F) {
	first, final := scramFuzzValidExchange(false)
	f.Add(first, final, false)
	first, final = scramFuzzValidExchange(true)
	f.Add(first, final, true)
	f.Add([]byte("n,,n=user,r=abc"), []byte("c=biws,r=abcsrvnonce,p=AAAA"), false)
	f.Add([]byte("y,a=x=2Cy,n=us=3Der,r=abc,m=1"), []byte(""), false)
	f.Add([]byte("p=tls-unique,,n=user,r=a"), []byte("c=,r=,p="), true)
	f.Add([]byte("n,,n=ghost,r=abc"), []byte("c=biws,r=abcsrvnonce,x=1,p=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="), false)
	f.Add([]byte(",,,,=,=,"), []byte("\x00\xff"), false)
	f.Fuzz(func(t *testing.T, first, final []byte, plus bool) {
		creds := newTestCredentials("user", scramFuzzPassword)
		creds.salt = []byte("saltsalt")
		s := NewSCRAMServer("SHA-256", plus, ServerInfo{
			Nonce:           scramFixedNonce("srvnonce"),
			ChannelBindings: scramTLS13,
		}, creds)
		check := func(step string, ch []byte, done bool, err error) bool {
			if err == nil {
				return true
			}
			var e *Error
			if !errors.As(err, &e) || e.Kind < BadCredentials || e.Kind > AuthzDenied || e.Reason == "" {
				t.Fatalf("%s: error %#v is not a classified *Error", step, err)
			}
			if !done || ch != nil {
				t.Fatalf("%s: failure with done=%v challenge=%q", step, done, ch)
			}
			if strings.Contains(err.Error(), scramFuzzPassword) {
				t.Fatalf("%s: error reveals the password: %v", step, err)
			}
			return false
		}
		ch, done, err := s.Next(first)
		if !check("client-first", ch, done, err) {
			return
		}
		if done || !strings.HasPrefix(string(ch), "r=") {
			t.Fatalf("server-first = %q, done=%v", ch, done)
		}
		ch, done, err = s.Next(final)
		if !check("client-final", ch, done, err) {
			return
		}
		if done || !strings.HasPrefix(string(ch), "v=") {
			t.Fatalf("server-final = %q, done=%v", ch, done)
		}
		if r := s.Result(); r.User != "user" {
			t.Fatalf("accepted a proof for %q", r.User)
		}
		if _, done, err := s.Next(nil); err != nil || !done {
			t.Fatalf("last step: %v, %v", done, err)
		}
	})
}

// FuzzSCRAMParse checks the message parsers against their own encoders:
// whatever parses must re-encode to the same bytes, and nothing panics.
func FuzzSCRAMParse(f *testing.F) {
	for _, seed := range []string{
		"n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL",
		"p=tls-exporter,a=adm=2Cin,n=a=3Db,r=x",
		"r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096",
		"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
		"v=rmF9pqV8S7suAoZWja4dJRkFsKQ=",
		"e=invalid-proof",
		"a=2C=3D=4",
		"m=x,r=a,s=AA==,i=0999",
		"",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if name, err := scramUnescape(s); err == nil {
			if back := scramEscape(name); back != s {
				t.Fatalf("escape(unescape(%q)) = %q", s, back)
			}
		}
		if s != "" && !strings.ContainsRune(s, 0) && utf8.ValidString(s) {
			if name, err := scramUnescape(scramEscape(s)); err != nil || name != s {
				t.Fatalf("unescape(escape(%q)) = %q", s, name)
			}
		}
		if g, bare, err := scramParseGS2(s); err == nil {
			if g.raw+bare != s || !strings.HasSuffix(g.raw, ",") {
				t.Fatalf("GS2 %q split into %q + %q", s, g.raw, bare)
			}
		}
		if attrs, err := scramSplitAttrs(s); err == nil {
			parts := make([]string, len(attrs))
			for i, a := range attrs {
				parts[i] = string(a.key) + "=" + a.val
			}
			if strings.Join(parts, ",") != s {
				t.Fatalf("attributes of %q rejoin differently", s)
			}
		}
		if cf, err := scramParseClientFinal(s); err == nil {
			if cf.withoutProof+",p="+scramB64.EncodeToString(cf.proof) != s {
				t.Fatalf("client-final %q does not re-encode", s)
			}
		}
		if sf, err := scramParseServerFirst(s); err == nil {
			if sf.iter < 1 || sf.iter > scramMaxIterations || !scramValidNonce(sf.nonce) {
				t.Fatalf("server-first %q parsed to %+v", s, sf)
			}
		}
		scramParseServerFinal(s)
		if cfb, err := scramParseClientFirstBare(s); err == nil && (cfb.user == "" || strings.ContainsRune(cfb.user, 0)) {
			t.Fatalf("client-first %q gave user %q", s, cfb.user)
		}
		// A client must survive any server-first message (costly iteration
		// counts are skipped to keep the fuzzer fast).
		if sf, err := scramParseServerFirst(s); err == nil && sf.iter > 10000 {
			return
		}
		c := NewSCRAMClient("SHA-1", false, "", "user", "pencil", ClientInfo{Nonce: scramFixedNonce("r")})
		c.Start()
		if resp, err := c.Next([]byte(s)); err == nil && s != "" && !strings.HasPrefix(string(resp), "c=biws,r=r") {
			t.Fatalf("client-final %q for server-first %q", resp, s)
		}
	})
}

// The fuzz server's valid seeds really succeed, so the fuzzer explores
// mutations of a complete exchange and not only early failures.
func TestSCRAMFuzzSeedsSucceed(t *testing.T) {
	for _, plus := range []bool{false, true} {
		first, final := scramFuzzValidExchange(plus)
		creds := newTestCredentials("user", scramFuzzPassword)
		creds.salt = []byte("saltsalt")
		s := NewSCRAMServer("SHA-256", plus, ServerInfo{Nonce: scramFixedNonce("srvnonce"), ChannelBindings: scramTLS13}, creds)
		if _, _, err := s.Next(first); err != nil {
			t.Fatalf("plus=%v: %v", plus, err)
		}
		ch, done, err := s.Next(final)
		if err != nil || done || !strings.HasPrefix(string(ch), "v=") {
			t.Fatalf("plus=%v: client-final rejected: %q, %v", plus, ch, err)
		}
	}
}
