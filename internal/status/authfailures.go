package status

import (
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"postgate/internal/metrics"
)

// DefaultAuthFailures is the number of failures NewAuthFailures keeps when
// given a capacity of zero or less.
const DefaultAuthFailures = 256

// maxField bounds each stored string, so a hostile client cannot make the
// record large through long user names.
const maxField = 128

// maxGroupUsers is the most distinct user names a summary group lists.
const maxGroupUsers = 5

// AuthFailure is one failed AUTH exchange.
type AuthFailure struct {
	Time      time.Time `json:"time"`
	Client    string    `json:"client"`         // client IP, or "local uid N"
	Mechanism string    `json:"mechanism"`      // as the client sent it, upper-cased
	User      string    `json:"user,omitempty"` // user name as the client sent it, "" if none got that far
	Reason    string    `json:"reason"`         // the precise free-text reason
}

// AuthFailureGroup summarises the failures of one client for one reason
// class.
type AuthFailureGroup struct {
	Client     string    `json:"client"`
	Reason     string    `json:"reason"` // metrics.ReasonClass of the reasons
	Count      int       `json:"count"`
	First      time.Time `json:"first"`
	Last       time.Time `json:"last"`
	Mechanisms []string  `json:"mechanisms"`      // distinct, sorted
	Users      []string  `json:"users,omitempty"` // distinct user names, at most 5, in order of first appearance
	UserCount  int       `json:"user_count"`      // distinct user names in all
	Example    string    `json:"example"`         // the most recent precise reason
}

// AuthFailures is a fixed-size ring of the most recent AUTH failures.
// It is safe for concurrent use; a nil *AuthFailures records nothing.
type AuthFailures struct {
	mu    sync.Mutex
	buf   []AuthFailure
	next  int
	full  bool
	total uint64
}

// NewAuthFailures returns a record keeping the last capacity failures
// (DefaultAuthFailures if capacity <= 0).
func NewAuthFailures(capacity int) *AuthFailures {
	if capacity <= 0 {
		capacity = DefaultAuthFailures
	}
	return &AuthFailures{buf: make([]AuthFailure, capacity)}
}

// Record adds a failure, overwriting the oldest when full. The strings are
// truncated and stripped of control characters before they are stored.
// Never pass a password or a SASL response here.
func (a *AuthFailures) Record(client, mech, user, reason string, t time.Time) {
	if a == nil {
		return
	}
	f := AuthFailure{Time: t, Client: clean(client), Mechanism: strings.ToUpper(clean(mech)),
		User: clean(user), Reason: clean(reason)}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.buf[a.next] = f
	a.next++
	if a.next == len(a.buf) {
		a.next, a.full = 0, true
	}
	a.total++
}

// Total returns how many failures were recorded since start, including
// those no longer kept.
func (a *AuthFailures) Total() uint64 {
	if a == nil {
		return 0
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.total
}

// Capacity returns how many failures are kept.
func (a *AuthFailures) Capacity() int {
	if a == nil {
		return 0
	}
	return len(a.buf)
}

// Recent returns the kept failures, oldest first.
func (a *AuthFailures) Recent() []AuthFailure {
	if a == nil {
		return nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []AuthFailure
	if a.full {
		out = append(out, a.buf[a.next:]...)
	}
	return append(out, a.buf[:a.next]...)
}

// Summary groups the kept failures by client and reason class, most
// frequent first (ties: most recent first, then by client).
func (a *AuthFailures) Summary() []AuthFailureGroup {
	type key struct{ client, class string }
	groups := map[key]*AuthFailureGroup{}
	mechs := map[key]map[string]bool{}
	users := map[key]map[string]bool{}
	var order []key
	for _, f := range a.Recent() {
		k := key{f.Client, metrics.ReasonClass(f.Reason)}
		g := groups[k]
		if g == nil {
			g = &AuthFailureGroup{Client: f.Client, Reason: k.class, First: f.Time}
			groups[k], mechs[k], users[k] = g, map[string]bool{}, map[string]bool{}
			order = append(order, k)
		}
		g.Count++
		if f.Time.Before(g.First) {
			g.First = f.Time
		}
		if !f.Time.Before(g.Last) {
			g.Last, g.Example = f.Time, f.Reason
		}
		if f.Mechanism != "" && !mechs[k][f.Mechanism] {
			mechs[k][f.Mechanism] = true
			g.Mechanisms = append(g.Mechanisms, f.Mechanism)
		}
		if f.User != "" && !users[k][f.User] {
			users[k][f.User] = true
			g.UserCount++
			if len(g.Users) < maxGroupUsers {
				g.Users = append(g.Users, f.User)
			}
		}
	}
	out := make([]AuthFailureGroup, 0, len(order))
	for _, k := range order {
		g := groups[k]
		sort.Strings(g.Mechanisms)
		out = append(out, *g)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		if !out[i].Last.Equal(out[j].Last) {
			return out[i].Last.After(out[j].Last)
		}
		return out[i].Client < out[j].Client
	})
	return out
}

// clean truncates s to maxField bytes (at a rune boundary) and replaces
// control characters and invalid UTF-8 with "?".
func clean(s string) string {
	if len(s) > maxField {
		cut := maxField
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return sanitize(s)
}

// sanitize replaces control characters and invalid UTF-8 with "?", so the
// text is safe to print on a terminal.
func sanitize(s string) string {
	ok := true
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == utf8.RuneError {
			ok = false
			break
		}
	}
	if ok {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == utf8.RuneError {
			b.WriteByte('?')
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}
