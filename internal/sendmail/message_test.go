package sendmail

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestReadMessage(t *testing.T) {
	tests := []struct {
		name       string
		in         string
		ignoreDots bool
		want       string
	}{
		{"LF to CRLF", "a\nb\n", false, "a\r\nb\r\n"},
		{"CRLF kept", "a\r\nb\r\n", false, "a\r\nb\r\n"},
		{"no final newline", "a\nb", false, "a\r\nb\r\n"},
		{"CR CR LF", "a\r\r\nb\n", false, "a\r\nb\r\n"},
		{"lone CR ends a line", "a\rb\n", false, "a\r\nb\r\n"},
		{"dot ends input", "a\n.\nnot read\n", false, "a\r\n"},
		{"dot CRLF ends input", "a\r\n.\r\nnot read\r\n", false, "a\r\n"},
		{"-i: dot is data", "a\n.\nb\n", true, "a\r\n.\r\nb\r\n"},
		{"dot with text is data", "a\n.b\n..\n", false, "a\r\n.b\r\n..\r\n"},
		{"empty lines kept", "a\n\n\nb\n", false, "a\r\n\r\n\r\nb\r\n"},
		{"empty input", "", false, ""},
		{"8-bit kept", "caf\xc3\xa9\n", false, "caf\xc3\xa9\r\n"},
	}
	for _, tt := range tests {
		got, err := ReadMessage(strings.NewReader(tt.in), tt.ignoreDots, 0)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if string(got) != tt.want {
			t.Errorf("%s: ReadMessage(%q) = %q, want %q", tt.name, tt.in, got, tt.want)
		}
	}
	_, err := ReadMessage(strings.NewReader(strings.Repeat("x\n", 100)), false, 50)
	if !errors.Is(err, ErrTooBig) {
		t.Errorf("over the limit: %v, want ErrTooBig", err)
	}
	if ExitCodeOf(err) != ExDataErr {
		t.Errorf("too big: exit %d, want %d", ExitCodeOf(err), ExDataErr)
	}
}

