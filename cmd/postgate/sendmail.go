package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"postgate/internal/config"
	"postgate/internal/sendmail"
	"postgate/internal/status"
)

// defaultConfigFile is read by sendmail, mailq and newaliases when neither
// -C/--config nor $POSTGATE_CONFIG names a file: cron and PHP call
// /usr/sbin/sendmail without any postgate option.
const defaultConfigFile = "/etc/postgate.toml"

// Socket file names in the data directory.
const (
	submitSocketName = "submit.sock"
	adminSocketName  = "admin.sock"
)

const sendmailUsage = `NAME
  sendmail - submit mail to postgate, the sendmail way

SYNOPSIS
  postgate sendmail [options] [--] [recipient ...]
  sendmail [options] [--] [recipient ...]     (through a link, see install-links)
  mailq [--json]                              (same as sendmail -bp)
  newaliases                                  (same as sendmail -bi)

DESCRIPTION
  Reads a message from standard input and hands it to the running postgate
  server over its local socket (DATA_DIR/submit.sock). The command exits 0
  only after the server has committed the message to its spool; on any
  other outcome the message was NOT queued and the exit code says why.
  No password is needed: the server knows your uid. Unless you are root,
  the server's user or listed in sendmail.trusted_users, the envelope
  sender is your own login@domain whatever -f says (docs/sendmail.md).

  Input ends at end of file, or at a line with a single "." unless -i is
  given. LF line endings become CRLF. Date, From and Message-ID are added
  when missing; Bcc lines are removed. If any recipient is refused the
  message goes to nobody, so running the command again cannot duplicate it.

OPTIONS
  -t              also send to the To, Cc and Bcc addresses of the message
                  (the Resent- ones if present); Bcc is removed
  -i, -oi         a line with a single "." is data, not the end of input
  -f ADDR, -r ADDR
                  envelope sender (bounces go there); "<>" for none
  -F NAME         full name for a generated From: line
  -N DSN          delivery status notifications: never, or a list of
                  success, failure, delay (RFC 3461 NOTIFY)
  -R RET          full or hdrs: what a bounce returns (RFC 3461 RET)
  -V ENVID        envelope id quoted in notifications (RFC 3461 ENVID)
  -B TYPE         7BIT or 8BITMIME (default: 8BITMIME if the text has 8-bit octets)
  -v              show the SMTP dialog on standard error
  -bm             deliver a message (the default)
  -bp             list the queue (same as mailq); with --json for scripts
  -bs             speak SMTP on standard input and output
  -bv             verify recipients (MAIL, RCPT, RSET); nothing is sent
  -bi             rebuild aliases (postgate has none yet: does nothing, exits 0)
  -q              ask the server to run the queue now
  -qR DOMAIN      ... only for recipients in DOMAIN
  -C FILE, --config FILE
                  postgate configuration (default: $POSTGATE_CONFIG, else
                  /etc/postgate.toml if it exists, else built-in defaults)
  -oX, -O OPT, -h N, -L TAG, -X FILE, -d X
                  accepted for compatibility and ignored with a warning
                  (-oi is the exception: same as -i)
  -U, -m, -n      accepted and ignored silently
  --json          JSON output for -bp / mailq
  --help          this text

EXIT STATUS (sysexits.h)
  0   accepted: the message is in the spool
  64  usage error (bad option, no recipients)
  65  bad address or header, or the message was refused (size, content)
  67  a recipient is unknown (the message went to nobody)
  68  a recipient's domain does not exist
  69  refused permanently for another reason; -q refused
  70  internal error
  71  cannot tell who you are (no passwd entry)
  74  cannot read standard input
  75  temporary failure, or the server is not running: NOT queued, try again
  76  the server answered something unintelligible
  77  permission denied (relay or sender not allowed, admin socket)
  78  bad configuration file

EXAMPLES
  echo "Subject: test" | sendmail -i you@example.org
  sendmail -t -i < message.eml
  printf 'To: root\nSubject: backup\n\ndone\n' | sendmail -t
  sendmail -f noreply@example.org -F "Backup job" ops@example.org < report.txt
  sendmail -bv alice@example.org
  mailq --json
  postgate sendmail -C /etc/postgate.toml -bs
`

