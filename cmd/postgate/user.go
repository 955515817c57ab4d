package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"golang.org/x/term"

	"postgate/internal/config"
	"postgate/internal/sasl"
	"postgate/internal/userstore"
)

// Further sysexits.h codes used by `postgate user`.
const (
	exitNoInput   = 66 // no password on standard input
	exitCantCreat = 73 // the data directory or user database cannot be created or opened
)

const userUsage = `Usage:
  postgate user add ADDRESS [--password-stdin]      create a user
  postgate user passwd ADDRESS [--password-stdin]   set a new password
  postgate user del ADDRESS                         delete a user
  postgate user list [--json]                       list users
  postgate user senders ADDRESS                     list the addresses ADDRESS may send from
  postgate user senders ADDRESS add SENDER          let ADDRESS send as SENDER
  postgate user senders ADDRESS del SENDER          take that right away

ADDRESS is local@domain. A name without @domain gets "@" and the default
domain appended (auth.default_domain, else the first of local_domains), the
same rule SMTP AUTH applies to user names. The local part is case-sensitive;
the domain is not.

The password is asked for twice without echo when standard input is a
terminal; otherwise (or with --password-stdin) one line is read from
standard input and only its line ending is removed.

SENDER is an address, or @domain for every address in that domain. A user
may always send as its own address. A user may also act as (SASL authorize
as) each SENDER that is a full address, but not as @domain entries.

Users live in DATA_DIR/users.db (SQLite); no password is stored, only
derived secrets (docs/userstore.md).

Examples:
  postgate user add alice@example.org
  echo "$PASSWORD" | postgate user add alice@example.org --password-stdin
  postgate user passwd alice
  postgate user senders alice@example.org add sales@example.org
  postgate user senders alice@example.org add @lists.example.org
  postgate user list --json
  postgate user del alice@example.org --config /etc/postgate.toml

Exit status: 0 done, 64 usage error, 65 bad data (unknown user, user exists,
invalid address or password, passwords differ), 66 no password given,
73 cannot create or open the user database, 75 temporary failure.
`

// runUser implements `postgate user ...` and returns the exit code.
func runUser(cfg *config.Config, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, userUsage)
		return exitUsage
	}
	sub, rest := args[0], args[1:]
	switch sub {
	case "-h", "--help", "-help", "help":
		fmt.Fprint(stdout, userUsage)
		return exitOK
	case "add", "passwd", "del", "list", "senders":
	default:
		fmt.Fprintf(stderr, "postgate user: unknown subcommand %q\n\n%s", sub, userUsage)
		return exitUsage
	}

	fs := flag.NewFlagSet("postgate user "+sub, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	passwordStdin, asJSON := new(bool), new(bool)
	switch sub {
	case "add", "passwd":
		fs.BoolVar(passwordStdin, "password-stdin", false, "read the password as one line from standard input")
	case "list":
		fs.BoolVar(asJSON, "json", false, "print JSON")
	}
	pos, err := parseInterspersed(fs, rest)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stdout, userUsage)
		return exitOK
	}
	if err == nil {
		err = checkArity(sub, pos)
	}
	if err != nil {
		fmt.Fprintf(stderr, "postgate user %s: %v\n\n%s", sub, err, userUsage)
		return exitUsage
	}

	// Read the password before opening the store so a prompt is not
	// held up by, or holding, the database.
	var password string
	if sub == "add" || sub == "passwd" {
		var code int
		password, code, err = readNewPassword(stdin, stderr, *passwordStdin)
		if err != nil {
			fmt.Fprintf(stderr, "postgate user %s: %v\n", sub, err)
			return code
		}
	}

	store, err := openUserStore(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "postgate user %s: %v\n", sub, err)
		return exitCantCreat
	}
	defer store.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	switch sub {
	case "add":
		err = userAdd(ctx, cfg, store, pos[0], password, stdout, stderr)
	case "passwd":
		err = store.SetPassword(ctx, pos[0], password)
		if err == nil {
			fmt.Fprintf(stdout, "password changed for %s\n", mustCanonical(store, pos[0]))
		}
	case "del":
		err = store.DeleteUser(ctx, pos[0])
		if err == nil {
			fmt.Fprintf(stdout, "deleted %s\n", mustCanonical(store, pos[0]))
		}
	case "list":
		err = userList(ctx, store, *asJSON, stdout)
	case "senders":
		err = userSenders(ctx, store, pos, stdout)
	}
	if err != nil {
		fmt.Fprintf(stderr, "postgate user %s: %v\n", sub, err)
		return userExitCode(err)
	}
	return exitOK
}

// openUserStore opens DATA_DIR/users.db, creating the data directory if
// needed, with the configuration's default domain, DIGEST-MD5 realms and
// SCRAM iteration count.
func openUserStore(cfg *config.Config) (*userstore.SQLite, error) {
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("creating data directory: %w", err)
	}
	return userstore.OpenSQLite(cfg.Path("users.db"), userstore.Options{
		DefaultDomain:   cfg.UserDefaultDomain(),
		DigestRealms:    cfg.DigestRealms(),
		SCRAMIterations: cfg.Auth.SCRAMIterations,
	})
}

