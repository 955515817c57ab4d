package sasl

import (
	"reflect"
	"testing"
)

func TestParseDigestDirectives(t *testing.T) {
	d := func(name, value string, quoted bool) digestDirective { return digestDirective{name, value, quoted} }
	tests := []struct {
		in   string
		want []digestDirective
		err  string
	}{
		{in: ``, want: nil},
		{in: ` , ,`, want: nil},
		{in: `a=b`, want: []digestDirective{d("a", "b", false)}},
		{in: `Nonce="x y",QOP=auth`, want: []digestDirective{d("nonce", "x y", true), d("qop", "auth", false)}},
		{in: "a = \"1\" ,\t b=2 , ,c=\"\"", want: []digestDirective{d("a", "1", true), d("b", "2", false), d("c", "", true)}},
		{in: `realm="a\"b\\c\d"`, want: []digestDirective{d("realm", `a"b\cd`, true)}},
		{in: `cnonce=q3Zk0bJx+9YwT1uV/AcPnw==,nc=00000001`, want: []digestDirective{d("cnonce", "q3Zk0bJx+9YwT1uV/AcPnw==", false), d("nc", "00000001", false)}},
		{in: `realm=,nonce="n"`, want: []digestDirective{d("realm", "", false), d("nonce", "n", true)}},
		{in: "username=\"jos\xe9\"", want: []digestDirective{d("username", "jos\xe9", true)}},
		{in: "a=b\r\n,c=d", want: []digestDirective{d("a", "b", false), d("c", "d", false)}},
		{in: `=b`, err: "expected a directive name at offset 0"},
		{in: `a`, err: `directive "a" has no '=' (offset 1)`},
		{in: `a b=c`, err: `directive "a" has no '=' (offset 2)`},
		{in: `a="b`, err: `unterminated quoted value of directive "a"`},
		{in: `a="b\`, err: `unterminated quoted value of directive "a"`},
		{in: `a="b"c`, err: `expected ',' after directive "a" at offset 5`},
		{in: `a=b c=d`, err: `expected ',' after directive "a" at offset 4`},
		{in: `a=b"`, err: `expected ',' after directive "a" at offset 3`},
		{in: "a=\x01", err: `expected ',' after directive "a" at offset 2`},
	}
	for _, tt := range tests {
		got, err := parseDigestDirectives([]byte(tt.in))
		if tt.err != "" {
			if err == nil || err.Error() != tt.err {
				t.Errorf("%q: error %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%q: got %#v, %v; want %#v", tt.in, got, err, tt.want)
		}
	}
}

func TestQuoteDigestRoundTrip(t *testing.T) {
	for _, s := range []string{"", "plain", `a"b`, `back\slash`, "jos\xe9", `"\"`} {
		ds, err := parseDigestDirectives([]byte("x=" + quoteDigest(s)))
		if err != nil || len(ds) != 1 || ds[0].value != s || !ds[0].quoted {
			t.Errorf("%q: quoted %s parsed as %#v, %v", s, quoteDigest(s), ds, err)
		}
	}
}

func TestUniqueDigestDirectives(t *testing.T) {
	ds, _ := parseDigestDirectives([]byte(`a=1,b=2`))
	if m, err := uniqueDigestDirectives(ds); err != nil || m["a"].value != "1" || m["b"].value != "2" {
		t.Errorf("got %v, %v", m, err)
	}
	ds, _ = parseDigestDirectives([]byte(`a=1,A=2`))
	if _, err := uniqueDigestDirectives(ds); err == nil || err.Error() != `directive "a" repeated` {
		t.Errorf("repeat: %v", err)
	}
}

func TestParseNonceCount(t *testing.T) {
	tests := []struct {
		in   string
		want uint64
		ok   bool
	}{
		{"00000001", 1, true},
		{"0000000A", 10, true},
		{"ffffffff", 0xffffffff, true},
		{"1", 0, false},
		{"000000001", 0, false},
		{"0000000g", 0, false},
		{"+0000001", 0, false},
	}
	for _, tt := range tests {
		got, err := parseNonceCount(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("%q: %d, %v", tt.in, got, err)
		}
	}
}

func TestLatin1ToUTF8(t *testing.T) {
	if got := latin1ToUTF8("jos\xe9 \xff"); got != "josé ÿ" {
		t.Errorf("got %q", got)
	}
}
