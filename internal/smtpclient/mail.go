package smtpclient

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"postgate/internal/smtp"
)

// Mail sends MAIL FROM:<from> with ESMTP parameters such as "SIZE=1234"
// or "BODY=8BITMIME" (the caller checks that they were announced).
func (c *Client) Mail(from string, params ...string) error {
	c.rcpts = 0
	_, err := c.Cmd(250, "%s", pathCommand("MAIL FROM:", from, params))
	return err
}

// Rcpt sends RCPT TO:<to> with ESMTP parameters (e.g. "NOTIFY=NEVER").
func (c *Client) Rcpt(to string, params ...string) error {
	_, err := c.Cmd(250, "%s", pathCommand("RCPT TO:", to, params))
	if err == nil {
		c.rcpts++
	}
	return err
}

func pathCommand(verb, addr string, params []string) string {
	s := verb + "<" + addr + ">"
	for _, p := range params {
		s += " " + p
	}
	return s
}

// Data sends DATA and the message from r, which may use LF or CRLF line
// endings; lines are dot-stuffed (RFC 5321 §4.5.2) and a missing final
// line ending is added. It returns the server's final reply; a refusal
// is an *smtp.Error. In LMTP mode use DataLMTP.
func (c *Client) Data(r io.Reader) (smtp.Reply, error) {
	if c.opt.LMTP {
		return smtp.Reply{}, errors.New("smtpclient: use DataLMTP in LMTP mode")
	}
	if err := c.sendData(r); err != nil {
		return smtp.Reply{}, err
	}
	reply, err := c.readReply()
	c.rcpts = 0
	if err != nil {
		return reply, err
	}
	if reply.Code != 250 {
		return reply, &smtp.Error{Reply: reply}
	}
	return reply, nil
}

// DataLMTP sends the message as Data does and reads one reply for each
// recipient accepted since MAIL (RFC 2033 §4.2), in RCPT order. A
// recipient's refusal is in its reply, not in err; err reports a refusal
// of DATA itself or a transport failure.
func (c *Client) DataLMTP(r io.Reader) ([]smtp.Reply, error) {
	if !c.opt.LMTP {
		return nil, errors.New("smtpclient: DataLMTP needs LMTP mode")
	}
	if err := c.sendData(r); err != nil {
		return nil, err
	}
	n := c.rcpts
	c.rcpts = 0
	replies := make([]smtp.Reply, 0, n)
	for range n {
		reply, err := c.readReply()
		if err != nil {
			return replies, err
		}
		replies = append(replies, reply)
	}
	return replies, nil
}

// sendData sends DATA, waits for 354 and writes the dot-stuffed message
// and the final ".".
func (c *Client) sendData(r io.Reader) error {
	if _, err := c.Cmd(354, "DATA"); err != nil {
		return err
	}
	if err := c.arm(c.opt.DataTimeout); err != nil {
		return err
	}
	dw := &dotWriter{w: c.w, bol: true}
	if _, err := io.Copy(dw, r); err != nil {
		return fmt.Errorf("sending message: %w", err)
	}
	if err := dw.close(); err != nil {
		return err
	}
	c.trace("C", ".")
	return c.w.Flush()
}

// Bdat sends one BDAT chunk (RFC 3030); last adds LAST and returns the
// reply for the whole message. The server must have announced CHUNKING.
// Not for LMTP.
func (c *Client) Bdat(chunk []byte, last bool) (smtp.Reply, error) {
	if c.opt.LMTP {
		return smtp.Reply{}, errors.New("smtpclient: BDAT in LMTP mode is not supported")
	}
	if err := c.requireExt("CHUNKING"); err != nil {
		return smtp.Reply{}, err
	}
	line := fmt.Sprintf("BDAT %d", len(chunk))
	if last {
		line += " LAST"
	}
	if err := c.arm(c.opt.DataTimeout); err != nil {
		return smtp.Reply{}, err
	}
	if err := c.writeLine(line, line); err != nil {
		return smtp.Reply{}, err
	}
	if _, err := c.w.Write(chunk); err != nil {
		return smtp.Reply{}, err
	}
	if err := c.w.Flush(); err != nil {
		return smtp.Reply{}, err
	}
	reply, err := c.readReply()
	if last {
		c.rcpts = 0
	}
	if err != nil {
		return reply, err
	}
	if reply.Code != 250 {
		return reply, &smtp.Error{Reply: reply}
	}
	return reply, nil
}

// dotWriter turns LF or CRLF text into CRLF lines with leading dots
// doubled.
type dotWriter struct {
	w      io.Writer
	bol    bool // at the beginning of a line
	pendCR bool // the last byte written was a CR not yet followed by LF
}

func (d *dotWriter) Write(p []byte) (int, error) {
	var out strings.Builder
	for _, b := range p {
		switch {
		case b == '\n':
			out.WriteString("\r\n")
			d.pendCR, d.bol = false, true
			continue
		case d.pendCR:
			// A lone CR inside a line is passed on as it is.
			out.WriteByte('\r')
			d.pendCR, d.bol = false, false
		}
		if b == '\r' {
			d.pendCR = true
			continue
		}
		if d.bol && b == '.' {
			out.WriteByte('.')
		}
		out.WriteByte(b)
		d.bol = false
	}
	if _, err := io.WriteString(d.w, out.String()); err != nil {
		return 0, err
	}
	return len(p), nil
}

// close ends the last line if needed and writes the terminating dot.
func (d *dotWriter) close() error {
	end := ".\r\n"
	switch {
	case d.pendCR:
		end = "\r\n" + end
	case !d.bol:
		end = "\r\n" + end
	}
	_, err := io.WriteString(d.w, end)
	return err
}
