package sasl

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"testing"
)

func TestExternalServer(t *testing.T) {
	alice := &x509.Certificate{Subject: pkix.Name{CommonName: "alice"}}
	mallory := &x509.Certificate{Subject: pkix.Name{CommonName: "mallory"}}
	tests := []struct {
		name      string
		cert      *x509.Certificate
		initial   []byte // nil: the server sends an empty challenge first
		response  []byte // answer to the empty challenge
		fail      error
		wantAuthz string
		kind      Kind
		reason    string
	}{
		{name: "gsasl: empty answer to empty challenge", cert: alice, response: []byte{}},
		{name: "msmtp, curl: authzid answering empty challenge", cert: alice, response: []byte("alice")},
		{name: "smtptest: AUTH EXTERNAL =", cert: alice, initial: []byte{}},
		{name: "authzid as initial response", cert: alice, initial: []byte("alice")},
		{name: "authorized other identity", cert: alice, initial: []byte("postmaster"), wantAuthz: "postmaster"},
		{name: "unauthorized other identity", cert: alice, initial: []byte("root"), kind: AuthzDenied, reason: `user "alice" may not act as "root"`},
		{name: "no certificate", initial: []byte{}, kind: BadCredentials, reason: "no verified client certificate"},
		{name: "no certificate, no initial response", kind: BadCredentials, reason: "no verified client certificate"},
		{name: "unmapped certificate", cert: mallory, initial: []byte{}, kind: BadCredentials, reason: `no user mapped to client certificate subject "CN=mallory"`},
		{name: "store down", cert: alice, initial: []byte{}, fail: errors.New("io"), kind: Temporary, reason: "credentials lookup failed"},
		{name: "authzid not UTF-8", cert: alice, initial: []byte("\xff"), kind: Malformed, reason: "authzid is not valid UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			creds := newTestCredentials("alice", "pw")
			creds.certUsers["alice"] = "alice"
			creds.authz["alice"] = "postmaster"
			creds.fail = tt.fail
			s := NewExternalServer(ServerInfo{PeerCertificate: tt.cert}, creds)
			challenge, done, err := s.Next(tt.initial)
			if tt.initial == nil && tt.cert != nil {
				if done || err != nil || challenge == nil || len(challenge) != 0 {
					t.Fatalf("first step: %q %v %v, want empty challenge", challenge, done, err)
				}
				challenge, done, err = s.Next(tt.response)
			}
			if !done || challenge != nil {
				t.Fatalf("last step: challenge %q done %v", challenge, done)
			}
			if tt.kind != 0 {
				wantFailure(t, err, tt.kind, tt.reason)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r := s.Result(); r.User != "alice" || r.Authz != tt.wantAuthz {
				t.Errorf("result %+v", r)
			}
			_, _, err = s.Next(nil)
			wantFailure(t, err, Malformed, "step out of order")
		})
	}
}

func TestExternalRoundTrip(t *testing.T) {
	creds := newTestCredentials()
	creds.certUsers["alice"] = "alice"
	info := ServerInfo{PeerCertificate: &x509.Certificate{Subject: pkix.Name{CommonName: "alice"}}}
	for _, authz := range []string{"", "alice"} {
		r, err := runExchange(t, NewExternalClient(authz), NewExternalServer(info, creds))
		if err != nil || r.User != "alice" || r.Authz != "" {
			t.Errorf("authz %q: result %+v, %v", authz, r, err)
		}
	}
	_, err := runExchange(t, NewExternalClient("bob"), NewExternalServer(info, creds))
	wantFailure(t, err, AuthzDenied, `may not act as "bob"`)
}

func TestExternalClient(t *testing.T) {
	c := NewExternalClient("alice")
	mech, initial, _ := c.Start()
	if mech != "EXTERNAL" || string(initial) != "alice" {
		t.Fatalf("Start = %q %q", mech, initial)
	}
	if resp, err := c.Next([]byte{}); err != nil || string(resp) != "alice" {
		t.Fatalf("Next = %q, %v", resp, err)
	}
	if _, err := c.Next([]byte{}); err == nil {
		t.Fatal("second challenge accepted")
	}
	if _, initial, _ := NewExternalClient("").Start(); initial == nil || len(initial) != 0 {
		t.Fatalf("empty authz: initial %q, want non-nil empty", initial)
	}
}
