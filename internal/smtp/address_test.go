package smtp

import "testing"

func TestParsePath(t *testing.T) {
	cases := []struct {
		in        string
		null, u8  bool
		want      string
		rest      string
		wantError error
	}{
		{in: "<a@example.org>", want: "a@example.org"},
		{in: "<a@example.org> SIZE=10", want: "a@example.org", rest: "SIZE=10"},
		{in: "<>", null: true, want: ""},
		{in: "<>", wantError: ErrNullPath},
		{in: "<@relay.example,@r2.example:a@example.org>", want: "a@example.org"},
		{in: `<"john doe"@example.org>`, want: `"john doe"@example.org`},
		{in: `<"a>b"@example.org>`, want: `"a>b"@example.org`},
		{in: "<first.last+tag@sub.example.org>", want: "first.last+tag@sub.example.org"},
		{in: "<a@[192.0.2.1]>", want: "a@[192.0.2.1]"},
		{in: "<a@[IPv6:2001:db8::1]>", want: "a@[IPv6:2001:db8::1]"},
		{in: "a@example.org", wantError: ErrBadPath},
		{in: "<a@example.org", wantError: ErrBadPath},
		{in: "<a@example.org>SIZE=1", wantError: ErrBadPath},
		{in: "<a..b@example.org>", wantError: ErrBadPath},
		{in: "<.a@example.org>", wantError: ErrBadPath},
		{in: "<a@>", wantError: ErrBadPath},
		{in: "<@example.org>", wantError: ErrBadPath},
		{in: "<a b@example.org>", wantError: ErrBadPath},
		{in: "<a@-bad.example>", wantError: ErrBadDomain},
		{in: "<a@exa_mple.org>", wantError: ErrBadDomain},
		{in: "<a@[300.1.1.1]>", wantError: ErrBadDomain},
		{in: "<jörg@example.org>", wantError: ErrNonASCII},
		{in: "<jörg@exämple.org>", u8: true, want: "jörg@exämple.org"},
	}
	for _, tc := range cases {
		a, rest, err := ParsePath(tc.in, tc.null, tc.u8)
		if err != tc.wantError {
			t.Errorf("%q: error %v, want %v", tc.in, err, tc.wantError)
			continue
		}
		if err == nil && (a.String() != tc.want || rest != tc.rest) {
			t.Errorf("%q: got %q rest %q, want %q rest %q", tc.in, a.String(), rest, tc.want, tc.rest)
		}
	}
}

func TestXtext(t *testing.T) {
	good := map[string]string{"abc": "abc", "a+2Bb": "a+b", "+3D": "=", "x+2bY": "x+Y"}
	for in, want := range good {
		got, err := DecodeXtext(in)
		if err != nil || got != want {
			t.Errorf("DecodeXtext(%q) = %q, %v; want %q", in, got, err, want)
		}
		if back, _ := DecodeXtext(EncodeXtext(want)); back != want {
			t.Errorf("round trip of %q gave %q", want, back)
		}
	}
	// CR and LF must never survive decoding; malformed escapes fail.
	for _, in := range []string{"a+0D+0Ab", "+0A", "a+", "a+4", "a+ZZ", "a=b", "a b"} {
		if got, err := DecodeXtext(in); err == nil {
			t.Errorf("DecodeXtext(%q) = %q, want error", in, got)
		}
	}
}
