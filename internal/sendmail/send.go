package sendmail

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"

	"postgate/internal/smtp"
)

// ReplyError is a negative reply to one command.
type ReplyError struct {
	Stage Stage
	Addr  string // the sender or recipient concerned, if any
	Reply smtp.Reply
}

// Error names the command, the address and the reply.
func (e *ReplyError) Error() string {
	what := [...]string{"greeting", "EHLO", "MAIL FROM", "RCPT TO", "DATA"}[e.Stage]
	if e.Addr != "" {
		what += " <" + e.Addr + ">"
	}
	r := e.Reply
	return fmt.Sprintf("%s: %d %s", what, r.Code, strings.TrimSpace(r.Enhanced+" "+strings.ReplaceAll(r.Text, "\n", " / ")))
}

// RecipientsError lists refused recipients. The whole submission was
// abandoned (RSET), so no recipient got the message.
type RecipientsError struct {
	Refused []*ReplyError
}

// Error lists the refused recipients, one per line.
func (e *RecipientsError) Error() string {
	var parts []string
	for _, r := range e.Refused {
		parts = append(parts, r.Error())
	}
	return strings.Join(parts, "\n")
}

// ExitCodeOf maps an error from this package to a sysexits code.
func ExitCodeOf(err error) int {
	var (
		ue *UsageError
		de *dataError
		pe *permError
		pr *protocolError
		re *ReplyError
		rs *RecipientsError
	)
	switch {
	case err == nil:
		return ExOK
	case errors.As(err, &ue):
		return ExUsage
	case errors.As(err, &de), errors.Is(err, ErrTooBig):
		return ExDataErr
	case errors.As(err, &pe):
		return ExNoPerm
	case errors.As(err, &pr):
		return ExProtocol
	case errors.As(err, &re):
		return ExitCode(re.Stage, re.Reply)
	case errors.As(err, &rs):
		code := ExOK
		for _, r := range rs.Refused {
			code = worse(code, ExitCode(StageRcpt, r.Reply))
		}
		return code
	}
	// Not running, connection lost, timeouts: nothing was queued and a
	// later try may work.
	return ExTempFail
}

// Send submits sub over the socket at path: EHLO, MAIL, every RCPT, DATA.
// If any recipient is refused, the transaction is reset and nothing is
// sent (RecipientsError). It returns the server's final reply text (which
// names the queue id). warn receives notes about options the server does
// not support; trace, if not nil, receives the dialog.
func Send(ctx context.Context, path string, o *Options, sub *Submission, warn func(string), trace io.Writer) (string, error) {
	c, err := dial(ctx, path, trace)
	if err != nil {
		return "", err
	}
	defer c.quit()
	if r, stage, err := c.hello(); err != nil {
		return "", err
	} else if r.Code != 250 {
		return "", &ReplyError{Stage: stage, Reply: r}
	}

	params, err := mailParams(c, o, sub, warn)
	if err != nil {
		return "", err
	}
	r, err := c.cmd("MAIL FROM:<%s>%s", sub.Sender, params)
	if err != nil {
		return "", err
	}
	if r.Code != 250 {
		return "", &ReplyError{Stage: StageMail, Addr: sub.Sender, Reply: r}
	}

	rcptParams := ""
	if len(o.Notify) > 0 {
		if c.has("DSN") {
			rcptParams = " NOTIFY=" + strings.Join(o.Notify, ",")
		} else {
			warn("the server does not offer DSN: -N ignored")
		}
	}
	var refused RecipientsError
	for _, rcpt := range sub.Recipients {
		r, err := c.cmd("RCPT TO:<%s>%s", rcpt, rcptParams)
		if err != nil {
			return "", err
		}
		if r.Code != 250 && r.Code != 251 {
			refused.Refused = append(refused.Refused, &ReplyError{Stage: StageRcpt, Addr: rcpt, Reply: r})
		}
	}
	if len(refused.Refused) > 0 {
		c.cmd("RSET")
		return "", &refused
	}

	r, err = c.data(sub.Data)
	if err != nil {
		return "", err
	}
	if r.Code != 250 {
		return "", &ReplyError{Stage: StageData, Reply: r}
	}
	return r.Text, nil
}

