package sasl

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestDigestMD5ClientRFC2831(t *testing.T) {
	c := NewDigestMD5Client("", "chris", "secret", ClientInfo{Service: "imap", Host: "elwood.innosoft.com"}).(*digestMD5Client)
	c.cnonce = "OA6MHXh6VqTrRk" // the RFC's; a real client draws 16 random bytes
	if mech, initial, err := c.Start(); mech != "DIGEST-MD5" || initial != nil || err != nil {
		t.Fatalf("Start = %q %q %v", mech, initial, err)
	}
	resp, err := c.Next([]byte(rfc2831Challenge))
	if err != nil || string(resp) != rfc2831Response {
		t.Fatalf("response\n%s\nwant\n%s\n(%v)", resp, rfc2831Response, err)
	}
	final, err := c.Next([]byte(rfc2831Rspauth))
	if err != nil || final == nil || len(final) != 0 {
		t.Fatalf("after rspauth: %q %v", final, err)
	}
	if _, err := c.Next([]byte(rfc2831Rspauth)); err == nil {
		t.Fatal("challenge after rspauth accepted")
	}
}

func TestDigestMD5ClientRejectsWrongRspauth(t *testing.T) {
	tests := []struct {
		final  string
		kind   Kind
		reason string
	}{
		{"rspauth=ea40f60335c427b5527b84dbabcdfffe", BadCredentials, "server's rspauth is wrong (mutual authentication failed)"},
		{"rspauth=EA40F60335C427B5527B84DBABCDFFFE", BadCredentials, "mutual authentication failed"},
		{"rspauth=ea40", Malformed, "no valid rspauth"},
		{"", Malformed, "no valid rspauth"},
		{`realm="x",nonce="y"`, Malformed, "no valid rspauth"},
		{`rspauth="ea40`, Malformed, "unterminated quoted value"},
	}
	for _, tt := range tests {
		c := NewDigestMD5Client("", "chris", "secret", ClientInfo{Service: "imap", Host: "elwood.innosoft.com"})
		if _, err := c.Next([]byte(rfc2831Challenge)); err != nil {
			t.Fatal(err)
		}
		_, err := c.Next([]byte(tt.final))
		wantFailure(t, err, tt.kind, tt.reason)
	}
	// The right value in upper-case hex is accepted; bare hex is not rspauth.
	for _, tt := range []struct {
		final string
		ok    bool
	}{
		{"rspauth=" + strings.ToUpper(rfc2831Rspauth[len("rspauth="):]), true},
		{rfc2831Rspauth[len("rspauth="):], false},
	} {
		c := NewDigestMD5Client("", "chris", "secret", ClientInfo{Service: "imap", Host: "elwood.innosoft.com"}).(*digestMD5Client)
		c.cnonce = "OA6MHXh6VqTrRk"
		if _, err := c.Next([]byte(rfc2831Challenge)); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Next([]byte(tt.final)); (err == nil) != tt.ok {
			t.Errorf("%q: err %v", tt.final, err)
		}
	}
}

func TestDigestMD5ClientChallengeErrors(t *testing.T) {
	tests := []struct {
		challenge string
		reason    string
	}{
		{`realm="r",qop="auth",charset=utf-8,algorithm=md5-sess`, "nonce missing"},
		{`nonce="a",nonce="b",qop="auth",algorithm=md5-sess`, "nonce repeated"},
		{`nonce="a",qop="auth"`, `algorithm "", want md5-sess`},
		{`nonce="a",qop="auth",algorithm=md5`, `algorithm "md5", want md5-sess`},
		{`nonce="a",qop="auth-int,auth-conf",algorithm=md5-sess`, `qop "auth-int,auth-conf" does not offer auth`},
		{`nonce="a`, "unterminated quoted value"},
		{`rspauth=ea40f60335c427b5527b84dbabcdfffd`, "rspauth before any response"},
	}
	for _, tt := range tests {
		_, err := NewDigestMD5Client("", "chris", "secret", ClientInfo{Host: "h"}).Next([]byte(tt.challenge))
		wantFailure(t, err, Malformed, tt.reason)
	}
}

