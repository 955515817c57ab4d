package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"postgate/internal/auth"
	"postgate/internal/config"
	"postgate/internal/delivery"
	"postgate/internal/metrics"
	"postgate/internal/queue"
	"postgate/internal/sendmail"
	"postgate/internal/smtpserver"
	"postgate/internal/status"
	"postgate/internal/tlsconf"
	"postgate/internal/userstore"
)

const serveUsage = `Usage:
  postgate serve [--config FILE]

Runs the mail server. Without --config it uses the embedded defaults:
smtp on 127.0.0.1:2525, submission on 127.0.0.1:2587, submissions on
127.0.0.1:2465, data in ./postgate-data, local domain "localhost", and a
self-signed certificate generated on first start.

When every listener is bound it prints one line per listener,
"postgate: listening <name> <address>", then "postgate: ready".
SIGTERM or SIGINT stop it: no new connections, sessions in DATA may finish
(limits.shutdown_grace), and every message already answered 250 stays in
the spool and is delivered at the next start.

Examples:
  go run ./cmd/postgate serve
  postgate serve --config /etc/postgate.toml
`

func runServe(args []string, stdout, stderr io.Writer) int {
	for _, a := range args {
		if a == "-h" || a == "--help" {
			fmt.Fprint(stdout, serveUsage)
			return exitOK
		}
	}
	cfg, rest, code := loadConfigArg(args, stderr)
	if cfg == nil {
		return code
	}
	if len(rest) > 0 {
		fmt.Fprintf(stderr, "postgate serve: unexpected argument %q\n\n%s", rest[0], serveUsage)
		return exitUsage
	}
	log := newLogger(cfg, stderr)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := serve(ctx, cfg, log, stdout); err != nil {
		log.Error("fatal", "err", err)
		fmt.Fprintf(stderr, "postgate: %v\n", err)
		return exitOSErr
	}
	return exitOK
}

// newLogger returns the structured logger the configuration asks for.
func newLogger(cfg *config.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	level.UnmarshalText([]byte(cfg.Log.Level))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.Log.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// serve runs the server until ctx is cancelled.
func serve(ctx context.Context, cfg *config.Config, log *slog.Logger, stdout io.Writer) error {
	// 0711: local users may reach submit.sock by name, nothing else.
	if err := os.MkdirAll(cfg.DataDir, 0o711); err != nil {
		return err
	}
	if err := os.Chmod(cfg.DataDir, 0o711); err != nil {
		return err
	}
	tlsCfg, generated, err := tlsconf.Server(cfg)
	if err != nil {
		return err
	}
	if generated {
		log.Info("generated a self-signed certificate", "file", cfg.Path("tls", "cert.pem"))
	}
	spool, err := queue.Open(cfg.Path("queue"), queue.Options{OnSync: metrics.FsyncSeconds})
	if err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	defer spool.Close()
	users, err := openUserStore(cfg)
	if err != nil {
		return fmt.Errorf("user store: %w", err)
	}
	defer users.Close()
	cov, err := users.Coverage(ctx)
	if err != nil {
		return fmt.Errorf("user store: %w", err)
	}
	policy, err := auth.NewPolicy(cfg.Auth, missingSecrets(cov), log)
	if err != nil {
		return fmt.Errorf("auth: %w", err)
	}
	failures := status.NewAuthFailures(0)
	trust := &sendmail.Trust{TrustedUsers: cfg.Sendmail.TrustedUsers, Domain: cfg.UserDefaultDomain()}
	srv := smtpserver.New(smtpserver.Options{
		Config: cfg, TLS: tlsCfg, Spool: spool, Users: users, Policy: policy,
		Limiter: auth.NewLimiter(cfg.Auth, nil), Log: log,
		LocalSender: trust.AllowedSender, AuthFailures: failures,
	})

	lns, err := bindListeners(cfg)
	if err != nil {
		return err
	}
	var metricsEP *metrics.Endpoint
	if cfg.Metrics.Listen != "" {
		if metricsEP, err = metrics.Serve(cfg.Metrics.Listen, cfg.Metrics.AllowNonLoopback); err != nil {
			closeAll(lns)
			return fmt.Errorf("metrics: %w", err)
		}
		lns = append(lns, boundListener{name: "metrics", addr: metricsEP.Addr()})
	}
	metrics.RegisterQueue(status.QueueGauge(spool, nil))
	adminLn, err := status.ListenSocket(cfg.Path("admin.sock"), 0o600)
	if err != nil {
		closeAll(lns)
		return fmt.Errorf("admin socket: %w", err)
	}
	runner := delivery.NewRunner(spool, &delivery.Maildir{Root: cfg.Path("mail"), Hostname: cfg.Hostname},
		cfg.IsLocalDomain, log, 4)
	admin := &status.Server{Hostname: cfg.Hostname, Started: time.Now(), Spool: spool, AuthFailures: failures,
		RunQueue: func(context.Context, string) (string, error) {
			ids, err := spool.List()
			if err != nil {
				return "", err
			}
			runner.RetryNow()
			return fmt.Sprintf("retrying deferred local deliveries now (%d messages queued); remote delivery is not implemented yet, so mail for other domains stays queued", len(ids)), nil
		}}
	for _, l := range lns {
		admin.Listeners = append(admin.Listeners, status.Listener{Name: l.name, Address: l.addr})
	}
	admin.Listeners = append(admin.Listeners, status.Listener{Name: "admin", Address: cfg.Path("admin.sock")})
	go admin.Serve(adminLn)

	runCtx, cancelRun := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); runner.Run(runCtx) }()

	errc := make(chan error, len(lns))
	smtpAddr := cfg.Listen.SMTP
	for _, l := range lns {
		log.Info("listening", "listener", l.name, "addr", l.addr)
		fmt.Fprintf(stdout, "postgate: listening %s %s\n", l.name, l.addr)
		if l.name == smtpserver.ListenerSMTP {
			smtpAddr = l.addr
		}
		if l.ln != nil {
			go func(l boundListener) { errc <- srv.Serve(l.ln, l.name) }(l)
		}
	}
	fmt.Fprintf(stdout, "postgate: ready\n%s", quickstart(cfg, smtpAddr))

	select {
	case <-ctx.Done():
		log.Info("shutting down")
	case err = <-errc:
		log.Error("listener failed", "err", err)
	}
	srv.Shutdown(context.Background())
	cancelRun()
	wg.Wait()
	admin.Close(context.Background())
	if metricsEP != nil {
		metricsEP.Close(context.Background())
	}
	log.Info("stopped")
	return err
}

