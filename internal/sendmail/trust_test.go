package sendmail

import (
	"errors"
	"strings"
	"testing"
)

func TestAllowedSender(t *testing.T) {
	server := uint32(999)
	logins := map[uint32]string{0: "root", 999: "postgate", 1000: "alice", 1001: "www-data", 1002: "bob", 1004: "Bad Name"}
	tr := &Trust{
		TrustedUsers: []string{"www-data", "1003"},
		Domain:       "example.org",
		ServerUID:    &server,
		LookupLogin: func(uid uint32) (string, error) {
			if l, ok := logins[uid]; ok {
				return l, nil
			}
			return "", errors.New("unknown uid")
		},
	}
	tests := []struct {
		name      string
		uid       uint32
		requested string
		want      string
		wantErr   string
	}{
		{"root any sender", 0, "someone@example.net", "someone@example.net", ""},
		{"root null sender", 0, "", "", ""},
		{"server user any sender", 999, "bounces@example.org", "bounces@example.org", ""},
		{"trusted by name", 1001, "shop@example.com", "shop@example.com", ""},
		{"trusted by uid without login", 1003, "x@example.com", "x@example.com", ""},
		{"trusted bare name qualified", 1001, "noreply", "noreply@example.org", ""},
		{"untrusted own address", 1000, "alice@example.org", "alice@example.org", ""},
		{"untrusted forged sender forced", 1000, "ceo@example.org", "alice@example.org", ""},
		{"untrusted null sender forced", 1002, "", "bob@example.org", ""},
		{"untrusted unknown uid", 4242, "a@b.c", "", "no user name"},
		{"untrusted login not an address", 1004, "a@b.c", `"Bad Name"@example.org`, ""},
	}
	for _, tt := range tests {
		got, err := tr.AllowedSender(tt.uid, tt.requested)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%s: err %v, want %q", tt.name, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%s: AllowedSender(%d, %q) = %q, %v; want %q", tt.name, tt.uid, tt.requested, got, err, tt.want)
		}
	}
}
