package smtpserver

import (
	"bufio"
	"bytes"
	"errors"
	"io"
)

// Outcomes of reading DATA other than success. The reader always consumes
// input up to the end-of-data marker before returning errTooBig or
// errBareEOL, so the session stays in step with the client.
var (
	errTooBig  = errors.New("message exceeds the size limit")
	errBareEOL = errors.New("bare CR or LF in message text")
	// errBareLFDot: a "." line ended by a bare LF. The client believes data
	// ended here; we cannot know where its next command starts, so the
	// session must close.
	errBareLFDot = errors.New("data ended with bare LF")
)

// readData copies the text of a DATA command from r to w until the line
// ".", CRLF-terminated, undoing dot-stuffing (RFC 5321 §4.5.2). Only CRLF
// ends a line: a CR not followed by LF, or an LF not preceded by CR,
// makes the message refused (RFC 5321 §2.3.8; SMTP smuggling). At most limit
// octets are written; beyond that input is read and dropped.
func readData(r *bufio.Reader, w io.Writer, limit int64) (n int64, err error) {
	// lineStart: the previous line ended with CRLF; lfStart: with a bare LF.
	lineStart, lfStart, prevCR, bad, over := true, false, false, false, false
	for {
		chunk, rerr := r.ReadSlice('\n')
		if rerr != nil && !errors.Is(rerr, bufio.ErrBufferFull) {
			if rerr == io.EOF {
				rerr = io.ErrUnexpectedEOF
			}
			return n, rerr
		}
		switch {
		case lineStart && bytes.Equal(chunk, []byte(".\r\n")):
			switch {
			case bad:
				return n, errBareEOL
			case over:
				return n, errTooBig
			}
			return n, nil
		case lfStart && bytes.Equal(chunk, []byte(".\n")):
			return n, errBareLFDot
		case lineStart && len(chunk) > 0 && chunk[0] == '.':
			chunk = chunk[1:]
		}
		for i, c := range chunk {
			switch c {
			case '\n':
				if !(i > 0 && chunk[i-1] == '\r' || i == 0 && prevCR) {
					bad = true
				}
			case '\r':
				if i+1 < len(chunk) && chunk[i+1] != '\n' {
					bad = true
				}
			}
		}
		if len(chunk) > 0 {
			if prevCR && chunk[0] != '\n' {
				bad = true
			}
			last := chunk[len(chunk)-1]
			crlf := last == '\n' && (len(chunk) > 1 && chunk[len(chunk)-2] == '\r' || len(chunk) == 1 && prevCR)
			lineStart, lfStart = crlf, last == '\n' && !crlf
			prevCR = last == '\r'
		}
		if over || bad {
			continue
		}
		if n+int64(len(chunk)) > limit {
			over = true
			continue
		}
		m, werr := w.Write(chunk)
		n += int64(m)
		if werr != nil {
			// Keep reading to stay in step; report the write error at the end.
			return n, drainData(r, werr)
		}
	}
}

// drainData reads to the end of data after a local failure and returns err.
func drainData(r *bufio.Reader, err error) error {
	_, rerr := readData(r, io.Discard, 1<<62)
	if rerr != nil && !errors.Is(rerr, errBareEOL) {
		return rerr
	}
	return err
}