const installLinksUsage = `NAME
  postgate install-links - make postgate answer as sendmail, mailq, newaliases

SYNOPSIS
  postgate install-links [--force] DIR

DESCRIPTION
  Creates DIR/sendmail, DIR/mailq and DIR/newaliases as symbolic links to
  this postgate binary. Invoked through them, postgate behaves as the
  sendmail command (see 'postgate sendmail --help'). Links that already
  point here are left alone. An existing file of another name or target
  (another MTA's sendmail) stops the command before anything changes,
  unless --force is given, in which case it is replaced.

  Programs look for /usr/sbin/sendmail (cron, PHP, logwatch) and some for
  /usr/lib/sendmail; mailq and newaliases usually live in /usr/bin.

EXAMPLES
  sudo postgate install-links /usr/sbin
  sudo postgate install-links --force /usr/lib
`

// runSendmail runs the sendmail command: `postgate sendmail ARGS`, or the
// binary invoked as sendmail, mailq or newaliases (prog names which).
func runSendmail(prog string, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	o, err := sendmail.ParseFor(prog, args)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\nRun '%s --help' for the options.\n", prog, err, prog)
		return sendmail.ExUsage
	}
	env := sendmail.Env{Prog: prog, Usage: sendmailUsage, Stdin: stdin, Stdout: stdout, Stderr: stderr,
		Color: status.UseColor(stdout)}
	if o.Mode != sendmail.ModeHelp && o.Mode != sendmail.ModeNewAliases {
		cfg, err := localConfig(o.ConfigFile)
		if err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", prog, err)
			return sendmail.ExConfig
		}
		env.SubmitSocket = cfg.Path(submitSocketName)
		env.AdminSocket = cfg.Path(adminSocketName)
		env.Domain = cfg.UserDefaultDomain()
		env.Hostname = cfg.Hostname
		env.MaxSize = cfg.Limits.MaxMessageSize
	}
	return sendmail.Run(context.Background(), env, o)
}

// localConfig loads the configuration for sendmail, mailq and status:
// the named file, else $POSTGATE_CONFIG, else /etc/postgate.toml if it
// exists, else the defaults.
func localConfig(file string) (*config.Config, error) {
	if file == "" {
		file = os.Getenv("POSTGATE_CONFIG")
	}
	if file == "" {
		if _, err := os.Stat(defaultConfigFile); err == nil {
			file = defaultConfigFile
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
	}
	return config.Load(file)
}

// runInstallLinks is `postgate install-links [--force] DIR`.
func runInstallLinks(args []string, stdout, stderr io.Writer) int {
	fset := flag.NewFlagSet("install-links", flag.ContinueOnError)
	fset.SetOutput(stderr)
	fset.Usage = func() {}
	force := fset.Bool("force", false, "")
	pos, err := parseInterspersed(fset, args)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stdout, installLinksUsage)
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "\n%s", installLinksUsage)
		return exitUsage
	}
	if len(pos) != 1 {
		fmt.Fprintf(stderr, "postgate install-links: name one directory\n\n%s", installLinksUsage)
		return exitUsage
	}
	self, err := os.Executable()
	if err == nil {
		self, err = filepath.EvalSymlinks(self)
	}
	if err != nil {
		fmt.Fprintf(stderr, "postgate install-links: cannot find this program's path: %v\n", err)
		return exitOSErr
	}
	res, err := sendmail.InstallLinks(pos[0], self, *force)
	if err != nil {
		fmt.Fprintf(stderr, "postgate install-links: %v\n", err)
		if errors.Is(err, fs.ErrPermission) {
			return sendmail.ExNoPerm
		}
		return sendmail.ExCantCreat
	}
	for _, r := range res {
		fmt.Fprintf(stdout, "%-9s %s -> %s\n", r.Action, r.Path, self)
	}
	return exitOK
}
