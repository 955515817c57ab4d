package smtpclient

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"postgate/internal/smtp"
)

// Options configure a Client. The zero value is an SMTP client without TLS
// and with default timeouts.
type Options struct {
	// ImplicitTLS starts TLS before the greeting (RFC 8314, port 465).
	ImplicitTLS bool
	// TLSConfig is used for implicit TLS; StartTLS takes its own.
	TLSConfig *tls.Config
	// LMTP makes Ehlo send LHLO and Data return one reply per accepted
	// recipient (RFC 2033).
	LMTP bool
	// CommandTimeout bounds each command and its reply; 0 means 5 minutes
	// (RFC 5321 §4.5.3.2 asks for at least that for most commands).
	CommandTimeout time.Duration
	// DataTimeout bounds sending the message and reading the final reply
	// after DATA or BDAT; 0 means 10 minutes.
	DataTimeout time.Duration
	// Trace, when set, receives each protocol line without CRLF: dir is
	// "C" for what the client sent and "S" for what the server said. AUTH
	// lines are redacted (see Auth); message content is not traced.
	Trace func(dir, line string)
}

// Client is one SMTP or LMTP session. Its methods are not safe for
// concurrent use, except Close.
type Client struct {
	opt      Options
	conn     net.Conn
	r        *bufio.Reader
	w        *bufio.Writer
	tls      *tls.ConnectionState
	greeting smtp.Reply
	ext      *Extensions
	rcpts    int    // recipients accepted in the current transaction (LMTP)
	authMech string // mechanism of the AUTH exchange in progress, for the trace
	stop     func() bool
	ctx      context.Context

	mu        sync.Mutex // guards conn deadlines against cancellation, and closed
	cancelled bool
	closed    bool
}

// Dial connects to addr ("host:port"), completes implicit TLS when asked
// and reads the greeting. ctx bounds the dial and the greeting and, for
// the Client's whole life, cancelling it aborts any blocked I/O. A greeting
// other than 220 is returned as an *smtp.Error and the connection closed.
func Dial(ctx context.Context, addr string, opts Options) (*Client, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	c, err := newClient(ctx, conn, opts)
	if err != nil {
		conn.Close()
		return nil, err
	}
	return c, nil
}

// NewClient runs a session on an established connection: implicit TLS if
// asked, then the greeting. On error the caller still owns conn.
func NewClient(ctx context.Context, conn net.Conn, opts Options) (*Client, error) {
	return newClient(ctx, conn, opts)
}

func newClient(ctx context.Context, conn net.Conn, opts Options) (*Client, error) {
	if opts.CommandTimeout <= 0 {
		opts.CommandTimeout = 5 * time.Minute
	}
	if opts.DataTimeout <= 0 {
		opts.DataTimeout = 10 * time.Minute
	}
	c := &Client{opt: opts, ctx: ctx, conn: conn}
	c.stop = context.AfterFunc(ctx, func() {
		// Unblock whatever is in progress; arm refuses later I/O.
		c.mu.Lock()
		defer c.mu.Unlock()
		c.cancelled = true
		c.conn.SetDeadline(time.Unix(1, 0))
	})
	if opts.ImplicitTLS {
		cfg := opts.TLSConfig
		if cfg == nil {
			cfg = &tls.Config{}
		}
		tc := tls.Client(conn, cfg)
		if err := c.arm(opts.CommandTimeout); err != nil {
			c.stop()
			return nil, err
		}
		if err := tc.HandshakeContext(ctx); err != nil {
			c.stop()
			return nil, fmt.Errorf("TLS handshake: %w", err)
		}
		st := tc.ConnectionState()
		c.tls = &st
		conn = tc
	}
	c.setConn(conn)
	if err := c.arm(opts.CommandTimeout); err != nil {
		c.stop()
		return nil, err
	}
	r, err := c.readReply()
	if err != nil {
		c.stop()
		return nil, fmt.Errorf("reading greeting: %w", err)
	}
	c.greeting = r
	if r.Code != 220 {
		c.stop()
		return nil, &smtp.Error{Reply: r}
	}
	return c, nil
}

// arm sets the I/O deadline for the next step to d from now, or the
// context's deadline when earlier; it fails once the context is done.
func (c *Client) arm(d time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cancelled {
		return c.ctx.Err()
	}
	t := time.Now().Add(d)
	if dl, ok := c.ctx.Deadline(); ok && dl.Before(t) {
		t = dl
	}
	return c.conn.SetDeadline(t)
}

func (c *Client) setConn(conn net.Conn) {
	c.mu.Lock()
	c.conn = conn
	c.mu.Unlock()
	c.r = bufio.NewReader(conn)
	c.w = bufio.NewWriter(conn)
}

// Greeting returns the server's 220 greeting.
func (c *Client) Greeting() smtp.Reply { return c.greeting }

// Conn returns the underlying connection (a *tls.Conn once TLS is on).
func (c *Client) Conn() net.Conn { return c.conn }

// Close closes the connection without QUIT. It is safe to call more than once.
func (c *Client) Close() error {
	c.stop()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil
	}
	c.closed = true
	return c.conn.Close()
}

// Quit sends QUIT, reads the reply and closes the connection. The
// connection is closed even when the server does not answer 221.
func (c *Client) Quit() error {
	_, err := c.Cmd(221, "QUIT")
	cerr := c.Close()
	if err != nil {
		return err
	}
	return cerr
}

// Noop sends NOOP.
func (c *Client) Noop() error {
	_, err := c.Cmd(250, "NOOP")
	return err
}

// Reset sends RSET, abandoning the current transaction.
func (c *Client) Reset() error {
	_, err := c.Cmd(250, "RSET")
	c.rcpts = 0
	return err
}

// Cmd sends one command line and reads its reply. When want is not 0 and
// the reply code differs, the reply is returned as an *smtp.Error.
func (c *Client) Cmd(want int, format string, args ...any) (smtp.Reply, error) {
	line := format
	if len(args) > 0 {
		line = fmt.Sprintf(format, args...)
	}
	return c.cmdTraced(want, line, line)
}

// cmdTraced sends line but traces shown instead (for redaction).
func (c *Client) cmdTraced(want int, line, shown string) (smtp.Reply, error) {
	if strings.ContainsAny(line, "\r\n") {
		return smtp.Reply{}, errors.New("smtpclient: command contains CR or LF")
	}
	if err := c.arm(c.opt.CommandTimeout); err != nil {
		return smtp.Reply{}, err
	}
	if err := c.writeLine(line, shown); err != nil {
		return smtp.Reply{}, err
	}
	if err := c.w.Flush(); err != nil {
		return smtp.Reply{}, err
	}
	r, err := c.readReply()
	if err != nil {
		return r, err
	}
	if want != 0 && r.Code != want {
		return r, &smtp.Error{Reply: r}
	}
	return r, nil
}

func (c *Client) writeLine(line, shown string) error {
	c.trace("C", shown)
	if _, err := c.w.WriteString(line); err != nil {
		return err
	}
	_, err := c.w.WriteString("\r\n")
	return err
}

func (c *Client) trace(dir, line string) {
	if c.opt.Trace != nil {
		c.opt.Trace(dir, line)
	}
}
