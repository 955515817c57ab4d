package status

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestRenderStatus(t *testing.T) {
	af := NewAuthFailures(8)
	af.Record("192.0.2.7", "PLAIN", "alice", "wrong password", t0.Add(-2*time.Minute))
	srv := &Server{Hostname: "mail.example.org", Started: t0.Add(-(3*time.Hour + 12*time.Minute)),
		Now: func() time.Time { return t0 }, Spool: testSpool(), AuthFailures: af,
		Listeners: []Listener{{"smtp", "127.0.0.1:2525"}, {"submissions", "127.0.0.1:2465"}}}
	snap := srv.Snapshot()
	for _, color := range []bool{false, true} {
		var b bytes.Buffer
		if err := RenderStatus(&b, &snap, color); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		for _, want := range []string{"mail.example.org", "up 3h12m", "submissions", "127.0.0.1:2465",
			"messages", "3 (2.0 kB)", "2h ago", "deferred 1", "wrong_password", "2m ago", "alice"} {
			if !strings.Contains(out, want) {
				t.Errorf("color=%v: output lacks %q:\n%s", color, want, out)
			}
		}
		if hasEsc := strings.Contains(out, "\x1b["); hasEsc != color {
			t.Errorf("color=%v but escape sequences present=%v", color, hasEsc)
		}
	}
}

func TestTableAlignment(t *testing.T) {
	tb := Table{Header: []string{"A", "COUNT", "Z"}, Right: map[int]bool{1: true}}
	tb.Row(C("long-name"), C("7"), C("x"))
	tb.Row(Cell{Text: "é", Style: Red}, C("1234"), C("bad\x1bchar"))
	for _, color := range []bool{false, true} {
		var b bytes.Buffer
		tb.Render(&b, color)
		plain := stripANSI(b.String())
		want := "A          COUNT  Z\n" +
			"long-name      7  x\n" +
			"é           1234  bad?char\n"
		if plain != want {
			t.Errorf("color=%v:\n%q\nwant\n%q", color, plain, want)
		}
	}
}

// stripANSI removes SGR sequences the tests' own Paint calls produced.
func stripANSI(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == 0x1b && i+1 < len(s) && s[i+1] == '[' {
			j := strings.IndexByte(s[i:], 'm')
			i += j
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func TestDurationAndBytes(t *testing.T) {
	durs := []struct {
		d    time.Duration
		want string
	}{
		{-time.Second, "0s"}, {0, "0s"}, {45 * time.Second, "45s"}, {12 * time.Minute, "12m"},
		{3 * time.Hour, "3h"}, {3*time.Hour + 12*time.Minute, "3h12m"}, {48 * time.Hour, "2d"},
		{52 * time.Hour, "2d4h"},
	}
	for _, tt := range durs {
		if got := Duration(tt.d); got != tt.want {
			t.Errorf("Duration(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
	sizes := []struct {
		n    int64
		want string
	}{{0, "0 B"}, {999, "999 B"}, {1500, "1.5 kB"}, {2_500_000, "2.5 MB"}, {3_000_000_000, "3.0 GB"}}
	for _, tt := range sizes {
		if got := Bytes(tt.n); got != tt.want {
			t.Errorf("Bytes(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
}

func TestUseColor(t *testing.T) {
	var b bytes.Buffer
	if UseColor(&b) {
		t.Error("a buffer is not a terminal")
	}
	t.Setenv("NO_COLOR", "1")
	if UseColor(&b) {
		t.Error("NO_COLOR ignored")
	}
}