// parseInterspersed parses flags that may stand before, between or after
// the positional arguments ("add ADDRESS --password-stdin"); everything
// after "--" is positional.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if consumed := args[:len(args)-len(rest)]; len(consumed) > 0 && consumed[len(consumed)-1] == "--" {
			return append(pos, rest...), nil
		}
		pos, args = append(pos, rest[0]), rest[1:]
	}
}

// checkArity checks the number of positional arguments of sub.
func checkArity(sub string, pos []string) error {
	switch sub {
	case "add", "passwd", "del":
		if len(pos) != 1 {
			return fmt.Errorf("want exactly one ADDRESS, got %d arguments", len(pos))
		}
	case "list":
		if len(pos) != 0 {
			return fmt.Errorf("takes no arguments")
		}
	case "senders":
		switch {
		case len(pos) == 1:
		case len(pos) == 3 && (pos[1] == "add" || pos[1] == "del"):
		default:
			return fmt.Errorf("want ADDRESS, or ADDRESS add|del SENDER")
		}
	}
	return nil
}

// readNewPassword reads the new password: from a terminal, twice and
// without echo; otherwise one line of stdin with its line ending removed.
// The error never contains the password.
func readNewPassword(stdin io.Reader, prompt io.Writer, fromStdin bool) (string, int, error) {
	if f, ok := stdin.(*os.File); ok && !fromStdin && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(prompt, "New password: ")
		p1, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(prompt)
		if err != nil {
			return "", exitNoInput, fmt.Errorf("reading password: %w", err)
		}
		fmt.Fprint(prompt, "Repeat password: ")
		p2, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(prompt)
		if err != nil {
			return "", exitNoInput, fmt.Errorf("reading password: %w", err)
		}
		if string(p1) != string(p2) {
			return "", exitDataErr, errors.New("the passwords differ")
		}
		return string(p1), exitOK, nil
	}
	line, err := passwordLine(stdin)
	if err != nil {
		return "", exitNoInput, err
	}
	return line, exitOK, nil
}

// passwordLine reads one password line from standard input: everything up
// to the line end, which is removed (LF or CRLF), and nothing else. An
// empty line gives "" (the caller judges it); no input at all is an error.
func passwordLine(stdin io.Reader) (string, error) {
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("reading password from standard input: %w", err)
	}
	if line == "" {
		return "", errors.New("no password on standard input")
	}
	return strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r"), nil
}

func userAdd(ctx context.Context, cfg *config.Config, store userstore.Store, address, password string, stdout, stderr io.Writer) error {
	if err := store.AddUser(ctx, address, password); err != nil {
		return err
	}
	addr := mustCanonical(store, address)
	fmt.Fprintf(stdout, "added %s\n", addr)
	if _, domain, _ := strings.Cut(addr, "@"); !cfg.IsLocalDomain(domain) {
		fmt.Fprintf(stderr, "postgate user add: warning: %s is not in local_domains; mail to %s will not be delivered here\n", domain, addr)
	}
	return nil
}

func userList(ctx context.Context, store userstore.Store, asJSON bool, stdout io.Writer) error {
	users, err := store.ListUsers(ctx)
	if err != nil {
		return err
	}
	if asJSON {
		if users == nil {
			users = []userstore.User{}
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(users)
	}
	tw := tabwriter.NewWriter(stdout, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "ADDRESS\tCREATED\tSENDERS\tSECRETS")
	for _, u := range users {
		senders := strings.Join(u.Senders, ",")
		if senders == "" {
			senders = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", u.Address, u.Created.Format(time.DateOnly), senders, strings.Join(u.Mechanisms, ","))
	}
	return tw.Flush()
}

func userSenders(ctx context.Context, store userstore.Store, pos []string, stdout io.Writer) error {
	user := pos[0]
	if len(pos) == 3 {
		var err error
		if pos[1] == "add" {
			err = store.AddSender(ctx, user, pos[2])
		} else {
			err = store.RemoveSender(ctx, user, pos[2])
		}
		if err != nil {
			return err
		}
	}
	senders, err := store.Senders(ctx, user)
	if err != nil {
		return err
	}
	for _, s := range senders {
		fmt.Fprintln(stdout, s)
	}
	return nil
}

// mustCanonical returns the stored form of a name already accepted by the store.
func mustCanonical(store userstore.Store, name string) string {
	c, err := store.Canonical(name)
	if err != nil {
		return name
	}
	return c
}

// userExitCode maps a store error to an exit code: the caller's data is at
// fault (65) or something failed that may work later (75).
func userExitCode(err error) int {
	for _, e := range []error{userstore.ErrUserExists, userstore.ErrInvalidAddress,
		userstore.ErrInvalidPassword, userstore.ErrNoSuchSender, sasl.ErrUnknownUser} {
		if errors.Is(err, e) {
			return exitDataErr
		}
	}
	return exitTempFail
}
