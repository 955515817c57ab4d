package status

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

func TestAuthFailuresRing(t *testing.T) {
	tests := []struct {
		capacity, records int
		wantKept          int
		wantFirstUser     string
	}{
		{capacity: 4, records: 0, wantKept: 0},
		{capacity: 4, records: 3, wantKept: 3, wantFirstUser: "u0"},
		{capacity: 4, records: 4, wantKept: 4, wantFirstUser: "u0"},
		{capacity: 4, records: 5, wantKept: 4, wantFirstUser: "u1"},
		{capacity: 4, records: 11, wantKept: 4, wantFirstUser: "u7"},
		{capacity: 0, records: 3, wantKept: 3, wantFirstUser: "u0"}, // default capacity
	}
	for _, tt := range tests {
		a := NewAuthFailures(tt.capacity)
		for i := range tt.records {
			a.Record("192.0.2.1", "plain", fmt.Sprintf("u%d", i), "wrong password", t0.Add(time.Duration(i)*time.Second))
		}
		got := a.Recent()
		if len(got) != tt.wantKept {
			t.Errorf("cap %d, %d records: kept %d, want %d", tt.capacity, tt.records, len(got), tt.wantKept)
			continue
		}
		if a.Total() != uint64(tt.records) {
			t.Errorf("cap %d, %d records: Total %d", tt.capacity, tt.records, a.Total())
		}
		if len(got) > 0 && got[0].User != tt.wantFirstUser {
			t.Errorf("cap %d, %d records: oldest kept %q, want %q", tt.capacity, tt.records, got[0].User, tt.wantFirstUser)
		}
		for i := 1; i < len(got); i++ {
			if !got[i].Time.After(got[i-1].Time) {
				t.Errorf("cap %d, %d records: Recent not oldest first at %d", tt.capacity, tt.records, i)
			}
		}
		if len(got) > 0 && got[0].Mechanism != "PLAIN" {
			t.Errorf("mechanism %q not upper-cased", got[0].Mechanism)
		}
	}
}

func TestAuthFailuresSummary(t *testing.T) {
	a := NewAuthFailures(100)
	rec := func(client, mech, user, reason string, sec int) {
		a.Record(client, mech, user, reason, t0.Add(time.Duration(sec)*time.Second))
	}
	rec("192.0.2.7", "PLAIN", "alice", "wrong password", 1)
	rec("192.0.2.7", "LOGIN", "bob", "wrong password", 2)
	rec("192.0.2.7", "PLAIN", "alice", "wrong password", 3)
	rec("192.0.2.7", "PLAIN", "zed", "unknown user", 4)
	rec("198.51.100.1", "DIGEST-MD5", "carol", `digest-uri "imap/x" names service "imap", want "smtp"`, 5)
	rec("198.51.100.1", "DIGEST-MD5", "carol", `digest-uri "smtp/y" does not match any of [x]`, 6)
	for i := range 7 {
		rec("203.0.113.9", "PLAIN", fmt.Sprintf("guess%d", i), "wrong password", 10+i)
	}

	got := a.Summary()
	type row struct {
		client, reason string
		count          int
		mechs          string
		users          string
		userCount      int
	}
	want := []row{
		{"203.0.113.9", "wrong_password", 7, "PLAIN", "guess0,guess1,guess2,guess3,guess4", 7},
		{"192.0.2.7", "wrong_password", 3, "LOGIN,PLAIN", "alice,bob", 2},
		{"198.51.100.1", "digest_uri", 2, "DIGEST-MD5", "carol", 1},
		{"192.0.2.7", "unknown_user", 1, "PLAIN", "zed", 1},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d groups, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		g := got[i]
		r := row{g.Client, g.Reason, g.Count, strings.Join(g.Mechanisms, ","), strings.Join(g.Users, ","), g.UserCount}
		if r != w {
			t.Errorf("group %d = %+v, want %+v", i, r, w)
		}
	}
	if d := got[2]; !d.First.Equal(t0.Add(5*time.Second)) || !d.Last.Equal(t0.Add(6*time.Second)) ||
		!strings.Contains(d.Example, "does not match") {
		t.Errorf("digest group first/last/example = %v %v %q", d.First, d.Last, d.Example)
	}
}

func TestAuthFailuresCleansInput(t *testing.T) {
	a := NewAuthFailures(2)
	long := strings.Repeat("é", 200)
	a.Record("192.0.2.1", "PLAIN", "evil\x1b[2J\r\nuser", long, t0)
	f := a.Recent()[0]
	if strings.ContainsAny(f.User, "\x1b\r\n") {
		t.Errorf("control characters kept: %q", f.User)
	}
	if len(f.Reason) > maxField+len("…") {
		t.Errorf("reason not truncated: %d bytes", len(f.Reason))
	}
	if !strings.HasSuffix(f.Reason, "…") || strings.ContainsRune(f.Reason, '\uFFFD') {
		t.Errorf("reason truncated badly: %q", f.Reason[len(f.Reason)-8:])
	}
}

func TestNilAuthFailures(t *testing.T) {
	var a *AuthFailures
	a.Record("x", "PLAIN", "u", "r", t0)
	if a.Recent() != nil || a.Total() != 0 || a.Capacity() != 0 || len(a.Summary()) != 0 {
		t.Error("nil AuthFailures is not empty")
	}
}
