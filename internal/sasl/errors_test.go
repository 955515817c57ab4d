package sasl

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// wantFailure checks that err is an *Error of the given kind whose Reason
// contains reason, and returns it.
func wantFailure(t *testing.T, err error, kind Kind, reason string) *Error {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error = %v (%T), want *Error kind %d %q", err, err, kind, reason)
	}
	if e.Kind != kind || !strings.Contains(e.Reason, reason) {
		t.Fatalf("error = kind %d %q, want kind %d containing %q", e.Kind, e.Reason, kind, reason)
	}
	return e
}

// runExchange drives a client against a server the way the SMTP layer
// does, and returns the server's result.
func runExchange(t *testing.T, c Client, s Server) (Result, error) {
	t.Helper()
	_, resp, err := c.Start()
	if err != nil {
		return Result{}, err
	}
	for range 10 {
		challenge, done, err := s.Next(resp)
		if done {
			return s.Result(), err
		}
		if err != nil {
			t.Fatalf("server returned an error without ending the exchange: %v", err)
		}
		if resp, err = c.Next(challenge); err != nil {
			return Result{}, err
		}
	}
	t.Fatal("exchange did not end after 10 steps")
	return Result{}, nil
}

func TestCredentialsFailure(t *testing.T) {
	boom := errors.New("database is locked")
	tests := []struct {
		err    error
		kind   Kind
		reason string
	}{
		{ErrUnknownUser, BadCredentials, "unknown user"},
		{fmt.Errorf("lookup: %w", ErrUnknownUser), BadCredentials, "unknown user"},
		{ErrWrongPassword, BadCredentials, "wrong password"},
		{ErrNoSecret, BadCredentials, "no CRAM-MD5 secret stored for user (password set before the mechanism was enabled?)"},
		{boom, Temporary, "credentials lookup failed"},
	}
	for _, tt := range tests {
		e := credentialsFailure(CRAMMD5, "tim", tt.err)
		if e.Kind != tt.kind || e.Reason != tt.reason || e.User != "tim" {
			t.Errorf("%v: got kind %d reason %q user %q", tt.err, e.Kind, e.Reason, e.User)
		}
	}
	if e := credentialsFailure(Plain, "tim", boom); !errors.Is(e, boom) {
		t.Error("temporary failure does not wrap the source's error")
	}
}

func TestAuthorizeAs(t *testing.T) {
	creds := newTestCredentials("kurt", "pw")
	creds.authz["kurt"] = "ursel"
	tests := []struct {
		sent, canonical, authz string
		want                   string
		denied                 bool
	}{
		{"kurt", "kurt", "", "", false},
		{"kurt", "kurt", "kurt", "", false},
		{"Kurt", "kurt", "kurt", "", false},
		{"Kurt", "kurt", "Kurt", "", false},
		{"kurt", "kurt", "ursel", "ursel", false},
		{"kurt", "kurt", "root", "", true},
	}
	for _, tt := range tests {
		got, err := authorizeAs(creds, tt.sent, tt.canonical, tt.authz)
		if tt.denied {
			wantFailure(t, err, AuthzDenied, `user "kurt" may not act as "root"`)
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("authorizeAs(%q, %q, %q) = %q, %v; want %q", tt.sent, tt.canonical, tt.authz, got, err, tt.want)
		}
	}
}

func TestRandomSources(t *testing.T) {
	short := func(n int) []byte { return []byte{1, 2} }
	if got := serverRandom(ServerInfo{Nonce: short}, 4); string(got) != "\x01\x02\x00\x00" {
		t.Errorf("short injected source: %x", got)
	}
	a, b := serverRandom(ServerInfo{}, 16), serverRandom(ServerInfo{}, 16)
	if len(a) != 16 || string(a) == string(b) {
		t.Errorf("crypto/rand source: %x, %x", a, b)
	}
}
