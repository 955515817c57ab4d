package sendmail

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"strconv"
	"strings"
	"syscall"
	"time"

	"postgate/internal/smtp"
)

// Timeouts of the client dialog (RFC 5321 §4.5.3.2 suggests minutes; the
// server is local, so these only guard against a hung server).
const (
	commandTimeout = 5 * time.Minute
	dataTimeout    = 10 * time.Minute
	quitTimeout    = 10 * time.Second
)

// maxReplyLines bounds a multi-line reply.
const maxReplyLines = 100

// ErrNotRunning means nothing answers on the submission socket.
var ErrNotRunning = errors.New("the postgate server is not running")

// client is a minimal SMTP client for the local submission socket.
type client struct {
	conn   net.Conn
	r      *bufio.Reader
	w      *bufio.Writer
	trace  io.Writer // -v: the dialog, or nil
	ext    map[string]string
	closed bool
}

// dial connects to the submission socket.
func dial(ctx context.Context, path string, trace io.Writer) (*client, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		return nil, dialError(path, err)
	}
	return &client{conn: c, r: bufio.NewReaderSize(c, 4096), w: bufio.NewWriterSize(c, 64<<10), trace: trace}, nil
}

// dialError explains a failed connection.
func dialError(path string, err error) error {
	switch {
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, syscall.ENOENT), errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Errorf("%w (nothing answers on %s)", ErrNotRunning, path)
	case errors.Is(err, fs.ErrPermission), errors.Is(err, syscall.EACCES):
		return &permError{fmt.Sprintf("cannot reach %s: permission denied (the data directory must be searchable by local users: mode 0711)", path)}
	}
	return fmt.Errorf("connecting to %s: %w", path, err)
}

// permError is a permission problem (EX_NOPERM).
type permError struct{ msg string }

// Error returns the explanation.
func (e *permError) Error() string { return e.msg }

// protocolError is a reply the client cannot parse (EX_PROTOCOL).
type protocolError struct{ msg string }

// Error returns the explanation.
func (e *protocolError) Error() string { return e.msg }

func (c *client) close() {
	c.closed = true
	c.conn.Close()
}

// readReply reads one possibly multi-line reply (RFC 5321 §4.2.1) and
// splits off the enhanced status code (RFC 2034) of each line.
func (c *client) readReply(timeout time.Duration) (smtp.Reply, error) {
	c.conn.SetReadDeadline(time.Now().Add(timeout))
	var r smtp.Reply
	var lines []string
	for n := 0; ; n++ {
		if n == maxReplyLines {
			return r, &protocolError{"reply has too many lines"}
		}
		line, err := c.r.ReadString('\n')
		if err != nil {
			if errors.Is(err, io.EOF) {
				return r, fmt.Errorf("the server closed the connection: %w", io.ErrUnexpectedEOF)
			}
			return r, err
		}
		line = strings.TrimRight(line, "\r\n")
		if c.trace != nil {
			fmt.Fprintf(c.trace, "<<< %s\n", line)
		}
		if len(line) < 3 || (len(line) > 3 && line[3] != ' ' && line[3] != '-') {
			return r, &protocolError{fmt.Sprintf("malformed reply %q", line)}
		}
		code, err := strconv.Atoi(line[:3])
		if err != nil || code < 200 || code > 599 {
			return r, &protocolError{fmt.Sprintf("malformed reply %q", line)}
		}
		if n > 0 && code != r.Code {
			return r, &protocolError{fmt.Sprintf("reply code changed within a reply: %q", line)}
		}
		r.Code = code
		text := ""
		if len(line) > 4 {
			text = line[4:]
		}
		if enh, rest, ok := splitEnhanced(text, code); ok {
			if r.Enhanced == "" {
				r.Enhanced = enh
			}
			text = rest
		}
		lines = append(lines, text)
		if len(line) == 3 || line[3] == ' ' {
			break
		}
	}
	r.Text = strings.Join(lines, "\n")
	return r, nil
}

// splitEnhanced takes an enhanced status code "c.s.d " off the front of
// text when its class matches the reply's first digit.
func splitEnhanced(text string, code int) (enh, rest string, ok bool) {
	f, rest, _ := strings.Cut(text, " ")
	parts := strings.Split(f, ".")
	if len(parts) != 3 || parts[0] != strconv.Itoa(code/100) {
		return "", text, false
	}
	for _, p := range parts {
		if p == "" || len(p) > 3 {
			return "", text, false
		}
		if _, err := strconv.Atoi(p); err != nil {
			return "", text, false
		}
	}
	return f, rest, true
}

// cmd sends one command line and reads the reply.
func (c *client) cmd(format string, args ...any) (smtp.Reply, error) {
	return c.cmdTimeout(commandTimeout, fmt.Sprintf(format, args...))
}

// cmdTimeout sends line and waits at most timeout for the reply.
func (c *client) cmdTimeout(timeout time.Duration, line string) (smtp.Reply, error) {
	if strings.ContainsAny(line, "\r\n") {
		return smtp.Reply{}, fmt.Errorf("refusing to send a command containing a line break")
	}
	if c.trace != nil {
		fmt.Fprintf(c.trace, ">>> %s\n", line)
	}
	c.conn.SetWriteDeadline(time.Now().Add(timeout))
	c.w.WriteString(line + "\r\n")
	if err := c.w.Flush(); err != nil {
		return smtp.Reply{}, err
	}
	return c.readReply(timeout)
}

// hello reads the greeting and sends EHLO (HELO if EHLO is refused),
// recording the extensions the server offers.
func (c *client) hello() (smtp.Reply, Stage, error) {
	r, err := c.readReply(commandTimeout)
	if err != nil || r.Code != 220 {
		return r, StageGreeting, err
	}
	r, err = c.cmd("EHLO localhost")
	if err != nil {
		return r, StageHelo, err
	}
	if r.Code != 250 {
		if r, err = c.cmd("HELO localhost"); err != nil || r.Code != 250 {
			return r, StageHelo, err
		}
	}
	c.ext = map[string]string{}
	lines := strings.Split(r.Text, "\n")
	for _, l := range lines[1:] {
		k, v, _ := strings.Cut(l, " ")
		c.ext[strings.ToUpper(k)] = v
	}
	return r, StageHelo, nil
}

// has reports whether the server offered an extension.
func (c *client) has(ext string) bool {
	_, ok := c.ext[ext]
	return ok
}

// data sends DATA, the dot-stuffed message, and reads the final reply.
func (c *client) data(msg []byte) (smtp.Reply, error) {
	r, err := c.cmd("DATA")
	if err != nil || r.Code != 354 {
		return r, err
	}
	if c.trace != nil {
		fmt.Fprintf(c.trace, ">>> (%d octets of message)\n>>> .\n", len(msg))
	}
	c.conn.SetWriteDeadline(time.Now().Add(dataTimeout))
	c.w.Write(dotStuff(msg))
	if err := c.w.Flush(); err != nil {
		return smtp.Reply{}, err
	}
	return c.readReply(dataTimeout)
}

// quit ends the session politely and closes the connection; errors do
// not matter any more, so it waits only briefly. Calling it twice is
// harmless.
func (c *client) quit() {
	if c.closed {
		return
	}
	c.cmdTimeout(quitTimeout, "QUIT")
	c.close()
}
