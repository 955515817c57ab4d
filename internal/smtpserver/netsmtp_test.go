package smtpserver

import (
	"crypto/tls"
	"net/smtp"
	"strings"
	"testing"
)

// Go's net/smtp as a real client: STARTTLS, AUTH PLAIN, a message.
func TestNetSMTPClient(t *testing.T) {
	ts := startServer(t, nil)
	dial := func() *smtp.Client {
		c, err := smtp.Dial(ts.addrs[ListenerSubmission])
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		if err := c.Hello("go-client"); err != nil {
			t.Fatal(err)
		}
		if err := c.StartTLS(&tls.Config{InsecureSkipVerify: true, ServerName: "mail.example.test"}); err != nil {
			t.Fatal(err)
		}
		if ok, mechs := c.Extension("AUTH"); !ok || !strings.Contains(mechs, "PLAIN") {
			t.Fatalf("AUTH after TLS: %v %q", ok, mechs)
		}
		return c
	}
	// net/smtp quits after a failed AUTH: the wrong password gets its own session.
	err := dial().Auth(smtp.PlainAuth("", "bob", "wrong", "127.0.0.1"))
	if err == nil || !strings.Contains(err.Error(), "535") || !strings.Contains(err.Error(), "5.7.8") {
		t.Fatalf("wrong password: %v", err)
	}
	c := dial()
	if err := c.Auth(smtp.PlainAuth("", "bob", "pw-bob", "127.0.0.1")); err != nil {
		t.Fatal(err)
	}
	if err := c.Mail("bob@example.test"); err != nil {
		t.Fatal(err)
	}
	if err := c.Rcpt("alice@example.test"); err != nil {
		t.Fatal(err)
	}
	w, err := c.Data()
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("Subject: from net/smtp\r\n\r\nhello\r\n"))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Quit(); err != nil {
		t.Fatal(err)
	}
	if ids := ts.queued(); len(ids) != 1 {
		t.Fatalf("%d queued", len(ids))
	}
}

// SMTPUTF8 (RFC 6531): UTF-8 addresses are accepted with the parameter and
// recorded; the Received line uses the UTF8SMTP keywords.
func TestSMTPUTF8(t *testing.T) {
	ts := startServer(t, nil)
	c := ts.dial(ListenerSubmissions)
	runDialog(t, c, []step{
		{"EHLO c", "250"},
		{"AUTH PLAIN " + b64("\x00alice\x00pw-alice"), "235"},
		{"MAIL FROM:<alice@example.test> SMTPUTF8", "250"},
		{"RCPT TO:<jörg@bücher.example>", "250"},
		{"DATA", "354"},
	})
	r := c.cmd("Subject: grüße\r\n\r\nx\r\n.", "250")
	id := strings.Fields(r)[len(strings.Fields(r))-1]
	env, _ := ts.spool.Envelope(id)
	if !env.SMTPUTF8 || env.Recipients[0].Addr != "jörg@bücher.example" {
		t.Fatalf("envelope %+v", env)
	}
	if msg := readMessage(t, ts.spool, id); !strings.Contains(msg, "with UTF8SMTPSA id") {
		t.Fatalf("Received:\n%s", msg)
	}
}
