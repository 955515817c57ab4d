package smtpserver

import (
	"fmt"
	"postgate/internal/config"
	"strings"
	"testing"
)

func TestEHLOListsClassicExtensionsInOrder(t *testing.T) {
	ts := startServer(t, nil)
	c := ts.dial(ListenerSMTP)
	r := c.cmd("EHLO client.example", "250-mail.example.test Hello client.example")
	var exts []string
	for _, l := range strings.Split(r, "\n")[1:] {
		exts = append(exts, strings.Fields(l[4:])[0])
	}
	// Before TLS, only mechanisms that are not plaintext may be offered.
	want := []string{"ENHANCEDSTATUSCODES", "PIPELINING", "8BITMIME", "SIZE", "DSN", "ETRN",
		"AUTH", "DELIVERBY", "HELP", "STARTTLS", "SMTPUTF8", "CHUNKING", "BINARYMIME"}
	if strings.Join(exts, " ") != strings.Join(want, " ") {
		t.Fatalf("EHLO extensions\n got %v\nwant %v", exts, want)
	}
	if strings.Contains(r, "PLAIN") || strings.Contains(r, "LOGIN") {
		t.Fatalf("plaintext mechanism offered before TLS:\n%s", r)
	}
	if !strings.Contains(r, fmt.Sprintf("SIZE %d", ts.cfg.Limits.MaxMessageSize)) {
		t.Fatalf("SIZE value missing:\n%s", r)
	}
	c.startTLS()
	r = c.cmd("EHLO client.example", "250-")
	if strings.Contains(r, "STARTTLS") || !strings.Contains(r, "PLAIN") {
		t.Fatalf("after TLS: want PLAIN and no STARTTLS:\n%s", r)
	}
}

// A dialog is a list of command lines and the reply prefix each must get.
type step struct{ send, want string }

func runDialog(t *testing.T, c *client, steps []step) {
	t.Helper()
	for _, s := range steps {
		c.cmd(s.send, s.want)
	}
}

func TestDialogs(t *testing.T) {
	long := strings.Repeat("x", 1100)
	cases := map[string][]step{
		"sequence errors": {
			{"MAIL FROM:<a@example.org>", "503 5.5.1"},
			{"EHLO c", "250"},
			{"RCPT TO:<alice@example.test>", "503 5.5.1"},
			{"DATA", "503 5.5.1"},
			{"MAIL FROM:<a@example.org>", "250 2.1.0"},
			{"MAIL FROM:<a@example.org>", "503 5.5.1"},
			{"DATA", "503 5.5.1"},
			{"RSET", "250 2.0.0"},
			{"NOOP", "250 2.0.0"},
		},
		"syntax errors keep the session": {
			{"EHLO c", "250"},
			{"BOGUS", "500 5.5.2"},
			{long, "500 5.5.2"},
			{"MAIL FROM:a@example.org", "501 5.1.7"},
			{"MAIL TO:<a@example.org>", "501 5.5.2"},
			{"MAIL FROM:<a@example.org> SIZE=abc", "501 5.5.4"},
			{"MAIL FROM:<a@example.org> FOO=1", "555 5.5.4"},
			{"MAIL FROM:<a@example.org> SIZE=999999999999", "552 5.3.4"},
			{"MAIL FROM:<a@example.org> BY=10;R", "501 5.5.4"},
			{"MAIL FROM:<jörg@example.org>", "553 5.6.7"},
			{"MAIL FROM:<a@example.org> BY=120;R RET=HDRS ENVID=x+2By", "250 2.1.0"},
			{"RCPT TO:<nobody>", "501 5.1.3"},
			{"RCPT TO:<nobody@example.test>", "550 5.1.1"},
			{"RCPT TO:<x@elsewhere.example>", "550 5.7.1"},
			{"RCPT TO:<alice@example.test> NOTIFY=NEVER,SUCCESS", "501 5.5.4"},
			{"RCPT TO:<alice@example.test> NOTIFY=FAILURE ORCPT=rfc822;alice+40example.test", "250 2.1.5"},
			{"RCPT TO:<postmaster>", "250 2.1.5"},
			{"QUIT", "221 2.0.0"},
		},
		"help vrfy etrn": {
			{"HELP", "214-2.0.0"},
			{"HELP MAIL", "214-2.0.0 MAIL FROM:"},
			{"HELP FOO", "504 5.5.1"},
			{"VRFY alice", "252 2.5.0"},
			{"EXPN staff", "252 2.5.0"},
			{"EHLO c", "250"},
			{"ETRN", "501 5.5.2"},
			{"ETRN @example.org", "458"},
			{"STARTTLS now", "501 5.5.4"},
		},
		"HELO client may not use parameters": {
			{"HELO c", "250 mail.example.test"},
			{"MAIL FROM:<a@example.org> SIZE=10", "555 5.5.4"},
			{"MAIL FROM:<a@example.org>", "250 2.1.0"},
		},
		"AUTH before EHLO and plaintext before TLS": {
			{"AUTH PLAIN", "503 5.5.1"},
			{"EHLO c", "250"},
			{"AUTH PLAIN AGFsaWNlAHB3LWFsaWNl", "538 5.7.11"},
			{"AUTH FOO", "504 5.5.4"},
		},
	}
	ts := startServer(t, nil)
	for name, steps := range cases {
		t.Run(name, func(t *testing.T) {
			c := ts.dial(ListenerSMTP)
			c.t = t
			runDialog(t, c, steps)
		})
	}
}

