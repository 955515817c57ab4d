package main

import (
	"context"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/term"

	"postgate/internal/config"
	"postgate/internal/probe"
	"postgate/internal/status"
)

// Exit codes of postgate probe besides exitOK and exitUsage.
const (
	// exitProbeFailed: no mechanism worked with the credentials, or
	// without credentials a bogus login was accepted.
	exitProbeFailed = 1
	// exitProbeUnavailable: the server could not be reached or the first
	// connection failed (EX_UNAVAILABLE).
	exitProbeUnavailable = 69
)

const probeUsage = `NAME
    postgate probe - test a mail server's SMTP AUTH as a client would

SYNOPSIS
    postgate probe [OPTIONS] HOST[:PORT]
    postgate probe [OPTIONS] [--config FILE]   # this server's own listener

DESCRIPTION
    Without HOST it probes this postgate's own submission listener (or
    its smtp listener when submission is off), from --config FILE or the
    embedded defaults.

    Connects to HOST, shows the greeting, the EHLO extensions before and
    after TLS, the TLS version, cipher and certificate (subject, names,
    expiry, and whether it verifies for HOST: it is probed either way),
    then tries every advertised SASL mechanism, and every one named with
    --mechs, each in a connection of its own. It prints a table
    (mechanism, offered before TLS, offered after TLS, result, round
    trips, time, reason), for each failure the decoded exchange with all
    secrets redacted and a hint, and a recommendation: the most secure
    mechanism that worked and the advertised ones a client would pick and
    fail on.

    Without --user it logs in with a random user and password and checks
    that every mechanism refuses it.

    Port and TLS: without a port, 587 with STARTTLS. Port 465 means
    implicit TLS, 587 STARTTLS (required), any other port (25...) STARTTLS
    when the server offers it. --starttls, --tls and --plain override.

OPTIONS
    --user USER         the user name to authenticate as
    --password-stdin    read the password as one line from standard input;
                        without it the password is asked for on a terminal
    --starttls          require STARTTLS
    --tls               implicit TLS from the start (RFC 8314)
    --plain             no TLS at all (PLAIN and LOGIN are then usually refused)
    --mechs LIST        also try these mechanisms (comma or space separated),
                        advertised or not
    --helo NAME         the name sent in EHLO (default: this host's name)
    --cafile FILE       trust these CA certificates (PEM) when verifying,
                        instead of the system's
    --timeout DURATION  limit for each connection (default 30s)
    --json              print the report as JSON
    --trace             print the SMTP dialogue on standard error, secrets
                        redacted
    -h, --help          this text

EXIT STATUS
    0   with --user: at least one mechanism authenticated;
        without: every mechanism refused the bogus login
    1   no mechanism authenticated, or a bogus login was accepted
    64  usage error
    69  the server could not be reached, or TLS or EHLO failed

ENVIRONMENT
    NO_COLOR    when set, no colours even on a terminal

EXAMPLES
    Check what a submission server offers and that it refuses strangers:
        postgate probe mail.example.org

    Test a user's password with every mechanism:
        printf '%s\n' "$PASSWORD" | postgate probe --user alice@example.org \
            --password-stdin mail.example.org:587

    Port 25 without TLS, also trying PLAIN:
        postgate probe --plain --mechs PLAIN mx.example.org:25

    For scripts:
        postgate probe --json --user bob --password-stdin 127.0.0.1:2465 < pw.txt

SEE ALSO
    docs/probe.md
`

// ownListener is the address "postgate probe" checks without a HOST: the
// configured submission listener, else the smtp one.
func ownListener(configFile string) (string, error) {
	cfg, err := config.Load(configFile)
	if err != nil {
		return "", err
	}
	for _, addr := range []string{cfg.Listen.Submission, cfg.Listen.SMTP} {
		if addr != "" {
			return addr, nil
		}
	}
	return "", fmt.Errorf("no HOST given and no submission or smtp listener configured")
}

