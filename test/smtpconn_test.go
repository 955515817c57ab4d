package test

import (
	"bufio"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"
)

// rawTimeout bounds every read on a raw connection, so a server that
// does not answer fails the test instead of hanging it.
const rawTimeout = 30 * time.Second

// rawConn is a hand-driven SMTP connection, for what no real client will
// send (smuggling attempts, forbidden AUTH before TLS, relay attempts).
type rawConn struct {
	t *testing.T
	c net.Conn
	r *bufio.Reader
}

// reply is one SMTP reply; Text joins the lines' texts with "\n".
type reply struct {
	Code int
	Text string
}

func (r reply) String() string { return strconv.Itoa(r.Code) + " " + r.Text }

// dialRaw connects (with implicit TLS when implicitTLS) and reads the 220
// greeting.
func dialRaw(t *testing.T, addr string, implicitTLS bool) *rawConn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, rawTimeout)
	if err != nil {
		t.Fatal(err)
	}
	if implicitTLS {
		tc := tls.Client(c, &tls.Config{InsecureSkipVerify: true})
		tc.SetDeadline(time.Now().Add(rawTimeout))
		if err := tc.Handshake(); err != nil {
			t.Fatalf("TLS handshake with %s: %v", addr, err)
		}
		c = tc
	}
	rc := &rawConn{t: t, c: c, r: bufio.NewReader(c)}
	t.Cleanup(func() { c.Close() })
	if r := rc.read(); r.Code != 220 {
		t.Fatalf("greeting %v, want 220", r)
	}
	return rc
}

// send writes raw bytes without waiting for a reply.
func (c *rawConn) send(s string) {
	c.t.Helper()
	c.c.SetWriteDeadline(time.Now().Add(rawTimeout))
	if _, err := io.WriteString(c.c, s); err != nil {
		c.t.Fatalf("writing %q: %v", s, err)
	}
}

// cmd sends one command line and returns the reply.
func (c *rawConn) cmd(line string) reply {
	c.t.Helper()
	c.send(line + "\r\n")
	return c.read()
}

// expect sends a command and fails the test unless the reply has the code
// and its text starts with enhanced (which may be empty).
func (c *rawConn) expect(line string, code int, enhanced string) reply {
	c.t.Helper()
	r := c.cmd(line)
	if r.Code != code || !strings.HasPrefix(r.Text, enhanced) {
		c.t.Fatalf("%q: got %v, want %d %s", redactAuth(line), r, code, enhanced)
	}
	return r
}

// read reads one (possibly multi-line) reply.
func (c *rawConn) read() reply {
	c.t.Helper()
	r, err := c.tryRead()
	if err != nil {
		c.t.Fatalf("reading reply: %v", err)
	}
	return r
}

// tryRead reads one reply; io.EOF means the server closed the connection.
func (c *rawConn) tryRead() (reply, error) {
	var r reply
	var texts []string
	c.c.SetReadDeadline(time.Now().Add(rawTimeout))
	for {
		line, err := c.r.ReadString('\n')
		if err != nil {
			if errors.Is(err, io.EOF) && line == "" && len(texts) == 0 {
				return r, io.EOF
			}
			return r, err
		}
		line = strings.TrimRight(line, "\r\n")
		if len(line) < 3 {
			return r, errors.New("short reply line " + strconv.Quote(line))
		}
		code, err := strconv.Atoi(line[:3])
		if err != nil {
			return r, errors.New("bad reply line " + strconv.Quote(line))
		}
		r.Code = code
		texts = append(texts, strings.TrimSpace(line[min(4, len(line)):]))
		if len(line) == 3 || line[3] == ' ' {
			r.Text = strings.Join(texts, "\n")
			return r, nil
		}
	}
}

// readAll reads replies until the server closes the connection.
func (c *rawConn) readAll() []reply {
	c.t.Helper()
	var rs []reply
	for {
		r, err := c.tryRead()
		if errors.Is(err, io.EOF) {
			return rs
		}
		if err != nil {
			c.t.Fatalf("reading replies after %v: %v", rs, err)
		}
		rs = append(rs, r)
	}
}

// startTLS runs STARTTLS and the handshake; EHLO must follow.
func (c *rawConn) startTLS() {
	c.t.Helper()
	c.expect("STARTTLS", 220, "2.0.0")
	tc := tls.Client(c.c, &tls.Config{InsecureSkipVerify: true})
	tc.SetDeadline(time.Now().Add(rawTimeout))
	if err := tc.Handshake(); err != nil {
		c.t.Fatalf("TLS handshake after STARTTLS: %v", err)
	}
	c.c, c.r = tc, bufio.NewReader(tc)
}

// redactAuth keeps credentials out of failure messages.
func redactAuth(line string) string {
	if f := strings.Fields(line); len(f) > 2 && strings.EqualFold(f[0], "AUTH") {
		return f[0] + " " + f[1] + " <credentials>"
	}
	return line
}
