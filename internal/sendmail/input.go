package sendmail

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// ErrTooBig is returned by ReadMessage when the input exceeds the limit.
var ErrTooBig = errors.New("message too big")

// ReadMessage reads a message from r and returns it with every line
// ending in CRLF. A line is ended by LF, CRLF or a lone CR (CR characters
// before the LF are dropped, and a CR inside a line ends that line: the
// server refuses bare CR and LF, as RFC 5321 §2.3.8 allows). Unless
// ignoreDots is set, a line consisting of a single "." ends the input, as
// sendmail does without -i. A last line without a line ending gets one.
// limit > 0 bounds the result's size (ErrTooBig beyond it).
func ReadMessage(r io.Reader, ignoreDots bool, limit int64) ([]byte, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	var out bytes.Buffer
	for {
		line, err := br.ReadBytes('\n')
		if len(line) > 0 {
			line = bytes.TrimRight(bytes.TrimSuffix(line, []byte("\n")), "\r")
			if !ignoreDots && string(line) == "." {
				return out.Bytes(), nil
			}
			for part := range bytes.SplitSeq(line, []byte("\r")) {
				out.Write(part)
				out.WriteString("\r\n")
			}
			if limit > 0 && int64(out.Len()) > limit {
				return nil, fmt.Errorf("%w (limit %d octets)", ErrTooBig, limit)
			}
		}
		if errors.Is(err, io.EOF) {
			return out.Bytes(), nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// dotStuff prepares CRLF text for DATA: every line starting with "." gets
// a second "." (RFC 5321 §4.5.2), and the terminating ".\r\n" is added.
func dotStuff(msg []byte) []byte {
	var out bytes.Buffer
	out.Grow(len(msg) + len(msg)/50 + 3)
	for len(msg) > 0 {
		i := bytes.Index(msg, []byte("\r\n"))
		var line []byte
		if i < 0 {
			line, msg = msg, nil
		} else {
			line, msg = msg[:i], msg[i+2:]
		}
		if len(line) > 0 && line[0] == '.' {
			out.WriteByte('.')
		}
		out.Write(line)
		out.WriteString("\r\n")
	}
	out.WriteString(".\r\n")
	return out.Bytes()
}

// has8bit reports whether b contains any octet above 127.
func has8bit(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 {
			return true
		}
	}
	return false
}