func TestSubmissionRequiresAuth(t *testing.T) {
	ts := startServer(t, nil)
	c := ts.dial(ListenerSubmission)
	runDialog(t, c, []step{
		{"EHLO c", "250"},
		{"MAIL FROM:<alice@example.test>", "530 5.7.0"},
	})
	c.startTLS()
	runDialog(t, c, []step{
		{"MAIL FROM:<alice@example.test>", "503 5.5.1"}, // state forgotten: EHLO again
		{"EHLO c", "250"},
		{"AUTH PLAIN AGFsaWNlQGV4YW1wbGUudGVzdABwdy1hbGljZQ==", "235 2.7.0"},
		{"AUTH PLAIN AGFsaWNlQGV4YW1wbGUudGVzdABwdy1hbGljZQ==", "503 5.5.1"},
		{"MAIL FROM:<bob@example.test>", "553 5.7.1"},
		{"MAIL FROM:<alice@example.test>", "250 2.1.0"},
		{"RCPT TO:<someone@elsewhere.example>", "250 2.1.5"},
	})
}

func TestMessageIsSpooledWithReceivedHeader(t *testing.T) {
	ts := startServer(t, nil)
	c := ts.dial(ListenerSubmissions)
	runDialog(t, c, []step{
		{"EHLO laptop", "250"},
		{"AUTH PLAIN AGFsaWNlAHB3LWFsaWNl", "235 2.7.0"},
		{"MAIL FROM:<alice@example.test> RET=HDRS ENVID=e+2B1 BY=3600;NT", "250 2.1.0"},
		{"RCPT TO:<bob@example.test> NOTIFY=SUCCESS,DELAY", "250 2.1.5"},
		{"DATA", "354"},
	})
	r := c.cmd("Subject: hi\r\n\r\n..dot-stuffed line\r\nbody\r\n.", "250 2.0.0")
	id := strings.Fields(r)[len(strings.Fields(r))-1]
	env, err := ts.spool.Envelope(id)
	if err != nil {
		t.Fatal(err)
	}
	if env.AuthUser != "alice@example.test" || env.Ret != "HDRS" || env.EnvID != "e+1" ||
		env.DeliverBy == nil || env.DeliverBy.Mode != "N" || !env.DeliverBy.Trace ||
		len(env.Recipients) != 1 || strings.Join(env.Recipients[0].Notify, ",") != "SUCCESS,DELAY" {
		t.Fatalf("envelope %+v", env)
	}
	msg := readMessage(t, ts.spool, id)
	if !strings.HasPrefix(msg, "Received: from laptop") || !strings.Contains(msg, "with ESMTPSA id "+id) ||
		!strings.Contains(msg, "version=TLS1.3") || !strings.Contains(msg, "(authenticated sender)") {
		t.Fatalf("Received header:\n%s", msg)
	}
	if strings.Contains(msg, "PLAIN") {
		t.Fatal("Received names the mechanism")
	}
	if !strings.HasSuffix(msg, "\r\n\r\n.dot-stuffed line\r\nbody\r\n") {
		t.Fatalf("body not unstuffed:\n%q", msg)
	}
}

