package auth

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"postgate/internal/config"
	"postgate/internal/smtp"
)

// fakeClock is a settable clock for deterministic tests.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }

var t0 = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)

func newTestLimiter(delay time.Duration, failures int, window time.Duration) (*Limiter, *fakeClock) {
	cfg := config.Default().Auth
	cfg.FailureDelay.Duration = delay
	cfg.LockoutFailures = failures
	cfg.LockoutWindow.Duration = window
	clk := &fakeClock{t: t0}
	return NewLimiter(cfg, clk.now), clk
}

var (
	ipA = netip.MustParseAddr("198.51.100.1")
	ipB = netip.MustParseAddr("198.51.100.2")
	ipC = netip.MustParseAddr("198.51.100.3")
)

func TestFailureDelay(t *testing.T) {
	tests := []struct {
		name  string
		base  time.Duration
		addrs []string // one failure each, in order
		want  []time.Duration
	}{
		{"doubles to the cap", time.Second,
			[]string{"198.51.100.1", "198.51.100.1", "198.51.100.1", "198.51.100.1", "198.51.100.1", "198.51.100.1"},
			[]time.Duration{1 * time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 8 * time.Second, 8 * time.Second}},
		{"small base", 100 * time.Millisecond,
			[]string{"198.51.100.1", "198.51.100.1", "198.51.100.1"},
			[]time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond}},
		{"base above the cap is kept", 10 * time.Second,
			[]string{"198.51.100.1", "198.51.100.1"},
			[]time.Duration{10 * time.Second, 10 * time.Second}},
		{"zero turns the delay off", 0,
			[]string{"198.51.100.1", "198.51.100.1"},
			[]time.Duration{0, 0}},
		{"counted per address", time.Second,
			[]string{"198.51.100.1", "198.51.100.2", "198.51.100.1"},
			[]time.Duration{time.Second, time.Second, 2 * time.Second}},
		{"IPv4-mapped is the same address", time.Second,
			[]string{"198.51.100.1", "::ffff:198.51.100.1"},
			[]time.Duration{time.Second, 2 * time.Second}},
		{"IPv6 counted per /64", time.Second,
			[]string{"2001:db8::1", "2001:db8::ffff:2", "2001:db8:0:1::1"},
			[]time.Duration{time.Second, 2 * time.Second, time.Second}},
		{"no address: base delay", time.Second,
			[]string{"", ""},
			[]time.Duration{time.Second, time.Second}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l, _ := newTestLimiter(tc.base, 0, 15*time.Minute)
			for i, a := range tc.addrs {
				var ip netip.Addr
				if a != "" {
					ip = netip.MustParseAddr(a)
				}
				if got := l.Failure(ip, "user"); got != tc.want[i] {
					t.Errorf("failure %d from %s: delay %v, want %v", i+1, a, got, tc.want[i])
				}
			}
		})
	}
}

func TestDelayResetsOutsideWindow(t *testing.T) {
	l, clk := newTestLimiter(time.Second, 0, 10*time.Minute)
	l.Failure(ipA, "")
	l.Failure(ipA, "")
	clk.advance(10 * time.Minute)
	if got := l.Failure(ipA, ""); got != time.Second {
		t.Errorf("delay after the window passed = %v, want 1s", got)
	}
}

func TestLockoutByAddress(t *testing.T) {
	l, clk := newTestLimiter(time.Second, 3, 10*time.Minute)
	for i := range 2 {
		l.Failure(ipA, fmt.Sprintf("user%d", i))
		clk.advance(time.Minute)
		if locked, _ := l.Check(ipA, ""); locked {
			t.Fatalf("locked after %d failures, threshold 3", i+1)
		}
	}
	lockedAt := clk.t
	l.Failure(ipA, "user2")
	locked, until := l.Check(ipA, "")
	if !locked || !until.Equal(lockedAt.Add(10*time.Minute)) {
		t.Fatalf("after 3 failures: Check = %v, %v; want true, %v", locked, until, lockedAt.Add(10*time.Minute))
	}
	if locked, _ := l.Check(ipA, "someone-else"); !locked {
		t.Error("a locked address is not locked for another user name")
	}
	if locked, _ := l.Check(ipB, ""); locked {
		t.Error("another address is locked")
	}
	// A failure recorded while locked does not extend the lock.
	clk.advance(time.Minute)
	l.Failure(ipA, "")
	if _, u := l.Check(ipA, ""); !u.Equal(until) {
		t.Errorf("lock extended to %v, want %v", u, until)
	}
	clk.t = until.Add(-time.Nanosecond)
	if locked, _ := l.Check(ipA, ""); !locked {
		t.Error("unlocked before the window passed")
	}
	clk.t = until
	if locked, _ := l.Check(ipA, ""); locked {
		t.Error("still locked when the window passed")
	}
}