// boundListener is a listening socket and the name it is reported under.
type boundListener struct {
	name, addr string
	ln         net.Listener // nil for listeners served elsewhere (metrics)
}

// bindListeners binds the SMTP listeners and the local submission socket.
func bindListeners(cfg *config.Config) ([]boundListener, error) {
	var out []boundListener
	for _, l := range []struct{ name, addr string }{
		{smtpserver.ListenerSMTP, cfg.Listen.SMTP},
		{smtpserver.ListenerSubmission, cfg.Listen.Submission},
		{smtpserver.ListenerSubmissions, cfg.Listen.Submissions},
	} {
		if l.addr == "" {
			continue
		}
		ln, err := net.Listen("tcp", l.addr)
		if err != nil {
			closeAll(out)
			return nil, fmt.Errorf("listen %s %s: %w", l.name, l.addr, err)
		}
		out = append(out, boundListener{name: l.name, addr: ln.Addr().String(), ln: ln})
	}
	if len(out) == 0 {
		return nil, errors.New("no listener configured")
	}
	sock := cfg.Path(submitSocketName)
	ln, err := status.ListenSocket(sock, 0o666)
	if err != nil {
		closeAll(out)
		return nil, fmt.Errorf("local submission socket: %w", err)
	}
	return append(out, boundListener{name: smtpserver.ListenerLocal, addr: sock, ln: ln}), nil
}

func closeAll(lns []boundListener) {
	for _, l := range lns {
		if l.ln != nil {
			l.ln.Close()
		}
	}
}

// missingSecrets turns the store's coverage into the policy's input.
func missingSecrets(c userstore.Coverage) map[string]int {
	m := map[string]int{}
	for k, v := range c.Missing {
		m[k] = v
	}
	for _, v := range c.DigestMissing {
		if v > m[userstore.KindDigestMD5] {
			m[userstore.KindDigestMD5] = v
		}
	}
	return m
}

// quickstart is printed at start: how to add a user and send a message.
func quickstart(cfg *config.Config, smtpAddr string) string {
	domain := cfg.UserDefaultDomain()
	return fmt.Sprintf(`
Add a user (in another terminal):
  echo 'secret' | go run ./cmd/postgate user add you@%[1]s --password-stdin
Send a test message to it:
  swaks --server %[2]s --to you@%[1]s
Mail is delivered into %[3]s/%[1]s/you/new/
`, domain, smtpAddr, cfg.Path("mail"))
}
