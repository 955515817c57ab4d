package auth

import (
	"container/list"
	"net/netip"
	"strings"
	"sync"
	"time"

	"postgate/internal/config"
	"postgate/internal/smtp"
)

// MaxTracked is how many client networks, and separately how many user
// names, a Limiter remembers at most. When a new one must be tracked and
// the table is full, the one whose last failure is oldest is forgotten.
// Each remembered key holds at most max(lockout_failures, 16) failure
// times, so memory is bounded by 2 × MaxTracked × that many timestamps.
const MaxTracked = 10000

// MaxFailureDelay caps how far the failure delay grows with repeated
// failures (unless auth.failure_delay is itself larger).
const MaxFailureDelay = 8 * time.Second

// ErrLockedOut is a reply for an attempt that Limiter.Check refused (RFC
// 4954's temporary authentication failure). It says neither whether the
// address or the user name is locked nor until when.
var ErrLockedOut = smtp.Errorf(454, "4.7.0", "Temporary authentication failure: too many failed attempts, try again later")

// maxUserKey bounds the length of a user name used as a key; longer names
// share the truncated key.
const maxUserKey = 256

// minStamps is the fewest failure times kept per key, enough for the delay
// to reach its cap.
const minStamps = 16

// Limiter is the brute-force defence: it counts failed authentications per
// client network (an IPv4 address, or an IPv6 /64, since one host usually
// owns a whole /64) and per user name (compared without case) in sliding
// windows of auth.lockout_window. auth.lockout_failures failures within
// the window lock that network, or that user name, out for the window from
// the failure that reached the limit. Each failure is also held back for
// a delay that starts at auth.failure_delay and doubles with every further
// failure from the same network within the window, up to MaxFailureDelay.
// A lockout_failures or lockout_window of 0 turns lockout off; a
// failure_delay of 0 turns the delay off. Safe for concurrent use.
type Limiter struct {
	mu         sync.Mutex
	now        func() time.Time
	delay      time.Duration
	threshold  int
	window     time.Duration
	perSession int
	maxStamps  int
	ips        *table
	users      *table
}

// NewLimiter returns a Limiter for cfg. now is the clock (nil: time.Now);
// tests inject a fake one.
func NewLimiter(cfg config.Auth, now func() time.Time) *Limiter {
	if now == nil {
		now = time.Now
	}
	l := &Limiter{
		now:        now,
		delay:      max(cfg.FailureDelay.Duration, 0),
		threshold:  max(cfg.LockoutFailures, 0),
		window:     max(cfg.LockoutWindow.Duration, 0),
		perSession: max(cfg.MaxFailuresPerSession, 0),
		maxStamps:  max(cfg.LockoutFailures, minStamps),
		ips:        newTable(MaxTracked),
		users:      newTable(MaxTracked),
	}
	return l
}

// MaxFailuresPerSession is auth.max_failures_per_session: after this many
// failed attempts in one session the server replies 421 and closes. 0
// means no per-session limit. The server counts; the Limiter does not.
func (l *Limiter) MaxFailuresPerSession() int { return l.perSession }

// Check reports, before credentials are verified, whether the client's
// network or the user name (when not "") is locked out, and until when
// (the later of the two). The caller must then refuse the attempt without
// verifying, so a locked-out guesser learns nothing.
func (l *Limiter) Check(ip netip.Addr, user string) (locked bool, until time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	for _, k := range l.keys(ip, user) {
		if e := k.t.lookup(k.key); e != nil && e.lockedUntil.After(now) {
			locked = true
			if e.lockedUntil.After(until) {
				until = e.lockedUntil
			}
		}
	}
	return locked, until
}

// Failure records a failed attempt from ip for user (user may be "") and
// returns how long after the start of the attempt the failure reply must
// be held back (pass it to Hold).
func (l *Limiter) Failure(ip netip.Addr, user string) (delay time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	n := 0
	for _, k := range l.keys(ip, user) {
		e := k.t.touch(k.key)
		l.prune(e, now)
		e.fails = append(e.fails, now)
		if len(e.fails) > l.maxStamps {
			e.fails = append(e.fails[:0], e.fails[len(e.fails)-l.maxStamps:]...)
		}
		if l.threshold > 0 && l.window > 0 && len(e.fails) >= l.threshold && !e.lockedUntil.After(now) {
			e.lockedUntil = now.Add(l.window)
		}
		if k.t == l.ips {
			n = len(e.fails)
		}
	}
	return l.delayFor(n)
}