func TestSlidingWindow(t *testing.T) {
	l, clk := newTestLimiter(time.Second, 3, 10*time.Minute)
	l.Failure(ipA, "")
	clk.advance(6 * time.Minute)
	l.Failure(ipA, "")
	clk.advance(4 * time.Minute) // the first failure leaves the window now
	l.Failure(ipA, "")
	if locked, _ := l.Check(ipA, ""); locked {
		t.Fatal("locked by failures spread over more than the window")
	}
	clk.advance(time.Minute)
	l.Failure(ipA, "")
	if locked, _ := l.Check(ipA, ""); !locked {
		t.Fatal("not locked by 3 failures within the window")
	}
}

func TestLockoutByUser(t *testing.T) {
	l, _ := newTestLimiter(time.Second, 3, 10*time.Minute)
	l.Failure(ipA, "alice@example.org")
	l.Failure(ipB, "Alice@Example.org")
	l.Failure(ipC, "ALICE@example.org")
	tests := []struct {
		ip     netip.Addr
		user   string
		locked bool
	}{
		{netip.MustParseAddr("203.0.113.9"), "alice@example.org", true},
		{netip.MustParseAddr("203.0.113.9"), "aLiCe@example.org", true},
		{netip.MustParseAddr("203.0.113.9"), "bob@example.org", false},
		{netip.MustParseAddr("203.0.113.9"), "", false},
		{ipA, "", false}, // one failure per address
		{netip.Addr{}, "alice@example.org", true},
	}
	for _, tc := range tests {
		if locked, _ := l.Check(tc.ip, tc.user); locked != tc.locked {
			t.Errorf("Check(%v, %q) locked = %v, want %v", tc.ip, tc.user, locked, tc.locked)
		}
	}
}

func TestCheckReportsLaterLock(t *testing.T) {
	l, clk := newTestLimiter(time.Second, 2, 10*time.Minute)
	l.Failure(ipA, "")
	l.Failure(ipA, "")
	clk.advance(time.Minute)
	l.Failure(ipB, "bob")
	l.Failure(ipC, "bob")
	locked, until := l.Check(ipA, "bob")
	if want := t0.Add(11 * time.Minute); !locked || !until.Equal(want) {
		t.Errorf("Check = %v, %v; want true, %v (the user's later lock)", locked, until, want)
	}
}

func TestSuccessResets(t *testing.T) {
	l, _ := newTestLimiter(time.Second, 3, 10*time.Minute)
	l.Failure(ipA, "alice")
	l.Failure(ipA, "alice")
	l.Failure(ipB, "bob")
	l.Failure(ipB, "bob")
	l.Success(ipA, "alice")
	if got := l.Failure(ipA, "alice"); got != time.Second {
		t.Errorf("delay after success = %v, want the base 1s", got)
	}
	l.Failure(ipA, "alice")
	if locked, _ := l.Check(ipA, "alice"); locked {
		t.Error("locked: success did not reset the counts")
	}
	// bob's counts are untouched.
	l.Failure(ipB, "bob")
	if locked, _ := l.Check(ipB, "bob"); !locked {
		t.Error("bob not locked after 3 failures; success for alice reset him")
	}
	l.Success(ipB, "bob")
	if locked, _ := l.Check(ipB, "bob"); locked {
		t.Error("success did not lift the lock")
	}
}

func TestLockoutOff(t *testing.T) {
	for _, tc := range []struct {
		failures int
		window   time.Duration
	}{{0, 10 * time.Minute}, {3, 0}} {
		l, _ := newTestLimiter(time.Second, tc.failures, tc.window)
		for range 20 {
			l.Failure(ipA, "alice")
		}
		if locked, _ := l.Check(ipA, "alice"); locked {
			t.Errorf("lockout_failures=%d lockout_window=%v: locked, want lockout off", tc.failures, tc.window)
		}
	}
}

