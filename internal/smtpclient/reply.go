package smtpclient

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"

	"postgate/internal/smtp"
)

// Reply size limits: RFC 5321 §4.5.3.1.5 allows 512 octets a line; real
// servers send longer EHLO lines, so the limits are generous but bounded.
const (
	maxReplyLine  = 16 << 10
	maxReplyLines = 1000
)

// ErrBadReply is wrapped by errors about replies that do not parse.
var ErrBadReply = errors.New("malformed SMTP reply")

// readReply reads one possibly multi-line reply (RFC 5321 §4.2). The
// enhanced status code (RFC 2034) is taken from the first line when it
// is there and its class matches the reply code, and removed from every
// line that repeats it.
func (c *Client) readReply() (smtp.Reply, error) {
	var lines []string
	code := 0
	for {
		line, err := c.readLine()
		if err != nil {
			if err == io.EOF && len(lines) == 0 {
				return smtp.Reply{}, fmt.Errorf("connection closed by server: %w", io.ErrUnexpectedEOF)
			}
			return smtp.Reply{}, err
		}
		c.traceReply(line)
		if len(line) < 3 || (len(line) > 3 && line[3] != ' ' && line[3] != '-') {
			return smtp.Reply{}, fmt.Errorf("%w: %q", ErrBadReply, truncate(line, 80))
		}
		n, ok := parseCode(line[:3])
		if !ok || (code != 0 && n != code) {
			return smtp.Reply{}, fmt.Errorf("%w: %q", ErrBadReply, truncate(line, 80))
		}
		code = n
		text := ""
		if len(line) > 4 {
			text = line[4:]
		}
		lines = append(lines, text)
		if len(line) == 3 || line[3] == ' ' {
			break
		}
		if len(lines) >= maxReplyLines {
			return smtp.Reply{}, fmt.Errorf("%w: more than %d lines", ErrBadReply, maxReplyLines)
		}
	}
	r := smtp.Reply{Code: code}
	if enh, ok := enhancedPrefix(lines[0], code); ok {
		r.Enhanced = enh
		for i, l := range lines {
			if strings.HasPrefix(l, enh+" ") {
				lines[i] = l[len(enh)+1:]
			} else if l == enh {
				lines[i] = ""
			}
		}
	}
	r.Text = strings.Join(lines, "\n")
	return r, nil
}

// readLine reads a line ending in LF (CRLF expected; a bare LF is
// tolerated from servers) and returns it without the line ending.
func (c *Client) readLine() (string, error) {
	var b []byte
	for {
		frag, isPrefix, err := c.r.ReadLine()
		if err != nil {
			return "", err
		}
		b = append(b, frag...)
		if len(b) > maxReplyLine {
			return "", fmt.Errorf("%w: line longer than %d octets", ErrBadReply, maxReplyLine)
		}
		if !isPrefix {
			return string(b), nil
		}
	}
}

func parseCode(s string) (int, bool) {
	if len(s) != 3 || s[0] < '2' || s[0] > '5' || s[1] < '0' || s[1] > '9' || s[2] < '0' || s[2] > '9' {
		return 0, false
	}
	return int(s[0]-'0')*100 + int(s[1]-'0')*10 + int(s[2]-'0'), true
}

// enhancedPrefix recognises "class.subject.detail" at the start of text
// (RFC 3463) whose class is the reply code's first digit.
func enhancedPrefix(text string, code int) (string, bool) {
	word, _, _ := strings.Cut(text, " ")
	parts := strings.Split(word, ".")
	if len(parts) != 3 || len(parts[0]) != 1 || parts[0][0] != byte('0'+code/100) || code/100 == 3 {
		return "", false
	}
	for _, p := range parts[1:] {
		if len(p) == 0 || len(p) > 3 {
			return "", false
		}
		for i := 0; i < len(p); i++ {
			if p[i] < '0' || p[i] > '9' {
				return "", false
			}
		}
	}
	return word, true
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// traceReply traces a server line; during AUTH a 334 challenge is shown
// decoded and redacted like the transcript.
func (c *Client) traceReply(line string) {
	if c.opt.Trace == nil {
		return
	}
	if c.authMech != "" && strings.HasPrefix(line, "334 ") {
		if b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(line[4:])); err == nil {
			line = "334 " + redactServer(c.authMech, b)
		}
	}
	c.trace("S", printable(line))
}