// Success forgets the failures and any lockout of ip's network and of user.
func (l *Limiter) Success(ip netip.Addr, user string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, k := range l.keys(ip, user) {
		k.t.remove(k.key)
	}
}

// delayFor returns the hold-back after the n-th failure from a network
// within the window (n = 0: the network is unknown).
func (l *Limiter) delayFor(n int) time.Duration {
	d := l.delay
	limit := max(MaxFailureDelay, l.delay)
	for i := 1; i < n && d < limit; i++ {
		d *= 2
	}
	return min(d, limit)
}

// prune drops failures that have left the window.
func (l *Limiter) prune(e *entry, now time.Time) {
	i := 0
	for i < len(e.fails) && now.Sub(e.fails[i]) >= l.window {
		i++
	}
	if i > 0 {
		e.fails = append(e.fails[:0], e.fails[i:]...)
	}
}

type tableKey struct {
	t   *table
	key string
}

// keys returns the table keys for a client address and a user name; an
// invalid address or an empty user name has none.
func (l *Limiter) keys(ip netip.Addr, user string) []tableKey {
	var ks []tableKey
	if k, ok := networkKey(ip); ok {
		ks = append(ks, tableKey{l.ips, k})
	}
	if user != "" {
		ks = append(ks, tableKey{l.users, userKey(user)})
	}
	return ks
}

// networkKey is the network an address is counted under: the address for
// IPv4 (also when IPv4-mapped), its /64 for IPv6.
func networkKey(ip netip.Addr) (string, bool) {
	if !ip.IsValid() {
		return "", false
	}
	ip = ip.Unmap()
	if ip.Is4() {
		return ip.String(), true
	}
	p, _ := ip.WithZone("").Prefix(64)
	return p.String(), true
}

// userKey folds case and bounds the length of a user name.
func userKey(user string) string {
	user = strings.ToLower(user)
	if len(user) > maxUserKey {
		user = user[:maxUserKey]
	}
	return user
}

// Hold waits until delay has passed since start, the beginning of a failed
// attempt, so that every failure takes at least that long however quickly
// it was detected. It returns at once when that moment has passed.
func Hold(start time.Time, delay time.Duration) {
	if d := remaining(time.Now(), start, delay); d > 0 {
		time.Sleep(d)
	}
}

// remaining is how long Hold still has to wait at now.
func remaining(now, start time.Time, delay time.Duration) time.Duration {
	return max(start.Add(delay).Sub(now), 0)
}

// entry is what is remembered about one network or user.
type entry struct {
	key         string
	fails       []time.Time // within the window, oldest first
	lockedUntil time.Time
}

// table is a bounded map of entries ordered by last failure.
type table struct {
	max   int
	byKey map[string]*list.Element
	order *list.List // of *entry; front = least recent failure
}

func newTable(maxKeys int) *table {
	return &table{max: maxKeys, byKey: map[string]*list.Element{}, order: list.New()}
}

func (t *table) lookup(key string) *entry {
	if el, ok := t.byKey[key]; ok {
		return el.Value.(*entry)
	}
	return nil
}

// touch returns the entry for key, created if needed, and marks it the
// most recent; creating one in a full table evicts the least recent.
func (t *table) touch(key string) *entry {
	if el, ok := t.byKey[key]; ok {
		t.order.MoveToBack(el)
		return el.Value.(*entry)
	}
	if t.order.Len() >= t.max {
		if front := t.order.Front(); front != nil {
			delete(t.byKey, front.Value.(*entry).key)
			t.order.Remove(front)
		}
	}
	e := &entry{key: key}
	t.byKey[key] = t.order.PushBack(e)
	return e
}

func (t *table) remove(key string) {
	if el, ok := t.byKey[key]; ok {
		t.order.Remove(el)
		delete(t.byKey, key)
	}
}

func (t *table) len() int { return t.order.Len() }
