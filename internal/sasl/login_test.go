package sasl

import (
	"strings"
	"testing"
)

func TestLoginServer(t *testing.T) {
	type step struct {
		response  []byte
		challenge string
		done      bool
	}
	tests := []struct {
		name   string
		steps  []step
		kind   Kind // of the last step's error; 0 for success
		reason string
		notes  []string
	}{
		{
			name: "textbook",
			steps: []step{
				{nil, "Username:", false},
				{[]byte("tim"), "Password:", false},
				{[]byte("tanstaaftanstaaf"), "", true},
			},
		},
		{
			name: "username as initial response",
			steps: []step{
				{[]byte("tim"), "Password:", false},
				{[]byte("tanstaaftanstaaf"), "", true},
			},
			notes: []string{"username sent as initial response"},
		},
		{
			name:   "wrong password",
			steps:  []step{{nil, "Username:", false}, {[]byte("tim"), "Password:", false}, {[]byte("tanstaaf"), "", true}},
			kind:   BadCredentials,
			reason: "wrong password",
		},
		{
			name:   "unknown user",
			steps:  []step{{[]byte("tom"), "Password:", false}, {[]byte("tanstaaftanstaaf"), "", true}},
			kind:   BadCredentials,
			reason: "unknown user",
		},
		{
			name:   "empty username",
			steps:  []step{{nil, "Username:", false}, {[]byte{}, "", true}},
			kind:   Malformed,
			reason: "empty username",
		},
		{
			name:   "empty initial response",
			steps:  []step{{[]byte{}, "", true}},
			kind:   Malformed,
			reason: "empty username",
		},
		{
			name:   "empty password",
			steps:  []step{{[]byte("tim"), "Password:", false}, {[]byte{}, "", true}},
			kind:   Malformed,
			reason: "empty password",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewLoginServer(ServerInfo{}, newTestCredentials("tim", "tanstaaftanstaaf"))
			var err error
			for i, st := range tt.steps {
				var challenge []byte
				var done bool
				challenge, done, err = s.Next(st.response)
				if string(challenge) != st.challenge || done != st.done {
					t.Fatalf("step %d: challenge %q done %v, want %q %v", i, challenge, done, st.challenge, st.done)
				}
				if i < len(tt.steps)-1 && err != nil {
					t.Fatalf("step %d: %v", i, err)
				}
			}
			if tt.kind != 0 {
				e := wantFailure(t, err, tt.kind, tt.reason)
				if strings.Contains(e.Error(), "tanstaaf") {
					t.Errorf("error %q reveals the password", e.Error())
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			r := s.Result()
			if r.User != "tim" || strings.Join(r.Notes, "|") != strings.Join(tt.notes, "|") {
				t.Errorf("result %+v", r)
			}
			_, done, err := s.Next([]byte("again"))
			if !done {
				t.Error("step after the end not done")
			}
			wantFailure(t, err, Malformed, "step out of order")
		})
	}
}

func TestLoginRoundTrip(t *testing.T) {
	creds := newTestCredentials("tim", "tanstaaftanstaaf")
	r, err := runExchange(t, NewLoginClient("tim", "tanstaaftanstaaf"), NewLoginServer(ServerInfo{}, creds))
	if err != nil || r.User != "tim" {
		t.Fatalf("result %+v, %v", r, err)
	}
	_, err = runExchange(t, NewLoginClient("tim", "nope"), NewLoginServer(ServerInfo{}, creds))
	wantFailure(t, err, BadCredentials, "wrong password")
}

// The client answers by position, but a challenge that names the password
// gets the password (servers that skip "Username:" after an initial response).
func TestLoginClient(t *testing.T) {
	tests := []struct {
		challenges []string
		want       []string
	}{
		{[]string{"Username:", "Password:"}, []string{"tim", "secret"}},
		{[]string{"User Name", "Password"}, []string{"tim", "secret"}},
		{[]string{"", ""}, []string{"tim", "secret"}},
		{[]string{"Password:"}, []string{"secret"}},
	}
	for _, tt := range tests {
		c := NewLoginClient("tim", "secret")
		if mech, initial, _ := c.Start(); mech != "LOGIN" || initial != nil {
			t.Fatalf("Start = %q %q", mech, initial)
		}
		for i, ch := range tt.challenges {
			got, err := c.Next([]byte(ch))
			if err != nil || string(got) != tt.want[i] {
				t.Errorf("%q: answer %d = %q, %v; want %q", tt.challenges, i, got, err, tt.want[i])
			}
		}
		if _, err := c.Next([]byte("More:")); err == nil {
			t.Errorf("%q: challenge after the password accepted", tt.challenges)
		}
	}
}