// runProbe implements "postgate probe".
func runProbe(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("postgate probe", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	user := fs.String("user", "", "")
	pwStdin := fs.Bool("password-stdin", false, "")
	startTLS := fs.Bool("starttls", false, "")
	implicitTLS := fs.Bool("tls", false, "")
	plain := fs.Bool("plain", false, "")
	mechs := fs.String("mechs", "", "")
	helo := fs.String("helo", "", "")
	cafile := fs.String("cafile", "", "")
	timeout := fs.Duration("timeout", 30*time.Second, "")
	asJSON := fs.Bool("json", false, "")
	trace := fs.Bool("trace", false, "")
	configFile := fs.String("config", "", "")
	help := fs.Bool("help", false, "")
	fs.BoolVar(help, "h", false, "")
	usageErr := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "postgate probe: "+format+"\n\nRun 'postgate probe --help' for the options.\n", a...)
		return exitUsage
	}
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return usageErr("%v", err)
	}
	if *help {
		io.WriteString(stdout, probeUsage)
		return exitOK
	}
	if len(pos) == 0 {
		target, err := ownListener(*configFile)
		if err != nil {
			return usageErr("%v", err)
		}
		pos = []string{target}
	}
	if len(pos) != 1 {
		return usageErr("want one HOST[:PORT], got %d arguments", len(pos))
	}
	opt := probe.Options{Target: pos[0], User: *user, Helo: *helo, Timeout: *timeout}
	n := 0
	for _, m := range []struct {
		set  bool
		mode probe.Mode
	}{{*startTLS, probe.ModeStartTLS}, {*implicitTLS, probe.ModeTLS}, {*plain, probe.ModePlain}} {
		if m.set {
			opt.Mode = m.mode
			n++
		}
	}
	if n > 1 {
		return usageErr("--starttls, --tls and --plain exclude each other")
	}
	opt.Mechs = strings.FieldsFunc(*mechs, func(r rune) bool { return r == ',' || r == ' ' })
	if _, _, _, err := probe.ResolveTarget(opt.Target, opt.Mode); err != nil {
		return usageErr("%v", err)
	}
	if *pwStdin && *user == "" {
		return usageErr("--password-stdin needs --user")
	}
	if opt.Helo == "" {
		opt.Helo = "localhost"
		if h, err := os.Hostname(); err == nil && h != "" {
			opt.Helo = h
		}
	}
	if *cafile != "" {
		pemBytes, err := os.ReadFile(*cafile)
		if err != nil {
			return usageErr("--cafile: %v", err)
		}
		opt.RootCAs = x509.NewCertPool()
		if !opt.RootCAs.AppendCertsFromPEM(pemBytes) {
			return usageErr("--cafile: no certificates in %s", *cafile)
		}
	}
	if *user != "" {
		pw, err := readProbePassword(stdin, stderr, *pwStdin)
		if err != nil {
			fmt.Fprintf(stderr, "postgate probe: %v\n", err)
			return exitUsage
		}
		opt.Password = pw
	}
	if *trace {
		var mu sync.Mutex
		opt.Trace = func(label, dir, line string) {
			mu.Lock()
			defer mu.Unlock()
			fmt.Fprintf(stderr, "[%s] %s: %s\n", label, dir, line)
		}
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	rep, err := probe.Run(ctx, opt)
	if err != nil {
		return usageErr("%v", err)
	}
	if *asJSON {
		err = rep.WriteJSON(stdout)
	} else {
		err = rep.WriteText(stdout, status.UseColor(stdout))
	}
	if err != nil {
		fmt.Fprintf(stderr, "postgate probe: %v\n", err)
	}
	switch {
	case rep.Error != "":
		return exitProbeUnavailable
	case rep.Succeeded():
		return exitOK
	}
	return exitProbeFailed
}

// readProbePassword reads the password from a terminal without echo, or
// one line of stdin with --password-stdin. The error never contains it.
func readProbePassword(stdin io.Reader, prompt io.Writer, fromStdin bool) (string, error) {
	if !fromStdin {
		f, ok := stdin.(*os.File)
		if !ok || !term.IsTerminal(int(f.Fd())) {
			return "", errors.New("--user needs --password-stdin when standard input is not a terminal")
		}
		fmt.Fprint(prompt, "Password: ")
		pw, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(prompt)
		if err != nil {
			return "", fmt.Errorf("reading password: %w", err)
		}
		return string(pw), nil
	}
	pw, err := passwordLine(stdin)
	if err == nil && pw == "" {
		err = errors.New("no password on standard input")
	}
	return pw, err
}