func TestEviction(t *testing.T) {
	l, _ := newTestLimiter(time.Second, 2, 10*time.Minute)
	l.ips = newTable(3)
	l.users = newTable(2)
	a := []netip.Addr{ipA, ipB, ipC}
	for _, ip := range a {
		l.Failure(ip, "")
	}
	l.Failure(ipA, "") // ipA is now the most recent, and locked
	d := netip.MustParseAddr("198.51.100.4")
	l.Failure(d, "")
	if got := l.ips.len(); got != 3 {
		t.Errorf("tracked addresses = %d, want the bound 3", got)
	}
	if e := l.ips.lookup(ipB.String()); e != nil {
		t.Error("least recent address was not evicted")
	}
	for _, ip := range []netip.Addr{ipA, ipC, d} {
		if l.ips.lookup(ip.String()) == nil {
			t.Errorf("%v evicted, want kept", ip)
		}
	}
	if locked, _ := l.Check(ipA, ""); !locked {
		t.Error("recently locked address lost its lock")
	}
	for i := range 5 {
		l.Failure(netip.Addr{}, fmt.Sprintf("user%d", i))
	}
	if got := l.users.len(); got != 2 {
		t.Errorf("tracked users = %d, want the bound 2", got)
	}
	if l.users.lookup("user4") == nil || l.users.lookup("user0") != nil {
		t.Error("users not evicted oldest first")
	}
}

func TestStampsBounded(t *testing.T) {
	l, _ := newTestLimiter(time.Second, 3, time.Hour)
	for range 100 {
		l.Failure(ipA, "")
	}
	if n := len(l.ips.lookup(ipA.String()).fails); n != minStamps {
		t.Errorf("stored failure times = %d, want at most %d", n, minStamps)
	}
}

func TestUserKey(t *testing.T) {
	long := strings.Repeat("x", 1000)
	tests := []struct{ in, want string }{
		{"Alice@Example.ORG", "alice@example.org"},
		{long, long[:maxUserKey]},
	}
	for _, tc := range tests {
		if got := userKey(tc.in); got != tc.want {
			t.Errorf("userKey(%.20q…) = %.20q…, want %.20q…", tc.in, got, tc.want)
		}
	}
}

func TestRemaining(t *testing.T) {
	tests := []struct {
		elapsed, delay, want time.Duration
	}{
		{0, time.Second, time.Second},
		{300 * time.Millisecond, time.Second, 700 * time.Millisecond},
		{time.Second, time.Second, 0},
		{5 * time.Second, time.Second, 0},
		{0, 0, 0},
	}
	for _, tc := range tests {
		if got := remaining(t0.Add(tc.elapsed), t0, tc.delay); got != tc.want {
			t.Errorf("remaining(elapsed %v, delay %v) = %v, want %v", tc.elapsed, tc.delay, got, tc.want)
		}
	}
	// Hold with a moment long past returns at once (no sleeping in tests).
	Hold(time.Now().Add(-time.Hour), time.Second)
}

func TestMaxFailuresPerSession(t *testing.T) {
	cfg := config.Default().Auth
	cfg.MaxFailuresPerSession = 5
	if got := NewLimiter(cfg, nil).MaxFailuresPerSession(); got != 5 {
		t.Errorf("MaxFailuresPerSession = %d, want 5", got)
	}
}

func TestConcurrentUse(t *testing.T) {
	l, _ := newTestLimiter(time.Second, 50, time.Hour)
	done := make(chan struct{})
	for g := range 10 {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := range 10 {
				l.Failure(ipA, fmt.Sprintf("u%d-%d", g, i))
				l.Check(ipA, "")
			}
		}()
	}
	for range 10 {
		<-done
	}
	if locked, _ := l.Check(ipA, ""); !locked {
		t.Error("100 concurrent failures did not reach the threshold of 50")
	}
}

func TestErrLockedOut(t *testing.T) {
	r := smtp.ReplyOf(ErrLockedOut)
	if r.Code != 454 || r.Enhanced != "4.7.0" {
		t.Errorf("ErrLockedOut = %d %s, want 454 4.7.0", r.Code, r.Enhanced)
	}
}
