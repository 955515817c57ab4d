package smtpserver

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

// FuzzReadData: the DATA reader never passes on a bare CR or LF, never
// writes more than the limit, and stops exactly after the end-of-data
// line it accepted.
func FuzzReadData(f *testing.F) {
	for _, s := range []string{"a\r\n.\r\n", "..x\r\n.\r\nNEXT", "a\n.\r\nMAIL\r\n.\r\n", "a\r\n.\n", "\r\r\n.\r\n",
		"x\n.\n", strings.Repeat("y", 70) + "\r\n.\r\n"} {
		f.Add(s, int64(64))
	}
	f.Fuzz(func(t *testing.T, in string, limit int64) {
		if limit < 0 {
			limit = -limit
		}
		var out bytes.Buffer
		r := bufio.NewReaderSize(strings.NewReader(in), 16)
		n, err := readData(r, &out, limit)
		if n > limit || int64(out.Len()) > limit {
			t.Fatalf("wrote %d octets over limit %d", n, limit)
		}
		if err == nil {
			b := out.Bytes()
			if bytes.Count(b, []byte("\n")) != bytes.Count(b, []byte("\r\n")) || bytes.Count(b, []byte("\r")) != bytes.Count(b, []byte("\r\n")) {
				t.Fatalf("bare CR or LF passed: %q", b)
			}
			rest, _ := io.ReadAll(r)
			if !strings.HasSuffix(in[:len(in)-len(rest)], "\r\n.\r\n") && in[:len(in)-len(rest)] != ".\r\n" {
				t.Fatalf("stopped after %q", in[:len(in)-len(rest)])
			}
		}
		if err != nil && !errors.Is(err, errTooBig) && !errors.Is(err, errBareEOL) && !errors.Is(err, errBareLFDot) && !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("unexpected error %v", err)
		}
	})
}