func TestPipelinedTransactionInOneWrite(t *testing.T) {
	ts := startServer(t, nil)
	c := ts.dial(ListenerSMTP)
	c.cmd("EHLO c", "250")
	c.send("MAIL FROM:<x@example.org>\r\nRCPT TO:<alice@example.test>\r\nRCPT TO:<nobody@example.test>\r\nRCPT TO:<bob@example.test>\r\nDATA\r\n")
	for _, want := range []string{"250 2.1.0", "250 2.1.5", "550 5.1.1", "250 2.1.5", "354"} {
		c.expect(want)
	}
	c.send("Subject: p\r\n\r\nx\r\n.\r\nQUIT\r\n")
	c.expect("250 2.0.0")
	c.expect("221")
	if n := len(ts.queued()); n != 1 {
		t.Fatalf("%d messages queued", n)
	}
}

func TestStartTLSDiscardsInjectedCommands(t *testing.T) {
	ts := startServer(t, nil)
	c := ts.dial(ListenerSMTP)
	c.cmd("EHLO c", "250")
	// The injected MAIL must not be executed after the handshake.
	c.send("STARTTLS\r\nMAIL FROM:<evil@example.org>\r\n")
	c.expect("220 2.0.0")
	tc := tlsClient(t, c)
	_ = tc
	c.cmd("EHLO c", "250")
	c.cmd("MAIL FROM:<x@example.org>", "250 2.1.0") // no "nested MAIL": the injection was dropped
	c.cmd("STARTTLS", "503 5.5.1")
	if !strings.Contains(ts.logs.String(), "discarding input pipelined after STARTTLS") {
		t.Fatal("injection not logged")
	}
}

func TestBareLFIsRefused(t *testing.T) {
	ts := startServer(t, nil)
	c := ts.dial(ListenerSMTP)
	runDialog(t, c, []step{
		{"EHLO c", "250"},
		{"MAIL FROM:<x@example.org>", "250"},
		{"RCPT TO:<alice@example.test>", "250"},
		{"DATA", "354"},
	})
	// A smuggled second transaction behind "\n.\r\n" stays message text.
	c.send("Subject: s\r\n\r\nhello\n.\r\nMAIL FROM:<evil@example.org>\r\nRCPT TO:<bob@example.test>\r\nDATA\r\nevil\r\n.\r\n")
	c.expect("554 5.6.0")
	c.cmd("NOOP", "250") // session survives
	if n := len(ts.queued()); n != 0 {
		t.Fatalf("%d messages queued, want none", n)
	}
	// A dot line ended by bare LF: the server cannot know where data ended.
	runDialog(t, c, []step{
		{"MAIL FROM:<x@example.org>", "250"},
		{"RCPT TO:<alice@example.test>", "250"},
		{"DATA", "354"},
	})
	c.send("text\n.\n")
	c.expect("421 4.5.0")
	if !c.closed() {
		t.Fatal("connection still open")
	}
}

func TestOversizeMessage(t *testing.T) {
	ts := startServer(t, func(c *config.Config) { c.Limits.MaxMessageSize = 1000 })
	c := ts.dial(ListenerSMTP)
	runDialog(t, c, []step{
		{"EHLO c", "250"},
		{"MAIL FROM:<x@example.org> SIZE=2000", "552 5.3.4"},
		{"MAIL FROM:<x@example.org>", "250"},
		{"RCPT TO:<alice@example.test>", "250"},
		{"DATA", "354"},
	})
	c.send(strings.Repeat("0123456789012345678901234567890123456789\r\n", 100) + ".\r\n")
	c.expect("552 5.3.4")
	c.cmd("NOOP", "250")
	if n := len(ts.queued()); n != 0 {
		t.Fatalf("%d messages queued", n)
	}
	// BDAT over the limit: refused, chunk consumed, session in step.
	runDialog(t, c, []step{
		{"MAIL FROM:<x@example.org>", "250"},
		{"RCPT TO:<alice@example.test>", "250"},
	})
	c.send("BDAT 1500 LAST\r\n" + strings.Repeat("y", 1500))
	c.expect("552 5.3.4")
	c.cmd("NOOP", "250")
	if n := len(ts.queued()); n != 0 {
		t.Fatalf("%d messages queued", n)
	}
}

