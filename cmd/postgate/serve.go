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

	"postgate/internal/auth"
	"postgate/internal/config"
	"postgate/internal/delivery"
	"postgate/internal/queue"
	"postgate/internal/smtpserver"
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
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return err
	}
	tlsCfg, generated, err := tlsconf.Server(cfg)
	if err != nil {
		return err
	}
	if generated {
		log.Info("generated a self-signed certificate", "file", cfg.Path("tls", "cert.pem"))
	}
	spool, err := queue.Open(cfg.Path("queue"), queue.Options{})
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
	srv := smtpserver.New(smtpserver.Options{
		Config: cfg, TLS: tlsCfg, Spool: spool, Users: users, Policy: policy,
		Limiter: auth.NewLimiter(cfg.Auth, nil), Log: log,
	})

	listeners := []struct{ name, addr string }{
		{smtpserver.ListenerSMTP, cfg.Listen.SMTP},
		{smtpserver.ListenerSubmission, cfg.Listen.Submission},
		{smtpserver.ListenerSubmissions, cfg.Listen.Submissions},
	}
	var bound []net.Listener
	var names []string
	for _, l := range listeners {
		if l.addr == "" {
			continue
		}
		ln, err := net.Listen("tcp", l.addr)
		if err != nil {
			for _, b := range bound {
				b.Close()
			}
			return fmt.Errorf("listen %s %s: %w", l.name, l.addr, err)
		}
		bound, names = append(bound, ln), append(names, l.name)
	}
	if len(bound) == 0 {
		return errors.New("no listener configured")
	}

	runCtx, cancelRun := context.WithCancel(context.Background())
	runner := delivery.NewRunner(spool, &delivery.Maildir{Root: cfg.Path("mail"), Hostname: cfg.Hostname},
		cfg.IsLocalDomain, log, 4)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); runner.Run(runCtx) }()

	errc := make(chan error, len(bound))
	for i, ln := range bound {
		log.Info("listening", "listener", names[i], "addr", ln.Addr().String())
		fmt.Fprintf(stdout, "postgate: listening %s %s\n", names[i], ln.Addr())
		go func(ln net.Listener, name string) { errc <- srv.Serve(ln, name) }(ln, names[i])
	}
	smtpAddr := cfg.Listen.SMTP
	for i, n := range names {
		if n == smtpserver.ListenerSMTP {
			smtpAddr = bound[i].Addr().String()
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
	log.Info("stopped")
	return err
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
