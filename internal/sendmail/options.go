package sendmail

import (
	"errors"
	"fmt"
	"strings"
)

// Mode is what the command does.
type Mode int

// Modes, chosen with -b and -q (or by the program name).
const (
	ModeDeliver    Mode = iota // -bm (default): read a message and submit it
	ModeQueueList              // -bp, mailq: list the queue
	ModeSMTP                   // -bs: SMTP on standard input and output
	ModeVerify                 // -bv: verify recipients, send nothing
	ModeQueueRun               // -q, -qR domain: ask the server for a queue run
	ModeNewAliases             // -bi, newaliases
	ModeHelp                   // --help
)

// Options is a parsed sendmail command line.
type Options struct {
	Mode Mode
	// ExtractRecipients (-t): read recipients from To, Cc and Bcc (or the
	// Resent- forms), in addition to those on the command line.
	ExtractRecipients bool
	// IgnoreDots (-i, -oi): a line with a single "." does not end input.
	IgnoreDots bool
	// Sender (-f, -r) is the requested envelope sender; SenderSet tells
	// whether one was given ("" with SenderSet means the null sender <>).
	Sender    string
	SenderSet bool
	// FullName (-F) is the sender's full name for a generated From:.
	FullName string
	// Notify (-N): "NEVER" or some of "SUCCESS", "FAILURE", "DELAY"; nil
	// when not given (RFC 3461 NOTIFY=).
	Notify []string
	// Ret (-R): "FULL" or "HDRS" (RFC 3461 RET=), "" when not given.
	Ret string
	// EnvID (-V): the DSN envelope id (RFC 3461 ENVID=).
	EnvID string
	// Body (-B): "7BIT" or "8BITMIME"; "" lets the client decide from the
	// content.
	Body string
	// Verbose (-v): show the SMTP dialog on standard error.
	Verbose bool
	// QueueDomain (-qR domain): run only mail for this domain.
	QueueDomain string
	// ConfigFile (-C FILE, --config FILE): postgate's configuration.
	ConfigFile string
	// JSON (--json, with -bp / mailq): machine-readable output.
	JSON bool
	// Recipients from the command line, as given.
	Recipients []string
	// Warnings about options accepted but ignored, for standard error.
	Warnings []string
}

// UsageError is a command-line error (exit EX_USAGE).
type UsageError struct{ Msg string }

// Error returns the message for the user.
func (e *UsageError) Error() string { return e.Msg }

func usagef(format string, args ...any) error {
	return &UsageError{Msg: fmt.Sprintf(format, args...)}
}

// argLetters take a value: attached ("-fuser") or the next argument
// ("-f user").
const argLetters = "fFrNRVBCOohLXAbdpe"

// Parse parses sendmail's command line (without the program name).
// Options are single letters that may be grouped ("-ti"); a letter taking
// a value takes the rest of its group or the next argument. Parsing stops
// at "--" or the first recipient; an option after a recipient is an error
// (it would otherwise be taken as an address). The long options --help,
// --json and --config FILE are also accepted.
func Parse(args []string) (*Options, error) {
	o := &Options{Mode: ModeDeliver}
	i, dashdash := 0, false
	next := func(letter byte) (string, error) {
		if i+1 >= len(args) {
			return "", usagef("option -%c needs a value", letter)
		}
		i++
		return args[i], nil
	}
	for ; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			i, dashdash = i+1, true
			break
		}
		if len(a) < 2 || a[0] != '-' {
			break
		}
		if strings.HasPrefix(a, "--") {
			if err := o.long(a, next); err != nil {
				return nil, err
			}
			continue
		}
		for j := 1; j < len(a); j++ {
			c := a[j]
			if c == 'q' {
				if err := o.queue(a[j+1:], next); err != nil {
					return nil, err
				}
				break
			}
			if strings.IndexByte(argLetters, c) < 0 {
				if err := o.flag(c); err != nil {
					return nil, err
				}
				continue
			}
			val := a[j+1:]
			if val == "" {
				v, err := next(c)
				if err != nil {
					return nil, err
				}
				val = v
			}
			if err := o.value(c, val); err != nil {
				return nil, err
			}
			break
		}
	}
	for ; i < len(args); i++ {
		a := args[i]
		if !dashdash && strings.HasPrefix(a, "-") && len(a) > 1 {
			return nil, usagef("option %s after the recipients (use -- before an address that starts with -)", a)
		}
		if a == "" {
			return nil, usagef("empty recipient")
		}
		o.Recipients = append(o.Recipients, a)
	}
	return o, nil
}

// long handles --help, --json and --config.
func (o *Options) long(a string, next func(byte) (string, error)) error {
	name, val, hasVal := strings.Cut(a, "=")
	switch name {
	case "--help":
		o.Mode = ModeHelp
	case "--json":
		o.JSON = true
	case "--config":
		if !hasVal {
			v, err := next('C')
			if err != nil {
				return usagef("--config needs a file name")
			}
			val = v
		}
		o.ConfigFile = val
	default:
		return usagef("unknown option %s", name)
	}
	return nil
}

