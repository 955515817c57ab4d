package delivery

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"postgate/internal/queue"
	"postgate/internal/smtp"
)

// newMessages lists the files in a mailbox's new/ directory.
func newMessages(t *testing.T, box string) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(box, "new"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func TestMaildirDeliver(t *testing.T) {
	tests := []struct {
		name    string
		rcpt    string
		env     queue.Envelope
		msg     string
		wantBox string // relative to root
		want    string
	}{
		{
			name:    "CRLF becomes LF, domain lower-cased, local part kept",
			rcpt:    "John.Doe@Example.ORG",
			env:     queue.Envelope{From: "sender@example.net", Body: "8BITMIME"},
			msg:     "Subject: hi\r\n\r\nline 1\r\nbare\rcr\r\n",
			wantBox: "example.org/John.Doe",
			want:    "Return-Path: <sender@example.net>\nDelivered-To: John.Doe@Example.ORG\nSubject: hi\n\nline 1\nbare\rcr\n",
		},
		{
			name:    "null sender",
			rcpt:    "postmaster@example.org",
			env:     queue.Envelope{From: ""},
			msg:     "Subject: bounce\r\n\r\nx\r\n",
			wantBox: "example.org/postmaster",
			want:    "Return-Path: <>\nDelivered-To: postmaster@example.org\nSubject: bounce\n\nx\n",
		},
		{
			name:    "BINARYMIME is stored as received",
			rcpt:    "bin@example.org",
			env:     queue.Envelope{From: "a@b.example", Body: "BINARYMIME"},
			msg:     "Subject: b\r\n\r\n\x00\r\n\r\xff",
			wantBox: "example.org/bin",
			want:    "Return-Path: <a@b.example>\r\nDelivered-To: bin@example.org\r\nSubject: b\r\n\r\n\x00\r\n\r\xff",
		},
		{
			name:    "quoted local part is unquoted",
			rcpt:    `"john doe"@example.org`,
			env:     queue.Envelope{From: "a@b.example"},
			msg:     "x\r\n",
			wantBox: "example.org/john doe",
			want:    "Return-Path: <a@b.example>\nDelivered-To: \"john doe\"@example.org\nx\n",
		},
		{
			name:    "UTF-8 address",
			rcpt:    "jösé@Bücher.example",
			env:     queue.Envelope{From: "a@b.example", SMTPUTF8: true},
			msg:     "x\r\n",
			wantBox: "bücher.example/jösé",
			want:    "Return-Path: <a@b.example>\nDelivered-To: jösé@Bücher.example\nx\n",
		},
		{
			name:    "CR LF in the envelope cannot add headers",
			rcpt:    "a@example.org",
			env:     queue.Envelope{From: "x@y\r\nBcc: evil@example.com"},
			msg:     "x\r\n",
			wantBox: "example.org/a",
			want:    "Return-Path: <x@yBcc: evil@example.com>\nDelivered-To: a@example.org\nx\n",
		},
	}
	nameRE := regexp.MustCompile(`^[0-9]+\.M[0-9]+P[0-9]+Q[0-9]+R[0-9a-f]{16}\.mx\\0571\\072a$`)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			m := &Maildir{Root: root, Hostname: "mx/1:a"}
			if err := m.Deliver(tc.rcpt, &tc.env, strings.NewReader(tc.msg)); err != nil {
				t.Fatal(err)
			}
			box := filepath.Join(root, tc.wantBox)
			names := newMessages(t, box)
			if len(names) != 1 {
				t.Fatalf("new/ holds %v, want one message", names)
			}
			if !nameRE.MatchString(names[0]) {
				t.Errorf("file name %q is not a Maildir unique name for host mx/1:a", names[0])
			}
			p := filepath.Join(box, "new", names[0])
			got, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Errorf("content:\n got %q\nwant %q", got, tc.want)
			}
			if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o600 {
				t.Errorf("file mode %v, want 0600", fi.Mode().Perm())
			}
			for _, sub := range []string{"tmp", "new", "cur"} {
				fi, err := os.Stat(filepath.Join(box, sub))
				if err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o700 {
					t.Errorf("%s: %v, %v; want a 0700 directory", sub, fi, err)
				}
			}
			if tmp, _ := os.ReadDir(filepath.Join(box, "tmp")); len(tmp) != 0 {
				t.Errorf("tmp/ not empty after delivery: %v", tmp)
			}
		})
	}
}

