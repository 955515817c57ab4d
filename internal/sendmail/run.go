package sendmail

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"postgate/internal/status"
)

// Program names the binary answers to when invoked through a link.
const (
	ProgSendmail   = "sendmail"
	ProgMailq      = "mailq"
	ProgNewaliases = "newaliases"
)

// ProgramName returns the sendmail-family name argv0 stands for
// ("sendmail", "mailq", "newaliases"), or "" when it is none of them
// (the binary was run as postgate).
func ProgramName(argv0 string) string {
	switch b := filepath.Base(argv0); b {
	case ProgSendmail, ProgMailq, ProgNewaliases:
		return b
	}
	return ""
}

// ParseFor parses args for the given program: "mailq" lists the queue
// (as -bp), "newaliases" is -bi, anything else is sendmail.
func ParseFor(prog string, args []string) (*Options, error) {
	o, err := Parse(args)
	if err != nil {
		return nil, err
	}
	if o.Mode == ModeHelp {
		return o, nil
	}
	switch prog {
	case ProgMailq:
		o.Mode = ModeQueueList
	case ProgNewaliases:
		o.Mode = ModeNewAliases
	}
	return o, nil
}

// Env is what Run needs from its surroundings.
type Env struct {
	Prog           string // name used in messages: "sendmail", "mailq", ...
	Usage          string // printed for --help
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	SubmitSocket   string // the server's local submission socket
	AdminSocket    string // the server's admin socket
	Domain         string // qualifies bare user names
	Hostname       string // right-hand side of generated Message-IDs
	MaxSize        int64  // largest message read from standard input; 0 = no limit
	Color          bool   // colour in mailq output
	// Identity returns the user running the command; nil uses
	// CurrentIdentity.
	Identity func() (Identity, error)
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

// Run carries out the parsed command and returns the exit code.
func Run(ctx context.Context, env Env, o *Options) int {
	for _, w := range o.Warnings {
		env.errorf("warning: %s", w)
	}
	switch o.Mode {
	case ModeHelp:
		fmt.Fprint(env.Stdout, env.Usage)
		return ExOK
	case ModeNewAliases:
		env.errorf("postgate has no alias database yet; nothing to rebuild")
		return ExOK
	case ModeQueueList:
		return env.queueList(ctx, o)
	case ModeQueueRun:
		return env.queueRun(ctx, o)
	case ModeSMTP:
		return env.relay(ctx)
	case ModeVerify:
		return env.verify(ctx, o)
	}
	return env.deliver(ctx, o)
}

func (env Env) errorf(format string, args ...any) {
	fmt.Fprintf(env.Stderr, env.Prog+": "+format+"\n", args...)
}

func (env Env) identity() (Identity, error) {
	if env.Identity != nil {
		return env.Identity()
	}
	return CurrentIdentity()
}

func (env Env) now() time.Time {
	if env.Now != nil {
		return env.Now()
	}
	return time.Now()
}

// deliver is -bm: read, prepare, submit.
func (env Env) deliver(ctx context.Context, o *Options) int {
	id, err := env.identity()
	if err != nil {
		env.errorf("cannot tell who you are: %v", err)
		return ExOSErr
	}
	// Check the command line before reading a possibly long input.
	if len(o.Recipients) == 0 && !o.ExtractRecipients {
		env.errorf("no recipients given (name them as arguments, or use -t to read them from the header)")
		return ExUsage
	}
	raw, err := ReadMessage(env.Stdin, o.IgnoreDots, env.MaxSize)
	if err != nil {
		env.errorf("reading the message: %v; message NOT sent", err)
		if errors.Is(err, ErrTooBig) {
			return ExDataErr
		}
		return ExIOErr
	}
	sub, err := Prepare(o, raw, id, env.Domain, env.Hostname, env.now())
	if err != nil {
		env.errorf("%v; message NOT sent", err)
		return ExitCodeOf(err)
	}
	var trace io.Writer
	if o.Verbose {
		trace = env.Stderr
	}
	reply, err := Send(ctx, env.SubmitSocket, o, sub, func(w string) { env.errorf("warning: %s", w) }, trace)
	if err != nil {
		env.reportSendError(err)
		return ExitCodeOf(err)
	}
	if o.Verbose {
		env.errorf("sent: %s", reply)
	}
	return ExOK
}

// reportSendError explains a failed submission; every path says that the
// message was not queued, because it was not.
func (env Env) reportSendError(err error) {
	var rs *RecipientsError
	switch {
	case errors.Is(err, ErrNotRunning):
		env.errorf("%v; the message was NOT queued (start it with 'postgate serve')", err)
	case errors.As(err, &rs):
		for _, r := range rs.Refused {
			env.errorf("%v", r)
		}
		env.errorf("%d of the recipients refused; the message was NOT sent to anyone", len(rs.Refused))
	default:
		env.errorf("%v; the message was NOT queued", err)
	}
}

// verify is -bv.
func (env Env) verify(ctx context.Context, o *Options) int {
	id, err := env.identity()
	if err != nil {
		env.errorf("cannot tell who you are: %v", err)
		return ExOSErr
	}
	if len(o.Recipients) == 0 {
		env.errorf("-bv: name the addresses to verify")
		return ExUsage
	}
	var rcpts []string
	for _, r := range o.Recipients {
		list, err := ParseAddressList(r)
		if err != nil {
			env.errorf("%q: %v", r, err)
			return ExDataErr
		}
		for _, a := range list {
			q := Qualify(a, env.Domain)
			if _, err := checkMailbox(q); err != nil {
				env.errorf("%v", err)
				return ExDataErr
			}
			rcpts = append(rcpts, q)
		}
	}
	sender := Qualify(id.Login, env.Domain)
	if o.SenderSet {
		sender = Qualify(o.Sender, env.Domain)
	}
	var trace io.Writer
	if o.Verbose {
		trace = env.Stderr
	}
	code, err := Verify(ctx, env.SubmitSocket, sender, rcpts, env.Stdout, trace)
	if err != nil {
		env.errorf("%v", err)
	}
	return code
}

// relay is -bs.
func (env Env) relay(ctx context.Context) int {
	err := Relay(ctx, env.SubmitSocket, env.Stdin, env.Stdout)
	if errors.Is(err, ErrNotRunning) {
		// The caller speaks SMTP: give it a reply it understands.
		fmt.Fprint(env.Stdout, "421 4.3.0 postgate is not running; try again later\r\n")
		env.errorf("%v", err)
		return ExTempFail
	}
	if err != nil {
		env.errorf("%v", err)
		return ExitCodeOf(err)
	}
	return ExOK
}

// adminError reports a failure to reach the admin socket.
func (env Env) adminError(err error) int {
	switch {
	case errors.Is(err, status.ErrPermission):
		env.errorf("%v", err)
		return ExNoPerm
	case errors.Is(err, status.ErrNotRunning):
		env.errorf("%v", err)
		return ExTempFail
	}
	env.errorf("%v", err)
	return ExUnavailable
}

// queueList is -bp and mailq.
func (env Env) queueList(ctx context.Context, o *Options) int {
	entries, err := status.NewClient(env.AdminSocket).Queue(ctx)
	if err != nil {
		return env.adminError(err)
	}
	if o.JSON {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		if entries == nil {
			entries = []status.QueueEntry{}
		}
		enc.Encode(map[string]any{"messages": entries})
		return ExOK
	}
	RenderQueue(env.Stdout, entries, env.Color)
	return ExOK
}

// queueRun is -q and -qR.
func (env Env) queueRun(ctx context.Context, o *Options) int {
	res, err := status.NewClient(env.AdminSocket).RunQueue(ctx, o.QueueDomain)
	if err != nil {
		return env.adminError(err)
	}
	msg := strings.TrimSpace(res.Message)
	if !res.OK {
		env.errorf("queue run refused: %s", msg)
		return ExUnavailable
	}
	fmt.Fprintf(env.Stdout, "%s\n", msg)
	return ExOK
}