// The client copes with what servers offer: several realms (it takes the
// first), no realm, qop lists with spaces, no qop.
func TestDigestMD5ClientChallengeVariants(t *testing.T) {
	tests := []struct {
		challenge string
		want      []string // substrings of the response
		absent    []string
	}{
		{`realm="one",realm="two",nonce="n",qop="auth,auth-int,auth-conf",cipher="rc4",maxbuf=8192,charset=utf-8,algorithm=md5-sess`,
			[]string{`realm="one"`, "qop=auth", "charset=utf-8,"}, []string{"two", "cipher"}},
		{`nonce="n", qop="auth-int, auth", algorithm=md5-sess`, []string{"qop=auth"}, []string{"realm", "charset"}},
		{`nonce="n",algorithm=MD5-SESS`, []string{`username="chris"`, `digest-uri="smtp/h"`}, []string{"realm"}},
	}
	for _, tt := range tests {
		resp, err := NewDigestMD5Client("", "chris", "secret", ClientInfo{Host: "h"}).Next([]byte(tt.challenge))
		if err != nil {
			t.Fatalf("%s: %v", tt.challenge, err)
		}
		for _, w := range tt.want {
			if !strings.Contains(string(resp), w) {
				t.Errorf("%s: response %s lacks %s", tt.challenge, resp, w)
			}
		}
		for _, a := range tt.absent {
			if strings.Contains(string(resp), a) {
				t.Errorf("%s: response %s contains %s", tt.challenge, resp, a)
			}
		}
	}
}

func TestDigestMD5RoundTrip(t *testing.T) {
	tests := []struct {
		name                  string
		authz, user, password string
		info                  ClientInfo
		wantAuthz             string
		kind                  Kind
		reason                string
		notes                 []string
	}{
		{name: "hostname", user: "alice", password: labPassword, info: ClientInfo{Service: "smtp", Host: "mail.example.test"}},
		{name: "default service", user: "alice", password: labPassword, info: ClientInfo{Host: "mail.example.test"}},
		{name: "connected address", user: "alice", password: labPassword, info: ClientInfo{Host: "127.0.0.1"},
			notes: []string{`digest-uri host "127.0.0.1" is the connected address, not the hostname`}},
		{name: "authz", authz: "postmaster", user: "alice", password: labPassword, info: ClientInfo{Host: "mail.example.test"}, wantAuthz: "postmaster"},
		{name: "authz denied", authz: "root", user: "alice", password: labPassword, info: ClientInfo{Host: "mail.example.test"},
			kind: AuthzDenied, reason: `may not act as "root"`},
		{name: "non-Latin-1 user", user: "Дмитрий", password: labPassword, info: ClientInfo{Host: "mail.example.test"}},
		{name: "Latin-1 password", user: "josé", password: labPassword, info: ClientInfo{Host: "mail.example.test"}},
		{name: "wrong password", user: "alice", password: "battery staple", info: ClientInfo{Host: "mail.example.test"},
			kind: BadCredentials, reason: "wrong password"},
		{name: "unknown user", user: "bob", password: labPassword, info: ClientInfo{Host: "mail.example.test"},
			kind: BadCredentials, reason: "unknown user"},
		{name: "wrong host", user: "alice", password: labPassword, info: ClientInfo{Host: "mx.elsewhere.test"},
			kind: BadCredentials, reason: `digest-uri "smtp/mx.elsewhere.test" does not match any of`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := time.Unix(1700000000, 0)
			info := labInfo(&now)
			info.Nonce = nil // both sides draw from crypto/rand
			r, err := runExchange(t, NewDigestMD5Client(tt.authz, tt.user, tt.password, tt.info), NewDigestMD5Server(info, labCredentials()))
			if tt.kind != 0 {
				wantFailure(t, err, tt.kind, tt.reason)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.User != tt.user || r.Authz != tt.wantAuthz || strings.Join(r.Notes, "|") != strings.Join(tt.notes, "|") {
				t.Errorf("result %+v", r)
			}
		})
	}
}

// Without charset=utf-8 on offer the client sends ISO 8859-1, and refuses
// names it cannot represent.
func TestDigestMD5ClientWithoutCharset(t *testing.T) {
	now := time.Unix(1700000000, 0)
	s := NewDigestMD5Server(labInfo(&now), labCredentials())
	challenge, _, _ := s.Next(nil)
	challenge = bytes.Replace(challenge, []byte(",charset=utf-8"), nil, 1)
	c := NewDigestMD5Client("", "josé", labPassword, ClientInfo{Host: "mail.example.test"})
	resp, err := c.Next(challenge)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(resp, []byte("charset")) || !bytes.Contains(resp, []byte("username=\"jos\xe9\"")) {
		t.Fatalf("response %q", resp)
	}
	rspauth, done, err := s.Next(resp)
	if err != nil || done {
		t.Fatalf("server: %v", err)
	}
	if _, err := c.Next(rspauth); err != nil {
		t.Fatal(err)
	}
	if _, done, err := s.Next([]byte{}); !done || err != nil || s.Result().User != "josé" {
		t.Fatalf("final: %v %v %+v", done, err, s.Result())
	}

	_, err = NewDigestMD5Client("", "Дмитрий", labPassword, ClientInfo{Host: "h"}).Next(challenge)
	wantFailure(t, err, Malformed, "not representable in ISO 8859-1")
}
