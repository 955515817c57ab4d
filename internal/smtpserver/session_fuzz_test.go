package smtpserver

import (
	"bufio"
	"io"
	"net"
	"regexp"
	"testing"
	"time"

	"postgate/internal/config"
)

var replyLine = regexp.MustCompile(`^[2-5][0-9][0-9][ -]`)

// FuzzSession feeds arbitrary client input to a real session (real spool,
// user store and policy) and checks that the server neither panics nor
// hangs, and that everything it sends is a well-formed reply line.
func FuzzSession(f *testing.F) {
	for _, s := range []string{
		"EHLO a\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<alice@example.test>\r\nDATA\r\nx\r\n.\r\nQUIT\r\n",
		"EHLO a\r\nAUTH PLAIN\r\n" + b64("\x00alice\x00pw-alice") + "\r\nQUIT\r\n",
		"EHLO a\r\nAUTH DIGEST-MD5\r\n*\r\nBDAT 3 LAST\r\nabcRSET\r\n",
		"HELO x\r\nMAIL FROM:<> BY=1;R\r\nRCPT TO:<postmaster>\r\nBDAT 0 LAST\r\n",
		"EHLO a\r\nMAIL FROM:<a@b> SMTPUTF8\r\nRCPT TO:<jörg@bücher.example>\r\nDATA\r\n\n.\n",
		"\x00\r\n\r\n \r\nHELP AUTH\r\nETRN #q\r\nVRFY x\r\nSTARTTLS\r\n",
	} {
		f.Add([]byte(s))
	}
	ts := startServer(f, func(c *config.Config) {
		c.Limits.CommandTimeout = config.Duration{Duration: 200 * time.Millisecond}
		c.Limits.DataTimeout = config.Duration{Duration: 200 * time.Millisecond}
		c.Limits.MaxMessageSize = 4096
	})
	f.Fuzz(func(t *testing.T, in []byte) {
		client, server := net.Pipe()
		defer client.Close()
		ts.srv.accept(server, ListenerSMTP)
		go func() {
			client.Write(in)
			client.Write([]byte("\r\n.\r\nQUIT\r\n"))
		}()
		client.SetReadDeadline(time.Now().Add(10 * time.Second))
		r := bufio.NewReader(client)
		for {
			line, err := r.ReadString('\n')
			if err == io.EOF || err == io.ErrClosedPipe {
				return
			}
			if err != nil {
				t.Fatalf("reading replies: %v", err)
			}
			if !replyLine.MatchString(line) {
				t.Fatalf("malformed reply line %q", line)
			}
		}
	})
}
