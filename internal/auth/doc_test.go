package auth

import (
	"os"
	"slices"
	"strings"
	"testing"

	"postgate/internal/config"
)

// TestDocTable checks that the defaults table in docs/auth.md says what
// Offered does: for each mechanism row, a cell starting with "yes" means
// offered in that column's session.
func TestDocTable(t *testing.T) {
	b, err := os.ReadFile("../../docs/auth.md")
	if err != nil {
		t.Fatal(err)
	}
	p := mustPolicy(t, defaultAuth(), nil)
	columns := []struct {
		cell int
		s    Session
	}{{3, noTLS}, {4, withCB}, {5, withCrt}}
	rows := 0
	for _, line := range strings.Split(string(b), "\n") {
		cells := strings.Split(line, "|")
		if len(cells) != 7 || !strings.HasPrefix(strings.TrimSpace(cells[1]), "`") {
			continue
		}
		name := strings.Trim(strings.TrimSpace(cells[1]), "`")
		m, ok := Lookup(name)
		if !ok {
			continue
		}
		rows++
		if secret := strings.TrimSpace(cells[2]); m.NeedsSecret != "" && !strings.HasPrefix(secretNoun(m.NeedsSecret), secret) &&
			!strings.HasPrefix(secret, m.NeedsSecret) {
			t.Errorf("%s: doc says secret %q, code needs %q", name, secret, m.NeedsSecret)
		}
		for _, c := range columns {
			doc := strings.HasPrefix(strings.TrimSpace(cells[c.cell]), "yes")
			if code := slices.Contains(p.Offered(c.s), name); doc != code {
				t.Errorf("%s column %d: doc says offered=%v, code says %v", name, c.cell, doc, code)
			}
		}
	}
	if rows != len(mechanisms) {
		t.Errorf("doc table has %d mechanism rows, want %d", rows, len(mechanisms))
	}
}

func TestHeloAddressLiteral(t *testing.T) {
	r, err := compileRule(0, config.AuthRule{Helo: []string{`\[192.0.2.10]`}})
	if err != nil {
		t.Fatal(err)
	}
	for helo, want := range map[string]bool{"[192.0.2.10]": true, "[192.0.2.11]": false, "1": false} {
		if got := r.matches(Session{Helo: helo}); got != want {
			t.Errorf("pattern \\[192.0.2.10] vs %q = %v, want %v", helo, got, want)
		}
	}
}
