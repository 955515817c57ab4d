package auth

import (
	"fmt"
	"net/netip"
	"path"
	"slices"
	"strings"

	"postgate/internal/config"
)

// Listener names a rule may be limited to.
var listenerNames = []string{"smtp", "submission", "submissions"}

// rule is a compiled [[auth.rule]].
type rule struct {
	index      int
	networks   []netip.Prefix
	helo       []string // lower-case path.Match patterns
	listeners  []string
	mechanisms []string // upper-case, deduplicated, in the rule's order
}

// name is how replies and logs refer to the rule.
func (r *rule) name() string { return fmt.Sprintf("auth.rule[%d]", r.index) }

// compileRule checks and compiles one rule.
func compileRule(i int, c config.AuthRule) (*rule, error) {
	r := &rule{index: i}
	for _, n := range c.Networks {
		p, err := netip.ParsePrefix(strings.TrimSpace(n))
		if err != nil {
			return nil, fmt.Errorf("auth.rule[%d].networks: %q is not a network in CIDR form", i, n)
		}
		r.networks = append(r.networks, p.Masked())
	}
	for _, h := range c.Helo {
		pat := strings.ToLower(h)
		if _, err := path.Match(pat, ""); err != nil {
			return nil, fmt.Errorf("auth.rule[%d].helo: %q is not a valid pattern: %v", i, h, err)
		}
		r.helo = append(r.helo, pat)
	}
	for _, l := range c.Listeners {
		if !slices.Contains(listenerNames, l) {
			return nil, fmt.Errorf("auth.rule[%d].listeners: %q is not one of %s", i, l, strings.Join(listenerNames, ", "))
		}
		r.listeners = append(r.listeners, l)
	}
	mechs, err := mechanismList(c.Mechanisms, fmt.Sprintf("auth.rule[%d].mechanisms", i))
	if err != nil {
		return nil, err
	}
	r.mechanisms = mechs
	return r, nil
}

// matches reports whether the rule applies to the session: every condition
// the rule sets must hold.
func (r *rule) matches(s Session) bool {
	if len(r.listeners) > 0 && !slices.Contains(r.listeners, s.Listener) {
		return false
	}
	if len(r.networks) > 0 {
		ip := s.ClientIP.Unmap()
		found := false
		for _, p := range r.networks {
			if ip.IsValid() && p.Contains(ip) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	if len(r.helo) > 0 {
		helo := strings.ToLower(s.Helo)
		found := false
		for _, pat := range r.helo {
			if ok, _ := path.Match(pat, helo); ok {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

func quoteList(list []string) string {
	q := make([]string, len(list))
	for i, s := range list {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, ", ")
}