// flag handles a letter without a value.
func (o *Options) flag(c byte) error {
	switch c {
	case 't':
		o.ExtractRecipients = true
	case 'i':
		o.IgnoreDots = true
	case 'v':
		o.Verbose = true
	case 'U', 'm', 'n', 's':
		// -U initial submission (what this always is), -m "me too", -n no
		// aliasing (there are no aliases), -s save From lines: harmless.
	case 'G':
		o.warn("ignoring -%c", c)
	default:
		return usagef("unknown option -%c", c)
	}
	return nil
}

// value handles a letter with its value.
func (o *Options) value(c byte, v string) error {
	switch c {
	case 'f', 'r':
		o.Sender, o.SenderSet = strings.TrimSuffix(strings.TrimPrefix(v, "<"), ">"), true
	case 'F':
		o.FullName = v
	case 'N':
		n, err := parseNotify(v)
		if err != nil {
			return err
		}
		o.Notify = n
	case 'R':
		switch strings.ToUpper(v) {
		case "FULL", "HDRS":
			o.Ret = strings.ToUpper(v)
		default:
			return usagef("-R %s: must be full or hdrs", v)
		}
	case 'V':
		if err := checkEnvID(v); err != nil {
			return err
		}
		o.EnvID = v
	case 'B':
		switch strings.ToUpper(v) {
		case "7BIT", "8BITMIME":
			o.Body = strings.ToUpper(v)
		default:
			return usagef("-B %s: must be 7BIT or 8BITMIME", v)
		}
	case 'C':
		o.ConfigFile = v
	case 'o':
		if v == "i" {
			o.IgnoreDots = true
		} else {
			o.warn("ignoring -o%s", v)
		}
	case 'O':
		o.warn("ignoring -O %s", v)
	case 'b':
		return o.mode(v)
	case 'h', 'L', 'X', 'A', 'd', 'p', 'e':
		o.warn("ignoring -%c %s", c, v)
	}
	return nil
}

// mode handles -bX.
func (o *Options) mode(v string) error {
	switch v {
	case "m":
		o.Mode = ModeDeliver
	case "p":
		o.Mode = ModeQueueList
	case "s":
		o.Mode = ModeSMTP
	case "v":
		o.Mode = ModeVerify
	case "i":
		o.Mode = ModeNewAliases
	case "d", "D":
		return usagef("-b%s: run the server with 'postgate serve'", v)
	default:
		return usagef("-b%s is not supported (supported: -bm, -bp, -bs, -bv, -bi)", v)
	}
	return nil
}

// queue handles -q, -qINTERVAL, -qf, -qR domain, -qRdomain.
func (o *Options) queue(rest string, next func(byte) (string, error)) error {
	o.Mode = ModeQueueRun
	switch {
	case rest == "" || rest == "f":
	case rest[0] == 'R':
		d := rest[1:]
		if d == "" {
			v, err := next('q')
			if err != nil {
				return usagef("-qR needs a domain")
			}
			d = v
		}
		o.QueueDomain = strings.TrimPrefix(d, "@")
	case rest[0] >= '0' && rest[0] <= '9':
		o.warn("ignoring the interval in -q%s: asking for one queue run now (the server runs the queue by itself)", rest)
	default:
		return usagef("-q%s is not supported (supported: -q, -qR domain)", rest)
	}
	return nil
}

func (o *Options) warn(format string, args ...any) {
	o.Warnings = append(o.Warnings, fmt.Sprintf(format, args...))
}

// parseNotify parses -N: "never", or a comma-separated list of success,
// failure and delay.
func parseNotify(v string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	for _, p := range strings.Split(v, ",") {
		p = strings.ToUpper(strings.TrimSpace(p))
		switch p {
		case "NEVER", "SUCCESS", "FAILURE", "DELAY":
		default:
			return nil, usagef("-N %s: %q is not never, success, failure or delay", v, p)
		}
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	if seen["NEVER"] && len(out) > 1 {
		return nil, usagef("-N %s: never cannot be combined with other values", v)
	}
	return out, nil
}

// errEnvID is returned for an -V value RFC 3461 does not allow.
var errEnvID = errors.New("-V: the envelope id must be 1 to 100 printable ASCII characters")

// checkEnvID checks an ENVID: printable ASCII (it is xtext-encoded on the
// wire), at most 100 characters (RFC 3461 §4.4).
func checkEnvID(v string) error {
	if v == "" || len(v) > 100 {
		return &UsageError{Msg: errEnvID.Error()}
	}
	for i := 0; i < len(v); i++ {
		if v[i] < 0x20 || v[i] > 0x7e {
			return &UsageError{Msg: errEnvID.Error()}
		}
	}
	return nil
}