func TestDotStuff(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ".\r\n"},
		{"a\r\n", "a\r\n.\r\n"},
		{".\r\n", "..\r\n.\r\n"},
		{"a\r\n.b\r\n..\r\n", "a\r\n..b\r\n...\r\n.\r\n"},
		{"x\r\n.", "x\r\n..\r\n.\r\n"},
	}
	for _, tt := range tests {
		if got := string(dotStuff([]byte(tt.in))); got != tt.want {
			t.Errorf("dotStuff(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestParseMessage(t *testing.T) {
	tests := []struct {
		name       string
		in         string
		wantFields []string
		wantBody   string
	}{
		{"plain", "Subject: hi\r\nTo: a@b\r\n\r\nbody\r\n", []string{"Subject", "To"}, "body\r\n"},
		{"folded", "Subject: a\r\n  long\r\n\tsubject\r\nX: y\r\n\r\nb\r\n", []string{"Subject", "X"}, "b\r\n"},
		{"From_ line dropped", "From alice Mon Jan 1 00:00:00 2026\r\nSubject: s\r\n\r\nb\r\n", []string{"Subject"}, "b\r\n"},
		{"no header", "just text\r\nmore\r\n", nil, "just text\r\nmore\r\n"},
		{"header then text without blank line", "Subject: s\r\nthis is body\r\n", []string{"Subject"}, "this is body\r\n"},
		{"no body", "Subject: s\r\n", []string{"Subject"}, ""},
		{"continuation first is body", " indented\r\n", nil, " indented\r\n"},
	}
	for _, tt := range tests {
		m := ParseMessage([]byte(tt.in))
		var names []string
		for _, f := range m.Fields {
			names = append(names, f.Name)
		}
		if !reflect.DeepEqual(names, tt.wantFields) || string(m.Body) != tt.wantBody {
			t.Errorf("%s: fields %q body %q, want %q %q", tt.name, names, m.Body, tt.wantFields, tt.wantBody)
		}
	}
	m := ParseMessage([]byte("Subject: a\r\n  long\r\n\tsubject\r\n\r\n"))
	if v := m.Values("subject"); len(v) != 1 || v[0] != "a  long\tsubject" {
		t.Errorf("unfolded value %q", v)
	}
}

func TestParseAddressList(t *testing.T) {
	tests := []struct {
		in   string
		want []string
		bad  bool
	}{
		{"bob@example.org", []string{"bob@example.org"}, false},
		{`"Doe, John" <john@example.org>, jane@example.org (Jane)`, []string{"john@example.org", "jane@example.org"}, false},
		{"undisclosed-recipients:;", nil, false},
		{"Team: a@x.org, b@x.org;, c@x.org", []string{"a@x.org", "b@x.org", "c@x.org"}, false},
		{"root", []string{"root"}, false},
		{"root, Admin <admin>, bob@example.org", []string{"root", "admin", "bob@example.org"}, false},
		{"=?utf-8?q?J=C3=B6rg?= <joerg@example.org>", []string{"joerg@example.org"}, false},
		{`"john doe"@example.org`, []string{`"john doe"@example.org`}, false},
		{"", nil, false},
		{"<unterminated", nil, true},
		{"two words", nil, true},
	}
	for _, tt := range tests {
		got, err := ParseAddressList(tt.in)
		if (err != nil) != tt.bad {
			t.Errorf("ParseAddressList(%q) error %v, want error %v", tt.in, err, tt.bad)
			continue
		}
		if !tt.bad && !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseAddressList(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

var testNow = time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)

func prep(t *testing.T, args []string, in string) (*Submission, *Message, error) {
	t.Helper()
	o, err := Parse(args)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := ReadMessage(strings.NewReader(in), o.IgnoreDots, 0)
	if err != nil {
		t.Fatal(err)
	}
	sub, err := Prepare(o, raw, Identity{Login: "alice", FullName: "Alice Liddell"}, "example.org", "mail.example.org", testNow)
	if err != nil {
		return nil, nil, err
	}
	return sub, ParseMessage(sub.Data), nil
}

func TestPrepareExtractRecipients(t *testing.T) {
	tests := []struct {
		name      string
		args      []string
		in        string
		wantRcpts []string
		noField   []string // fields that must be gone
		keepField []string // fields that must stay
	}{
		{"-t To Cc Bcc", []string{"-t"},
			"To: Bob <bob@example.net>, carol@example.net\nCc: dave@example.net\nBcc: eve@example.net\nSubject: s\n\nbody\n",
			[]string{"bob@example.net", "carol@example.net", "dave@example.net", "eve@example.net"},
			[]string{"Bcc"}, []string{"To", "Cc", "Subject"}},
		{"-t adds to command line", []string{"-t", "zed@example.net"},
			"To: bob@example.net\n\nbody\n",
			[]string{"zed@example.net", "bob@example.net"}, nil, []string{"To"}},
		{"-t bare names qualified", []string{"-t"}, "To: root\nCc: Admin <admin>\n\nx\n",
			[]string{"root@example.org", "admin@example.org"}, nil, nil},
		{"-t duplicates once", []string{"-t", "bob@example.net"}, "To: bob@example.net, BOB@EXAMPLE.NET\n\nx\n",
			[]string{"bob@example.net"}, nil, nil},
		{"-t Resent- wins", []string{"-t"},
			"To: old@example.net\nResent-To: new@example.net\nResent-Bcc: hidden@example.net\nBcc: oldbcc@example.net\n\nx\n",
			[]string{"new@example.net", "hidden@example.net"}, []string{"Bcc", "Resent-Bcc"}, []string{"To", "Resent-To"}},
		{"no -t: headers ignored for recipients, Bcc still removed", []string{"carol@example.net"},
			"To: bob@example.net\nBcc: eve@example.net\n\nx\n",
			[]string{"carol@example.net"}, []string{"Bcc"}, []string{"To"}},
		{"folded To", []string{"-t"}, "To: a@example.net,\n b@example.net\n\nx\n",
			[]string{"a@example.net", "b@example.net"}, nil, nil},
	}
	for _, tt := range tests {
		sub, m, err := prep(t, tt.args, tt.in)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if !reflect.DeepEqual(sub.Recipients, tt.wantRcpts) {
			t.Errorf("%s: recipients %q, want %q", tt.name, sub.Recipients, tt.wantRcpts)
		}
		for _, f := range tt.noField {
			if m.Has(f) {
				t.Errorf("%s: %s still present:\n%s", tt.name, f, sub.Data)
			}
		}
		for _, f := range tt.keepField {
			if !m.Has(f) {
				t.Errorf("%s: %s missing:\n%s", tt.name, f, sub.Data)
			}
		}
		if strings.Contains(string(sub.Data), "eve@") || strings.Contains(string(sub.Data), "hidden@") {
			t.Errorf("%s: a Bcc address leaked into the message:\n%s", tt.name, sub.Data)
		}
	}
}

func TestPrepareAddsHeaders(t *testing.T) {
	sub, m, err := prep(t, []string{"-F", "Cron Daemon", "root"}, "Subject: cron\n\noutput\n")
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Values("From"); len(got) != 1 || got[0] != `"Cron Daemon" <alice@example.org>` {
		t.Errorf("From = %q", got)
	}
	if got := m.Values("Date"); len(got) != 1 || got[0] != "Fri, 01 May 2026 10:00:00 +0000" {
		t.Errorf("Date = %q", got)
	}
	if got := m.Values("Message-ID"); len(got) != 1 || !strings.HasPrefix(got[0], "<20260501100000.") || !strings.HasSuffix(got[0], "@mail.example.org>") {
		t.Errorf("Message-ID = %q", got)
	}
	if sub.Sender != "alice@example.org" || !reflect.DeepEqual(sub.Recipients, []string{"root@example.org"}) {
		t.Errorf("envelope %q -> %q", sub.Sender, sub.Recipients)
	}
	if !strings.HasSuffix(string(sub.Data), "\r\n\r\noutput\r\n") {
		t.Errorf("body changed: %q", sub.Data)
	}

	// Existing fields are kept as they are, and nothing is added twice.
	in := "From: Someone <s@example.net>\nDate: Thu, 30 Apr 2026 09:00:00 +0200\nMessage-ID: <x@y>\nSubject: s\n\nb\n"
	sub, _, err = prep(t, []string{"-f", "bounce@example.org", "bob@example.net"}, in)
	if err != nil {
		t.Fatal(err)
	}
	if string(sub.Data) != strings.ReplaceAll(in, "\n", "\r\n") {
		t.Errorf("complete message changed:\n%q", sub.Data)
	}
	if sub.Sender != "bounce@example.org" {
		t.Errorf("sender %q", sub.Sender)
	}

	// GECOS name used when there is no -F; -f sets the From address; a
	// message without any header gets the header and a blank line.
	sub, m, err = prep(t, []string{"-f", "www", "bob@example.net"}, "no header here\n")
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Values("From"); len(got) != 1 || got[0] != `"Alice Liddell" <www@example.org>` {
		t.Errorf("From = %q", got)
	}
	if !strings.HasSuffix(string(sub.Data), "\r\n\r\nno header here\r\n") {
		t.Errorf("body not separated: %q", sub.Data)
	}

	// Null sender.
	sub, _, err = prep(t, []string{"-f", "<>", "bob@example.net"}, "Subject: s\n\nb\n")
	if err != nil || sub.Sender != "" {
		t.Errorf("null sender: %q, %v", sub.Sender, err)
	}
}

func TestPrepareEightBitAndUTF8(t *testing.T) {
	sub, _, err := prep(t, []string{"bob@example.net"}, "Subject: caf\xc3\xa9\n\nb\n")
	if err != nil || !sub.EightBit || sub.UTF8 {
		t.Errorf("8-bit header: eightbit %v utf8 %v err %v", sub.EightBit, sub.UTF8, err)
	}
	sub, _, err = prep(t, []string{"j\xc3\xb6rg@example.net"}, "Subject: s\n\nb\n")
	if err != nil || !sub.UTF8 {
		t.Errorf("UTF-8 recipient: utf8 %v err %v", sub.UTF8, err)
	}
}

func TestPrepareErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		in   string
		code int
	}{
		{"no recipients at all", []string{"-t"}, "Subject: s\n\nb\n", ExUsage},
		{"undisclosed only", []string{"-t"}, "To: undisclosed-recipients:;\n\nb\n", ExUsage},
		{"injection in argument", []string{"bob@example.net>\r\nRCPT TO:<evil@example.net"}, "b\n", ExDataErr},
		{"space in address", []string{"bob smith@example.net"}, "b\n", ExDataErr},
		{"bad header address", []string{"-t"}, "To: <broken\n\nb\n", ExDataErr},
		{"bad sender", []string{"-f", "a b@c", "bob@example.net"}, "b\n", ExDataErr},
		{"bad domain", []string{"bob@exa_mple..net"}, "b\n", ExDataErr},
	}
	for _, tt := range tests {
		_, _, err := prep(t, tt.args, tt.in)
		if err == nil {
			t.Errorf("%s: no error", tt.name)
			continue
		}
		if got := ExitCodeOf(err); got != tt.code {
			t.Errorf("%s: %v: exit %d, want %d", tt.name, err, got, tt.code)
		}
	}
}
