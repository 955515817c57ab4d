package smtp

import "testing"

// BenchmarkParsePath measures parsing the path of MAIL FROM / RCPT TO
// arguments as the server receives them.
func BenchmarkParsePath(b *testing.B) {
	cases := []struct {
		name, in   string
		allowNull  bool
		utf8ok     bool
		wantLocal  string
		wantDomain string
		wantRest   string
	}{
		{"simple", "<alice@example.org>", false, false, "alice", "example.org", ""},
		{"with params", "<alice.smith+tag@mail.example.org> SIZE=4096 BODY=8BITMIME", false, false, "alice.smith+tag", "mail.example.org", "SIZE=4096 BODY=8BITMIME"},
		{"quoted", `<"john doe"@example.org>`, false, false, "john doe", "example.org", ""},
		{"source route", "<@relay.example,@b.example:bob@example.org>", false, false, "bob", "example.org", ""},
		{"null", "<>", true, false, "", "", ""},
		{"utf8", "<jörg@bücher.example>", false, true, "jörg", "bücher.example", ""},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				a, rest, err := ParsePath(tc.in, tc.allowNull, tc.utf8ok)
				if err != nil || a.Local != tc.wantLocal || a.Domain != tc.wantDomain || rest != tc.wantRest {
					b.Fatalf("ParsePath(%q) = %+v, %q, %v", tc.in, a, rest, err)
				}
			}
		})
	}
}

// BenchmarkParseMailParams measures parsing the ESMTP parameters of MAIL.
func BenchmarkParseMailParams(b *testing.B) {
	cases := []struct {
		name, in string
		check    func(MailParams) bool
	}{
		{"none", "", func(p MailParams) bool { return p.Size == 0 && p.Body == "" }},
		{"size body", "SIZE=4096 BODY=8BITMIME", func(p MailParams) bool { return p.Size == 4096 && p.Body == "8BITMIME" }},
		{"dsn auth smtputf8", "SIZE=1048576 BODY=8BITMIME RET=HDRS ENVID=QQ314159+2B2718 AUTH=alice@example.org SMTPUTF8",
			func(p MailParams) bool {
				return p.Size == 1048576 && p.Ret == "HDRS" && p.EnvID == "QQ314159+2718" && p.HasAuth && p.Auth == "alice@example.org" && p.SMTPUTF8
			}},
		{"deliverby", "BY=3600;RT", func(p MailParams) bool { return p.By != nil && p.By.Seconds == 3600 }},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				p, err := ParseMailParams(tc.in)
				if err != nil || !tc.check(p) {
					b.Fatalf("ParseMailParams(%q) = %+v, %v", tc.in, p, err)
				}
			}
		})
	}
}
