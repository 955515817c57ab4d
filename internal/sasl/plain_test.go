package sasl

import (
	"errors"
	"strings"
	"testing"
)

// RFC 4616 §4's examples: an empty authzid, and Kurt acting as Ursel.
func TestPlainServerRFC4616(t *testing.T) {
	creds := newTestCredentials("tim", "tanstaaftanstaaf", "Kurt", "xipj3plmq")
	creds.authz["Kurt"] = "Ursel"
	tests := []struct {
		msg       string
		user      string
		authz     string
		wantError string
	}{
		{msg: "\x00tim\x00tanstaaftanstaaf", user: "tim"},
		{msg: "Ursel\x00Kurt\x00xipj3plmq", user: "Kurt", authz: "Ursel"},
		{msg: "tim\x00tim\x00tanstaaftanstaaf", user: "tim"},
		{msg: "Kurt\x00tim\x00tanstaaftanstaaf", wantError: `user "tim" may not act as "Kurt"`},
	}
	for _, tt := range tests {
		s := NewPlainServer(ServerInfo{}, creds)
		challenge, done, err := s.Next([]byte(tt.msg))
		if !done || challenge != nil {
			t.Fatalf("%q: done=%v challenge=%q", tt.msg, done, challenge)
		}
		if tt.wantError != "" {
			wantFailure(t, err, AuthzDenied, tt.wantError)
			continue
		}
		if err != nil {
			t.Fatalf("%q: %v", tt.msg, err)
		}
		if r := s.Result(); r.User != tt.user || r.Authz != tt.authz || len(r.Notes) != 0 {
			t.Errorf("%q: result %+v", tt.msg, r)
		}
	}
}

func TestPlainServerNoInitialResponse(t *testing.T) {
	s := NewPlainServer(ServerInfo{}, newTestCredentials("tim", "tanstaaftanstaaf"))
	challenge, done, err := s.Next(nil)
	if err != nil || done || challenge == nil || len(challenge) != 0 {
		t.Fatalf("first step: %q %v %v, want empty challenge", challenge, done, err)
	}
	if _, done, err := s.Next([]byte("\x00tim\x00tanstaaftanstaaf")); !done || err != nil {
		t.Fatalf("second step: %v %v", done, err)
	}
	if s.Result().User != "tim" {
		t.Fatalf("user %q", s.Result().User)
	}
	_, done, err = s.Next([]byte("\x00tim\x00tanstaaftanstaaf"))
	if !done {
		t.Fatal("third step not done")
	}
	wantFailure(t, err, Malformed, "step out of order")
}

func TestPlainServerFailures(t *testing.T) {
	const pw = "tanstaaftanstaaf"
	tests := []struct {
		name   string
		msg    string
		fail   error
		kind   Kind
		reason string
		user   string
	}{
		{"empty", "", nil, Malformed, "bad response format: 0 NUL separators, want 2", ""},
		{"one NUL", "tim\x00" + pw, nil, Malformed, "1 NUL separators, want 2", ""},
		{"three NULs", "\x00tim\x00" + pw + "\x00", nil, Malformed, "3 NUL separators, want 2", ""},
		{"empty authcid", "tim\x00\x00" + pw, nil, Malformed, "empty authcid", ""},
		{"empty password", "\x00tim\x00", nil, Malformed, "empty password", "tim"},
		{"authcid not UTF-8", "\x00t\xffm\x00" + pw, nil, Malformed, "authcid is not valid UTF-8", ""},
		{"authzid not UTF-8", "\xff\x00tim\x00" + pw, nil, Malformed, "authzid is not valid UTF-8", "tim"},
		{"wrong password", "\x00tim\x00tanstaaf", nil, BadCredentials, "wrong password", "tim"},
		{"unknown user", "\x00tom\x00" + pw, nil, BadCredentials, "unknown user", "tom"},
		{"store down", "\x00tim\x00" + pw, errors.New("disk on fire"), Temporary, "credentials lookup failed", "tim"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			creds := newTestCredentials("tim", pw)
			creds.fail = tt.fail
			_, done, err := NewPlainServer(ServerInfo{}, creds).Next([]byte(tt.msg))
			if !done {
				t.Fatal("not done")
			}
			e := wantFailure(t, err, tt.kind, tt.reason)
			if e.User != tt.user {
				t.Errorf("User = %q, want %q", e.User, tt.user)
			}
			if strings.Contains(e.Error(), "tanstaaf") {
				t.Errorf("error %q reveals the password", e.Error())
			}
		})
	}
}

func TestPlainRoundTrip(t *testing.T) {
	creds := newTestCredentials("kurt", "xipj3plmq")
	creds.authz["kurt"] = "ursel"
	tests := []struct {
		authz, user, password string
		wantAuthz             string
		kind                  Kind
	}{
		{"", "kurt", "xipj3plmq", "", 0},
		{"ursel", "kurt", "xipj3plmq", "ursel", 0},
		{"root", "kurt", "xipj3plmq", "", AuthzDenied},
		{"", "kurt", "wrong", "", BadCredentials},
	}
	for _, tt := range tests {
		r, err := runExchange(t, NewPlainClient(tt.authz, tt.user, tt.password), NewPlainServer(ServerInfo{}, creds))
		if tt.kind != 0 {
			wantFailure(t, err, tt.kind, "")
			continue
		}
		if err != nil || r.User != "kurt" || r.Authz != tt.wantAuthz {
			t.Errorf("%+v: result %+v, %v", tt, r, err)
		}
	}
}

// A client whose initial response was not sent answers the empty challenge.
func TestPlainClientAnswersEmptyChallenge(t *testing.T) {
	c := NewPlainClient("", "tim", "tanstaaftanstaaf")
	mech, initial, _ := c.Start()
	if mech != "PLAIN" || string(initial) != "\x00tim\x00tanstaaftanstaaf" {
		t.Fatalf("Start = %q %q", mech, initial)
	}
	resp, err := c.Next([]byte{})
	if err != nil || string(resp) != string(initial) {
		t.Fatalf("Next(empty) = %q, %v", resp, err)
	}
	if _, err := c.Next([]byte{}); err == nil {
		t.Fatal("second challenge accepted")
	}
}
