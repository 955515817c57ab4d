package sasl

import (
	"encoding/binary"
	"errors"
	"strings"
	"testing"
	"time"
)

// rfc2195Info makes the server issue RFC 2195's example challenge
// <1896.697170952@postoffice.reston.mci.net>.
func rfc2195Info() ServerInfo {
	return ServerInfo{
		Hostname: "postoffice.reston.mci.net",
		Nonce: func(n int) []byte {
			b := make([]byte, n)
			binary.BigEndian.PutUint64(b, 1896)
			return b
		},
		Now: func() time.Time { return time.Unix(697170952, 0) },
	}
}

func TestCRAMMD5ServerRFC2195(t *testing.T) {
	s := NewCRAMMD5Server(rfc2195Info(), newTestCredentials("tim", "tanstaaftanstaaf"))
	challenge, done, err := s.Next(nil)
	if err != nil || done || string(challenge) != "<1896.697170952@postoffice.reston.mci.net>" {
		t.Fatalf("challenge %q done %v err %v", challenge, done, err)
	}
	_, done, err = s.Next([]byte("tim b913a602c7eda7a495b4e6e7334d3890"))
	if err != nil || !done {
		t.Fatalf("response: done %v err %v", done, err)
	}
	if r := s.Result(); r.User != "tim" || len(r.Notes) != 0 {
		t.Fatalf("result %+v", r)
	}
}

func TestCRAMMD5ServerResponses(t *testing.T) {
	const digest = "b913a602c7eda7a495b4e6e7334d3890" // RFC 2195, password tanstaaftanstaaf
	tests := []struct {
		name     string
		initial  []byte
		response string
		fail     error
		kind     Kind
		reason   string
		user     string
		notes    []string
	}{
		{name: "RFC 2195", response: "tim " + digest, user: "tim"},
		{name: "upper-case hex", response: "tim " + strings.ToUpper(digest), user: "tim", notes: []string{"digest in upper-case hex"}},
		{name: "empty initial response", initial: []byte{}, response: "tim " + digest, user: "tim", notes: []string{"empty initial response ignored"}},
		{name: "wrong digest", response: "tim b913a602c7eda7a495b4e6e7334d3891", kind: BadCredentials, reason: "wrong password", user: "tim"},
		{name: "unknown user", response: "tom " + digest, kind: BadCredentials, reason: "unknown user", user: "tom"},
		{name: "store down", response: "tim " + digest, fail: errors.New("io"), kind: Temporary, reason: "credentials lookup failed", user: "tim"},
		{name: "no space", response: "tim" + digest, kind: Malformed, reason: "no space between username and digest"},
		{name: "empty username", response: " " + digest, kind: Malformed, reason: "empty username"},
		{name: "short digest", response: "tim b913a602", kind: Malformed, reason: "digest is 8 characters, want 32 hex digits", user: "tim"},
		{name: "not hex", response: "tim " + strings.Repeat("zz", 16), kind: Malformed, reason: "digest is not hexadecimal", user: "tim"},
		{name: "trailing space", response: "tim " + digest + " ", kind: Malformed, reason: "digest is 0 characters", user: "tim " + digest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			creds := newTestCredentials("tim", "tanstaaftanstaaf")
			creds.fail = tt.fail
			s := NewCRAMMD5Server(rfc2195Info(), creds)
			if _, done, err := s.Next(tt.initial); done || err != nil {
				t.Fatalf("challenge step: %v %v", done, err)
			}
			_, done, err := s.Next([]byte(tt.response))
			if !done {
				t.Fatal("not done")
			}
			if tt.kind != 0 {
				if e := wantFailure(t, err, tt.kind, tt.reason); e.User != tt.user {
					t.Errorf("User = %q, want %q", e.User, tt.user)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r := s.Result(); r.User != tt.user || strings.Join(r.Notes, "|") != strings.Join(tt.notes, "|") {
				t.Errorf("result %+v", r)
			}
		})
	}
}

// The username may contain spaces: the digest follows the last one.
func TestCRAMMD5UsernameWithSpaces(t *testing.T) {
	creds := newTestCredentials("Tim Berners Lee", "www")
	r, err := runExchange(t, NewCRAMMD5Client("Tim Berners Lee", "www"), NewCRAMMD5Server(ServerInfo{Hostname: "mx"}, creds))
	if err != nil || r.User != "Tim Berners Lee" {
		t.Fatalf("result %+v, %v", r, err)
	}
}

func TestCRAMMD5ServerSequence(t *testing.T) {
	s := NewCRAMMD5Server(rfc2195Info(), newTestCredentials("tim", "tanstaaftanstaaf"))
	_, done, err := s.Next([]byte("tim"))
	if !done {
		t.Fatal("initial response not rejected")
	}
	wantFailure(t, err, Malformed, "CRAM-MD5 takes no initial response")
	_, done, err = s.Next([]byte("tim b913a602c7eda7a495b4e6e7334d3890"))
	if !done {
		t.Fatal("step after the end not done")
	}
	wantFailure(t, err, Malformed, "step out of order")
}

func TestCRAMMD5ChallengesDiffer(t *testing.T) {
	info := ServerInfo{Hostname: "mx.example.test"}
	a, _, _ := NewCRAMMD5Server(info, nil).Next(nil)
	b, _, _ := NewCRAMMD5Server(info, nil).Next(nil)
	if string(a) == string(b) || !strings.HasPrefix(string(a), "<") || !strings.HasSuffix(string(a), "@mx.example.test>") {
		t.Fatalf("challenges %q, %q", a, b)
	}
}

func TestCRAMMD5RoundTrip(t *testing.T) {
	creds := newTestCredentials("tim", "tanstaaftanstaaf")
	creds.passwords["long"] = strings.Repeat("p", 100) // longer than an HMAC block
	for _, tt := range []struct{ user, pw, reason string }{
		{"tim", "tanstaaftanstaaf", ""},
		{"long", strings.Repeat("p", 100), ""},
		{"tim", "tanstaaf", "wrong password"},
		{"long", strings.Repeat("p", 101), "wrong password"},
	} {
		r, err := runExchange(t, NewCRAMMD5Client(tt.user, tt.pw), NewCRAMMD5Server(ServerInfo{Hostname: "mx"}, creds))
		if tt.reason != "" {
			wantFailure(t, err, BadCredentials, tt.reason)
			continue
		}
		if err != nil || r.User != tt.user {
			t.Errorf("%s: result %+v, %v", tt.user, r, err)
		}
	}
}

func TestCRAMMD5ClientRFC2195(t *testing.T) {
	c := NewCRAMMD5Client("tim", "tanstaaftanstaaf")
	if mech, initial, _ := c.Start(); mech != "CRAM-MD5" || initial != nil {
		t.Fatalf("Start = %q %q", mech, initial)
	}
	resp, err := c.Next([]byte("<1896.697170952@postoffice.reston.mci.net>"))
	if err != nil || string(resp) != "tim b913a602c7eda7a495b4e6e7334d3890" {
		t.Fatalf("response %q, %v", resp, err)
	}
	if _, err := c.Next([]byte("<again>")); err == nil {
		t.Fatal("second challenge accepted")
	}
}
