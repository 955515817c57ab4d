package smtpserver

import (
	"bufio"
	"bytes"
	"errors"
	"io"
)

// maxCommandLine is the longest command line accepted, CRLF included
// (RFC 5321 §4.5.3.1.4 says 512; the issue and common practice allow 1000).
const maxCommandLine = 1000

// maxAuthLine is the longest AUTH command or SASL response line
// (RFC 4954 §4: 12288 octets).
const maxAuthLine = 12288

var (
	errLineTooLong = errors.New("line too long")
	errNUL         = errors.New("NUL byte in command")
)

// readLine reads one line ending in LF (CRLF or bare LF are both accepted
// for commands) of at most limit octets and returns it without the line
// ending. An over-long line is consumed up to its LF and errLineTooLong
// returned, so the session resynchronises at the next line.
func readLine(r *bufio.Reader, limit int) ([]byte, error) {
	var line []byte
	for {
		chunk, err := r.ReadSlice('\n')
		if len(line)+len(chunk) > limit {
			line = nil
			if err == nil {
				return nil, errLineTooLong
			}
			if errors.Is(err, bufio.ErrBufferFull) {
				if derr := discardLine(r); derr != nil {
					return nil, derr
				}
				return nil, errLineTooLong
			}
			return nil, err
		}
		line = append(line, chunk...)
		if err == nil {
			break
		}
		if !errors.Is(err, bufio.ErrBufferFull) {
			if err == io.EOF && len(line) > 0 {
				return nil, io.ErrUnexpectedEOF
			}
			return nil, err
		}
	}
	line = bytes.TrimSuffix(line[:len(line)-1], []byte("\r"))
	if bytes.IndexByte(line, 0) >= 0 {
		return nil, errNUL
	}
	return line, nil
}

// discardLine skips input up to and including the next LF.
func discardLine(r *bufio.Reader) error {
	for {
		_, err := r.ReadSlice('\n')
		if err == nil {
			return nil
		}
		if !errors.Is(err, bufio.ErrBufferFull) {
			return err
		}
	}
}

// lineBuffered reports whether a complete line is already buffered, i.e.
// the client pipelined more commands and replies may wait (RFC 2920).
func lineBuffered(r *bufio.Reader) bool {
	n := r.Buffered()
	if n == 0 {
		return false
	}
	b, _ := r.Peek(n)
	return bytes.IndexByte(b, '\n') >= 0
}