func TestMaildirUniqueNames(t *testing.T) {
	root := t.TempDir()
	m := &Maildir{Root: root, Hostname: "mx"}
	const n = 50
	for range n {
		if err := m.Deliver("u@example.org", &queue.Envelope{}, strings.NewReader("x\r\n")); err != nil {
			t.Fatal(err)
		}
	}
	if got := len(newMessages(t, filepath.Join(root, "example.org", "u"))); got != n {
		t.Errorf("%d messages in new/, want %d", got, n)
	}
}

func TestMaildirRefusesBadAddresses(t *testing.T) {
	tests := []struct {
		rcpt     string
		enhanced string
	}{
		{`"."@example.org`, "5.1.1"},
		{`".."@example.org`, "5.1.1"},
		{`".hidden"@example.org`, "5.1.1"},
		{`"../../etc"@example.org`, "5.1.1"},
		{`"a/b"@example.org`, "5.1.1"},
		{`"/abs"@example.org`, "5.1.1"},
		{".hidden@example.org", "5.1.3"}, // not even a dot-string
		{"a\x00b@example.org", "5.1.3"},
		{"no-domain", "5.1.3"},
		{"a@", "5.1.3"},
		{"", "5.1.3"},
	}
	for _, tc := range tests {
		root := t.TempDir()
		m := &Maildir{Root: root, Hostname: "mx"}
		err := m.Deliver(tc.rcpt, &queue.Envelope{}, strings.NewReader("x\r\n"))
		var se *smtp.Error
		if !errors.As(err, &se) || se.Reply.Code != 550 || se.Reply.Enhanced != tc.enhanced {
			t.Errorf("Deliver(%q) = %v, want 550 %s", tc.rcpt, err, tc.enhanced)
		}
		if entries, _ := os.ReadDir(root); len(entries) != 0 {
			t.Errorf("Deliver(%q) created %v", tc.rcpt, entries)
		}
	}
}

func TestCheckPathElem(t *testing.T) {
	tests := []struct {
		in string
		ok bool
	}{
		{"user", true},
		{"first.last", true},
		{"a b", true},
		{"ü", true},
		{"a+tag", true},
		{"trailing.", true},
		{"", false},
		{".", false},
		{"..", false},
		{".x", false},
		{"a/b", false},
		{"a\x00", false},
	}
	for _, tc := range tests {
		if err := checkPathElem(tc.in); (err == nil) != tc.ok {
			t.Errorf("checkPathElem(%q) = %v, want ok=%v", tc.in, err, tc.ok)
		}
	}
}

func TestMaildirStorageErrorIsTemporary(t *testing.T) {
	root := t.TempDir()
	// A file where the domain directory belongs: mkdir fails.
	if err := os.WriteFile(filepath.Join(root, "example.org"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	m := &Maildir{Root: root, Hostname: "mx"}
	err := m.Deliver("u@example.org", &queue.Envelope{}, strings.NewReader("x\r\n"))
	var se *smtp.Error
	if !errors.As(err, &se) || se.Reply.Code != 451 || se.Reply.Enhanced != "4.3.0" {
		t.Fatalf("Deliver = %v, want 451 4.3.0", err)
	}
	if strings.Contains(se.Reply.Text, root) {
		t.Errorf("reply text %q reveals a path", se.Reply.Text)
	}
	if !errors.Is(err, syscall.ENOTDIR) {
		t.Errorf("error %v does not carry its cause", err)
	}
}
