package smtpserver

import (
	"bufio"
	"errors"
	"io"
	"strings"
	"testing"
)

func TestReadData(t *testing.T) {
	cases := []struct {
		name, in, want string
		limit          int64
		err            error
		rest           string
	}{
		{name: "plain", in: "a\r\nb\r\n.\r\nNEXT", want: "a\r\nb\r\n", rest: "NEXT"},
		{name: "dot-stuffed", in: "..a\r\n.\r\n", want: ".a\r\n"},
		{name: "empty", in: ".\r\n", want: ""},
		{name: "bare LF then CRLF.CRLF", in: "a\n.\r\nMAIL\r\n.\r\nNEXT", err: errBareEOL, rest: "NEXT"},
		{name: "bare CR", in: "a\rb\r\n.\r\nNEXT", err: errBareEOL, rest: "NEXT"},
		{name: "CRLF then .LF is not the end", in: "a\r\n.\nb\r\n.\r\nNEXT", err: errBareEOL, rest: "NEXT"},
		{name: "bare LF dot bare LF", in: "a\n.\nNEXT", err: errBareLFDot, rest: "NEXT"},
		{name: "too big", in: "0123456789\r\n.\r\nNEXT", limit: 5, err: errTooBig, rest: "NEXT"},
		{name: "eof", in: "a\r\n", err: io.ErrUnexpectedEOF},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := bufio.NewReaderSize(strings.NewReader(tc.in), 16)
			var out strings.Builder
			limit := tc.limit
			if limit == 0 {
				limit = 1 << 20
			}
			_, err := readData(r, &out, limit)
			if !errors.Is(err, tc.err) {
				t.Fatalf("err %v, want %v", err, tc.err)
			}
			if tc.err == nil && out.String() != tc.want {
				t.Fatalf("data %q, want %q", out.String(), tc.want)
			}
			rest, _ := r.ReadString(0)
			if tc.err != io.ErrUnexpectedEOF && rest != tc.rest {
				t.Fatalf("rest %q, want %q", rest, tc.rest)
			}
		})
	}
}

func TestReadLine(t *testing.T) {
	r := bufio.NewReaderSize(strings.NewReader("EHLO a\r\n"+strings.Repeat("x", 2000)+"\r\nNOOP\nQ\x00\r\n"), 16)
	if l, err := readLine(r, 1000); err != nil || string(l) != "EHLO a" {
		t.Fatalf("%q %v", l, err)
	}
	if _, err := readLine(r, 1000); !errors.Is(err, errLineTooLong) {
		t.Fatalf("long line: %v", err)
	}
	if l, err := readLine(r, 1000); err != nil || string(l) != "NOOP" {
		t.Fatalf("after long line: %q %v", l, err)
	}
	if _, err := readLine(r, 1000); !errors.Is(err, errNUL) {
		t.Fatalf("NUL: %v", err)
	}
}
