// Package probetest starts a real postgate SMTP server on loopback for
// tests: the probe's own tests, the probe command's, and the Dovecot
// interop tests, which use it as Dovecot's relay host. It is test support
// only; nothing in the server imports it.
//
// The server has a temporary data directory, a real spool and a SQLite
// user store with cheap Argon2 parameters, a self-signed certificate for
// its host name, and listeners on 127.0.0.1 for smtp, submission and
// submissions. Options can break a mechanism on purpose, as a server with
// inconsistent secrets would be, so the probe's diagnosis can be tested.
package probetest

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"postgate/internal/auth"
	"postgate/internal/config"
	"postgate/internal/queue"
	"postgate/internal/sasl"
	"postgate/internal/smtpserver"
	"postgate/internal/tlsconf"
	"postgate/internal/userstore"
)

// Options shape the test server.
type Options struct {
	// Users maps addresses to passwords; nil means alice@example.test with
	// "pw-alice".
	Users map[string]string
	// StoredRealms are the DIGEST-MD5 realms the user store derives secrets
	// for; nil means the server's realms. Different realms break DIGEST-MD5.
	StoredRealms []string
	// NoCRAMSecret makes the store report that no user has a CRAM-MD5
	// secret, while the server still offers CRAM-MD5.
	NoCRAMSecret bool
	// Edit adjusts the configuration before the server starts.
	Edit func(*config.Config)
}

// Server is a running test server.
type Server struct {
	Config *config.Config
	// Addr maps smtpserver.ListenerSMTP, ListenerSubmission and
	// ListenerSubmissions to "127.0.0.1:port".
	Addr map[string]string
	// Roots trusts the server's self-signed certificate.
	Roots *x509.CertPool
	Spool *queue.Spool
	logs  *syncBuffer
}

// Logs returns what the server logged so far.
func (s *Server) Logs() string { return s.logs.String() }

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// noCRAM hides every user's CRAM-MD5 secret.
type noCRAM struct{ *userstore.SQLite }

func (noCRAM) CRAMMD5Secret(user string) (string, sasl.CRAMMD5Secret, error) {
	return "", sasl.CRAMMD5Secret{}, sasl.ErrNoSecret
}

// Start starts the server; it stops when the test ends. The host name is
// mail.example.test, the local domain example.test, and authentication
// failures are not delayed.
func Start(t testing.TB, opt Options) *Server {
	t.Helper()
	cfg := config.Default()
	cfg.Hostname = "mail.example.test"
	cfg.LocalDomains = []string{"example.test"}
	cfg.DataDir = t.TempDir()
	cfg.Auth.FailureDelay = config.Duration{Duration: time.Millisecond}
	cfg.Auth.LockoutFailures = 1000
	cfg.Auth.MaxFailuresPerSession = 10
	cfg.Limits.ShutdownGrace = config.Duration{Duration: 5 * time.Second}
	if opt.Edit != nil {
		opt.Edit(cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	tlsCfg, _, err := tlsconf.Server(cfg)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	certPEM, err := os.ReadFile(cfg.Path("tls", "cert.pem"))
	if err != nil {
		t.Fatal(err)
	}
	if blk, _ := pem.Decode(certPEM); blk != nil {
		if c, err := x509.ParseCertificate(blk.Bytes); err == nil {
			roots.AddCert(c)
		}
	}
	spool, err := queue.Open(cfg.Path("queue"), queue.Options{})
	if err != nil {
		t.Fatal(err)
	}
	realms := opt.StoredRealms
	if realms == nil {
		realms = cfg.DigestRealms()
	}
	store, err := userstore.OpenSQLite(cfg.Path("users.db"), userstore.Options{
		DefaultDomain: cfg.UserDefaultDomain(), DigestRealms: realms,
		Argon2: userstore.Argon2Params{Time: 1, Memory: 64, Threads: 1},
	})
	if err != nil {
		t.Fatal(err)
	}
	users := opt.Users
	if users == nil {
		users = map[string]string{"alice@example.test": "pw-alice"}
	}
	for u, pw := range users {
		if err := store.AddUser(context.Background(), u, pw); err != nil {
			t.Fatal(err)
		}
	}
	var su smtpserver.Users = store
	if opt.NoCRAMSecret {
		su = noCRAM{store}
	}
	logs := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	// No missing-secret counts: the policy offers every configured
	// mechanism, as a server whose secrets drifted would.
	policy, err := auth.NewPolicy(cfg.Auth, nil, log)
	if err != nil {
		t.Fatal(err)
	}
	srv := smtpserver.New(smtpserver.Options{Config: cfg, TLS: tlsCfg, Spool: spool, Users: su,
		Policy: policy, Limiter: auth.NewLimiter(cfg.Auth, nil), Log: log})
	s := &Server{Config: cfg, Addr: map[string]string{}, Roots: roots, Spool: spool, logs: logs}
	var wg sync.WaitGroup
	for _, kind := range []string{smtpserver.ListenerSMTP, smtpserver.ListenerSubmission, smtpserver.ListenerSubmissions} {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		s.Addr[kind] = ln.Addr().String()
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := srv.Serve(ln, kind); err != nil && !errors.Is(err, net.ErrClosed) {
				t.Errorf("serve %s: %v", kind, err)
			}
		}()
	}
	t.Cleanup(func() {
		srv.Shutdown(context.Background())
		wg.Wait()
		spool.Close()
		store.Close()
		if t.Failed() {
			t.Logf("postgate log:\n%s", logs.String())
		}
	})
	return s
}
