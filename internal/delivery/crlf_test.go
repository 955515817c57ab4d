package delivery

import (
	"bytes"
	"testing"
)

func TestCRLFToLF(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"a\r\nb\r\n", "a\nb\n"},
		{"a\rb", "a\rb"},
		{"a\r", "a\r"},
		{"\r\r\n", "\r\n"},
		{"\r\n\r\n", "\n\n"},
		{"a\nb", "a\nb"},
		{"\r", "\r"},
	}
	for _, tc := range tests {
		// Every way of splitting the input into two writes, plus one byte
		// per write, must give the same result.
		for split := 0; split <= len(tc.in); split++ {
			var out bytes.Buffer
			c := &crlfToLF{w: &out}
			c.Write([]byte(tc.in[:split]))
			c.Write([]byte(tc.in[split:]))
			c.Close()
			if out.String() != tc.want {
				t.Errorf("%q split at %d: got %q, want %q", tc.in, split, out.String(), tc.want)
			}
		}
		var out bytes.Buffer
		c := &crlfToLF{w: &out}
		for i := range len(tc.in) {
			if n, err := c.Write([]byte{tc.in[i]}); n != 1 || err != nil {
				t.Fatalf("Write = %d, %v", n, err)
			}
		}
		c.Close()
		if out.String() != tc.want {
			t.Errorf("%q byte by byte: got %q, want %q", tc.in, out.String(), tc.want)
		}
	}
}
