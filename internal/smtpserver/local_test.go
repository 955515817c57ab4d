package smtpserver

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLocalListenerUsesPeerUID(t *testing.T) {
	ts := startServer(t, nil)
	var gotUID uint32
	ts.srv.opt.LocalSender = func(uid uint32, requested string) (string, error) {
		gotUID = uid
		if requested == "forged@example.org" {
			return "", errors.New("uid may not send as forged@example.org")
		}
		return "cron@mail.example.test", nil
	}
	sock := filepath.Join(t.TempDir(), "submit.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	go ts.srv.Serve(ln, ListenerLocal)
	conn, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	c := &client{t: t, conn: conn, r: bufio.NewReader(conn)}
	c.expect("220")
	r := c.cmd("EHLO localhost", "250")
	if strings.Contains(r, "STARTTLS") || strings.Contains(r, "AUTH") {
		t.Fatalf("local EHLO offers TLS or AUTH:\n%s", r)
	}
	c.cmd("MAIL FROM:<forged@example.org>", "553 5.7.1")
	c.cmd("MAIL FROM:<>", "250")
	c.cmd("RCPT TO:<someone@elsewhere.example>", "250") // local programs may relay
	c.cmd("DATA", "354")
	r = c.cmd("Subject: cron\r\n\r\nout\r\n.", "250 2.0.0")
	if gotUID != uint32(os.Getuid()) {
		t.Fatalf("peer uid %d, want %d", gotUID, os.Getuid())
	}
	id := strings.Fields(r)[len(strings.Fields(r))-1]
	env, err := ts.spool.Envelope(id)
	if err != nil {
		t.Fatal(err)
	}
	if env.From != "cron@mail.example.test" || env.ClientAddr != "" {
		t.Fatalf("envelope from %q client %q", env.From, env.ClientAddr)
	}
	if msg := readMessage(t, ts.spool, id); !strings.Contains(msg, fmt.Sprintf("(local uid %d)", os.Getuid())) {
		t.Fatalf("Received header does not name the uid:\n%s", msg)
	}
}
