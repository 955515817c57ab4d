package smtpserver

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strings"
	"testing"
)

// benchMessage returns a DATA stream of about size octets as a client sends
// it (CRLF lines of 78 octets, every 50th line dot-stuffed, ending in
// CRLF.CRLF) and the number of octets readData must write for it.
func benchMessage(size int) (wire []byte, content int64) {
	var b bytes.Buffer
	b.WriteString("From: bench@example.test\r\nTo: rcpt@example.test\r\nSubject: benchmark\r\n\r\n")
	content = int64(b.Len())
	line := strings.Repeat("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", 2)[:76] + "\r\n"
	for i := 0; b.Len() < size; i++ {
		if i%50 == 49 {
			b.WriteString(".") // dot-stuffed: readData removes it
		}
		b.WriteString(line)
		content += int64(len(line))
	}
	b.WriteString(".\r\n")
	return b.Bytes(), content
}

// BenchmarkReadData measures the strict DATA reader (dot-unstuffing,
// bare CR/LF detection, size limit) on the server's 64 KiB read buffer.
// Throughput is reported per octet of wire input.
func BenchmarkReadData(b *testing.B) {
	for _, size := range []int{4 << 10, 1 << 20} {
		b.Run(fmt.Sprintf("%dKiB", size>>10), func(b *testing.B) {
			wire, content := benchMessage(size)
			src := bytes.NewReader(wire)
			r := bufio.NewReaderSize(src, 64<<10)
			b.SetBytes(int64(len(wire)))
			b.ReportAllocs()
			for b.Loop() {
				src.Reset(wire)
				r.Reset(src)
				n, err := readData(r, io.Discard, 36700160)
				if err != nil || n != content {
					b.Fatalf("readData = %d, %v; want %d, nil", n, err, content)
				}
			}
		})
	}
}

// TestBenchMessage checks that the benchmark's input is what it claims:
// valid, dot-stuffed DATA whose unstuffed content readData reproduces.
func TestBenchMessage(t *testing.T) {
	for _, size := range []int{4 << 10, 1 << 20} {
		wire, content := benchMessage(size)
		var out bytes.Buffer
		n, err := readData(bufio.NewReader(bytes.NewReader(wire)), &out, 1<<30)
		if err != nil || n != content || int64(out.Len()) != content {
			t.Fatalf("size %d: readData = %d, %v (wrote %d); want %d, nil", size, n, err, out.Len(), content)
		}
		if bytes.Contains(out.Bytes(), []byte("\r\n.0123")) {
			t.Errorf("size %d: dot-stuffing not undone", size)
		}
		if !bytes.Contains(wire, []byte("\r\n.0123")) {
			t.Errorf("size %d: input has no dot-stuffed line", size)
		}
	}
}