// mailParams builds the MAIL FROM parameters the server supports.
func mailParams(c *client, o *Options, sub *Submission, warn func(string)) (string, error) {
	var p []string
	if c.has("SIZE") {
		p = append(p, fmt.Sprintf("SIZE=%d", len(sub.Data)))
	}
	body := o.Body
	if body == "" && sub.EightBit {
		body = "8BITMIME"
	}
	if body != "" && c.has("8BITMIME") {
		p = append(p, "BODY="+body)
	}
	if sub.UTF8 {
		if !c.has("SMTPUTF8") {
			return "", &dataError{"an address is not ASCII and the server does not offer SMTPUTF8"}
		}
		p = append(p, "SMTPUTF8")
	}
	if o.Ret != "" || o.EnvID != "" {
		if c.has("DSN") {
			if o.Ret != "" {
				p = append(p, "RET="+o.Ret)
			}
			if o.EnvID != "" {
				p = append(p, "ENVID="+smtp.EncodeXtext(o.EnvID))
			}
		} else {
			warn("the server does not offer DSN: -R and -V ignored")
		}
	}
	if len(p) == 0 {
		return "", nil
	}
	return " " + strings.Join(p, " "), nil
}

// Verify checks each recipient with MAIL FROM and RCPT TO, then RSET
// (-bv), and writes one line per address to out. It returns the worst
// exit code.
func Verify(ctx context.Context, path, sender string, rcpts []string, out io.Writer, trace io.Writer) (int, error) {
	c, err := dial(ctx, path, trace)
	if err != nil {
		return ExitCodeOf(err), err
	}
	defer c.quit()
	if r, stage, err := c.hello(); err != nil {
		return ExitCodeOf(err), err
	} else if r.Code != 250 {
		e := &ReplyError{Stage: stage, Reply: r}
		return ExitCodeOf(e), e
	}
	code := ExOK
	for _, rcpt := range rcpts {
		r, err := c.cmd("MAIL FROM:<%s>", sender)
		if err != nil {
			return ExitCodeOf(err), err
		}
		if r.Code != 250 {
			e := &ReplyError{Stage: StageMail, Addr: sender, Reply: r}
			return ExitCodeOf(e), e
		}
		r, err = c.cmd("RCPT TO:<%s>", rcpt)
		if err != nil {
			return ExitCodeOf(err), err
		}
		text := strings.ReplaceAll(r.Text, "\n", " / ")
		if r.Code == 250 || r.Code == 251 {
			fmt.Fprintf(out, "%s... deliverable: %s\n", rcpt, text)
		} else {
			fmt.Fprintf(out, "%s... %d %s %s\n", rcpt, r.Code, r.Enhanced, text)
			code = worse(code, ExitCode(StageRcpt, r))
		}
		if r, err := c.cmd("RSET"); err != nil || r.Code != 250 {
			return ExTempFail, fmt.Errorf("RSET failed: %v %d %s", err, r.Code, r.Text)
		}
	}
	return code, nil
}

// Relay connects standard input and output to the submission socket
// (-bs): the caller speaks SMTP to the server directly. Lines from in
// ending in a bare LF are sent with CRLF. It returns when the server
// closes the connection.
func Relay(ctx context.Context, path string, in io.Reader, out io.Writer) error {
	var d net.Dialer
	c, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		return dialError(path, err)
	}
	defer c.Close()
	go func() {
		io.Copy(c, &crlfReader{r: in})
		if uc, ok := c.(*net.UnixConn); ok {
			uc.CloseWrite()
		}
	}()
	_, err = io.Copy(out, c)
	return err
}

// crlfReader turns bare LF into CRLF.
type crlfReader struct {
	r      io.Reader
	lastCR bool
	buf    []byte
	pend   []byte
}

// Read implements io.Reader.
func (c *crlfReader) Read(p []byte) (int, error) {
	for len(c.pend) == 0 {
		if cap(c.buf) == 0 {
			c.buf = make([]byte, 16<<10)
		}
		n, err := c.r.Read(c.buf)
		out := make([]byte, 0, n+n/16)
		for _, b := range c.buf[:n] {
			if b == '\n' && !c.lastCR {
				out = append(out, '\r')
			}
			out = append(out, b)
			c.lastCR = b == '\r'
		}
		c.pend = out
		if err != nil && len(c.pend) == 0 {
			return 0, err
		}
		if err != nil {
			break
		}
	}
	n := copy(p, c.pend)
	c.pend = c.pend[n:]
	return n, nil
}