func TestBDAT(t *testing.T) {
	ts := startServer(t, nil)
	c := ts.dial(ListenerSMTP)
	runDialog(t, c, []step{
		{"EHLO c", "250"},
		{"MAIL FROM:<x@example.org> BODY=BINARYMIME", "250"},
		{"RCPT TO:<alice@example.test>", "250"},
		{"DATA", "503 5.5.1"},
	})
	c.send("BDAT 9\r\nSubject: ")
	c.expect("250 2.0.0")
	c.send("BDAT 9 LAST\r\nb\r\n\r\n\x00\n\r\n")
	r := c.expect("250 2.0.0")
	id := strings.Fields(r)[len(strings.Fields(r))-1]
	if msg := readMessage(t, ts.spool, id); !strings.HasSuffix(msg, "Subject: b\r\n\r\n\x00\n\r\n") {
		t.Fatalf("binary content changed: %q", msg)
	}
	env, _ := ts.spool.Envelope(id)
	if env.Body != "BINARYMIME" {
		t.Fatalf("body %q", env.Body)
	}
}

func TestThousandRecipients(t *testing.T) {
	ts := startServer(t, func(c *config.Config) { c.Limits.MaxRecipients = 1000 })
	c := ts.dial(ListenerSMTP)
	c.cmd("EHLO c", "250")
	var b strings.Builder
	b.WriteString("MAIL FROM:<x@example.org>\r\n")
	for i := 0; i < 1001; i++ {
		b.WriteString("RCPT TO:<alice@example.test>\r\n")
	}
	c.send(b.String())
	c.expect("250 2.1.0")
	for i := 0; i < 1000; i++ {
		c.expect("250 2.1.5")
	}
	c.expect("452 4.5.3")
	c.cmd("DATA", "354")
	r := c.cmd("Subject: many\r\n\r\nx\r\n.", "250 2.0.0")
	id := strings.Fields(r)[len(strings.Fields(r))-1]
	env, err := ts.spool.Envelope(id)
	if err != nil || len(env.Recipients) != 1000 {
		t.Fatalf("envelope recipients %d, %v", len(env.Recipients), err)
	}
}

func TestTooManyErrorsCloses(t *testing.T) {
	ts := startServer(t, func(c *config.Config) { c.Limits.MaxErrors = 3 })
	c := ts.dial(ListenerSMTP)
	c.cmd("X1", "500")
	c.cmd("X2", "500")
	c.send("X3\r\n")
	c.expect("500")
	c.expect("421 4.7.0")
	if !c.closed() {
		t.Fatal("still open")
	}
}

func TestNULAndDataBeforeGoAhead(t *testing.T) {
	ts := startServer(t, nil)
	c := ts.dial(ListenerSMTP)
	c.cmd("EHLO c", "250")
	c.cmd("NO\x00OP", "500 5.5.2")
	c.cmd("MAIL FROM:<x@example.org>", "250")
	c.cmd("RCPT TO:<alice@example.test>", "250")
	c.send("DATA\r\nSubject: early\r\n")
	c.expect("554 5.5.0")
	c.cmd("NOOP", "250")
}

func TestHelloLine(t *testing.T) {
	ts := startServer(t, nil)
	c := ts.dial(ListenerSMTP)
	c.cmd("HELO client.example", "250 mail.example.test Hello client.example [127.0.0.1]")
	c.cmd("EHLO [127.0.0.1]", "250-mail.example.test Hello [127.0.0.1]\n")
}

// RCPT TO:<postmaster> without a domain (RFC 5321 §4.5.1) must not depend
// on local_domains being set.
func TestBarePostmasterWithoutLocalDomains(t *testing.T) {
	ts := startServer(t, func(c *config.Config) { c.LocalDomains = nil })
	c := ts.dial(ListenerSMTP)
	runDialog(t, c, []step{
		{"EHLO c", "250"},
		{"MAIL FROM:<x@example.org>", "250"},
		{"RCPT TO:<postmaster>", "550 5.7.1"}, // mail.example.test is not local here
		{"NOOP", "250"},
	})
}
