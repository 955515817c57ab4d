package smtpserver

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"postgate/internal/auth"
	"postgate/internal/config"
	"postgate/internal/metrics"
	"postgate/internal/queue"
	"postgate/internal/sasl"
	"postgate/internal/smtp"
)

// Users is what the engine needs from the user store.
type Users interface {
	sasl.Credentials
	// Exists reports whether a local address has a mailbox.
	Exists(ctx context.Context, address string) (bool, error)
	// MaySend reports whether user may use from in MAIL FROM.
	MaySend(ctx context.Context, user, from string) (bool, error)
	// Canonical applies the store's username rule ("alice" and
	// "alice@example.test" are one user), so lockouts count them together.
	Canonical(name string) (string, error)
}

// Options are the server's collaborators. All are required except Now.
type Options struct {
	Config  *config.Config
	TLS     *tls.Config
	Spool   *queue.Spool
	Users   Users
	Policy  *auth.Policy
	Limiter *auth.Limiter
	Log     *slog.Logger
	// AuthFailures, when set, keeps recent authentication failures for
	// `postgate status`.
	AuthFailures AuthFailureRecorder
	// LocalSender decides envelope senders on the local listener; nil
	// refuses every local submission.
	LocalSender LocalSenderFunc
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

// AuthFailureRecorder keeps a bounded record of recent authentication
// failures. It is never given a password or a SASL response.
type AuthFailureRecorder interface {
	Record(client, mech, user, reason string, t time.Time)
}

// Listener kinds. The name is also the [listen] key in the configuration.
const (
	ListenerSMTP        = "smtp"        // MTA: local delivery; relay only after AUTH
	ListenerSubmission  = "submission"  // RFC 6409: STARTTLS, AUTH before MAIL
	ListenerSubmissions = "submissions" // RFC 8314: implicit TLS, AUTH before MAIL
)

// Server accepts SMTP connections on any number of listeners.
type Server struct {
	opt     Options
	cfg     *config.Config
	log     *slog.Logger
	trusted []netip.Prefix
	traced  []netip.Prefix

	closing atomic.Bool
	mu      sync.Mutex
	lns     []net.Listener
	conns   map[*session]struct{}
	perIP   map[netip.Addr]int
	wg      sync.WaitGroup
	seq     atomic.Uint64
}

// New returns a server; call Serve for each listener.
func New(opt Options) *Server {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	s := &Server{opt: opt, cfg: opt.Config, log: opt.Log,
		conns: map[*session]struct{}{}, perIP: map[netip.Addr]int{}}
	for _, n := range opt.Config.TrustedNetworks {
		s.trusted = append(s.trusted, netip.MustParsePrefix(n))
	}
	for _, n := range opt.Config.Log.TraceNetworks {
		s.traced = append(s.traced, netip.MustParsePrefix(n))
	}
	return s
}

// Serve accepts connections on ln as the given listener kind until
// Shutdown. It returns nil after Shutdown.
func (s *Server) Serve(ln net.Listener, kind string) error {
	s.mu.Lock()
	if s.closing.Load() {
		s.mu.Unlock()
		ln.Close()
		return nil
	}
	s.lns = append(s.lns, ln)
	s.mu.Unlock()
	for {
		c, err := ln.Accept()
		if err != nil {
			if s.closing.Load() {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return err
		}
		s.accept(c, kind)
	}
}

// accept applies the connection limits and starts a session.
func (s *Server) accept(c net.Conn, kind string) {
	ip := addrOf(c.RemoteAddr())
	s.mu.Lock()
	perIPFull := kind != ListenerLocal && s.perIP[ip] >= s.cfg.Limits.MaxConnectionsPerIP
	if len(s.conns) >= s.cfg.Limits.MaxConnections || perIPFull {
		s.mu.Unlock()
		s.log.Warn("connection refused: limit reached", "client", ip.String(), "listener", kind)
		metrics.ConnectionRefused(kind)
		c.SetWriteDeadline(time.Now().Add(5 * time.Second))
		if kind != ListenerSubmissions { // no TLS yet: a plaintext reply would be garbage
			c.Write([]byte(smtp.ReplyTooManyConns.String()))
		}
		c.Close()
		return
	}
	sess := newSession(s, c, kind)
	s.conns[sess] = struct{}{}
	s.perIP[ip]++
	s.wg.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		metrics.SessionStarted(kind)
		defer metrics.SessionEnded(kind)
		sess.run()
		s.mu.Lock()
		delete(s.conns, sess)
		if s.perIP[ip]--; s.perIP[ip] <= 0 {
			delete(s.perIP, ip)
		}
		s.mu.Unlock()
	}()
}

// Shutdown stops accepting, tells idle sessions 421 and lets sessions in
// DATA finish for up to the configured grace period, then closes the rest.
// A message is either committed (and 250 sent) or not acknowledged at all.
func (s *Server) Shutdown(ctx context.Context) {
	s.mu.Lock()
	s.closing.Store(true)
	for _, ln := range s.lns {
		ln.Close()
	}
	for sess := range s.conns {
		sess.interruptIfIdle()
	}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	grace := time.NewTimer(s.cfg.Limits.ShutdownGrace.Duration)
	defer grace.Stop()
	select {
	case <-done:
		return
	case <-grace.C:
	case <-ctx.Done():
	}
	s.mu.Lock()
	for sess := range s.conns {
		sess.forceClose()
	}
	s.mu.Unlock()
	<-done
}

func (s *Server) isTrusted(ip netip.Addr) bool { return inPrefixes(s.trusted, ip) }

func inPrefixes(ps []netip.Prefix, ip netip.Addr) bool {
	for _, p := range ps {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

func addrOf(a net.Addr) netip.Addr {
	if ta, ok := a.(*net.TCPAddr); ok {
		ip, _ := netip.AddrFromSlice(ta.IP)
		return ip.Unmap()
	}
	ap, err := netip.ParseAddrPort(a.String())
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
}
