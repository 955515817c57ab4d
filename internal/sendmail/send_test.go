package sendmail

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"net"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"postgate/internal/smtp"
)

// runCmd runs the sendmail command against socket with stdin and returns
// the exit code, standard output and standard error.
func runCmd(t *testing.T, socket string, stdin string, args ...string) (int, string, string) {
	t.Helper()
	o, err := ParseFor(ProgSendmail, args)
	if err != nil {
		t.Fatalf("Parse(%q): %v", args, err)
	}
	var out, errb bytes.Buffer
	env := Env{Prog: "sendmail", Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errb,
		SubmitSocket: socket, AdminSocket: filepath.Join(filepath.Dir(socket), "admin.sock"),
		Domain: "example.org", Hostname: "mail.example.org",
		Identity: func() (Identity, error) { return Identity{Login: "alice", FullName: "Alice"}, nil },
		Now:      func() time.Time { return testNow }}
	code := Run(context.Background(), env, o)
	return code, out.String(), errb.String()
}

func TestSendDialog(t *testing.T) {
	f := (&fakeSMTP{}).start(t)
	in := "To: Bob <bob@example.net>\nBcc: eve@example.net\nSubject: test\n\nline one\n.leading dot\n..two dots\n.\nafter the dot\n"
	code, _, stderr := runCmd(t, f.path, in, "-t", "-i", "-f", "bounces@example.org", "-N", "failure,delay", "-R", "hdrs", "-V", "id+1=x")
	if code != ExOK {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	cmds := f.commands()
	data := f.messages()
	if len(data) != 1 {
		t.Fatalf("got %d messages, want 1", len(data))
	}
	want := []string{
		"EHLO localhost",
		"", // MAIL, checked below
		"RCPT TO:<bob@example.net> NOTIFY=FAILURE,DELAY",
		"RCPT TO:<eve@example.net> NOTIFY=FAILURE,DELAY",
		"DATA",
		"QUIT",
	}
	if len(cmds) != len(want) {
		t.Fatalf("commands %q", cmds)
	}
	for i, w := range want {
		if w != "" && cmds[i] != w {
			t.Errorf("command %d = %q, want %q", i, cmds[i], w)
		}
	}
	mail := cmds[1]
	for _, p := range []string{"MAIL FROM:<bounces@example.org> ", "SIZE=", "RET=HDRS", "ENVID=id+2B1+3Dx"} {
		if !strings.Contains(mail, p) {
			t.Errorf("MAIL command %q lacks %q", mail, p)
		}
	}
	if strings.Contains(mail, "BODY=") || strings.Contains(mail, "SMTPUTF8") {
		t.Errorf("7-bit ASCII message sent with %q", mail)
	}
	msg := data[0]
	for _, w := range []string{"To: Bob <bob@example.net>\r\n", "Subject: test\r\n", "\r\n\r\nline one\r\n",
		"\r\n..leading dot\r\n", "\r\n...two dots\r\n", "\r\n..\r\nafter the dot\r\n",
		"From: \"Alice\" <bounces@example.org>\r\n", "Date: Fri, 01 May 2026 10:00:00 +0000\r\n", "Message-ID: <"} {
		if !strings.Contains(msg, w) {
			t.Errorf("message lacks %q:\n%s", w, msg)
		}
	}
	if strings.Contains(msg, "eve@") || strings.Contains(msg, "Bcc") {
		t.Errorf("Bcc leaked:\n%s", msg)
	}
	if strings.Contains(strings.ReplaceAll(msg, "\r\n", ""), "\n") {
		t.Error("bare LF in the data sent")
	}
}

func TestSendEightBitAndUTF8(t *testing.T) {
	f := (&fakeSMTP{}).start(t)
	code, _, stderr := runCmd(t, f.path, "Subject: caf\xc3\xa9\n\nb\n", "j\xc3\xb6rg@example.net")
	if code != ExOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	mail := f.commands()[1]
	if !strings.Contains(mail, "BODY=8BITMIME") || !strings.Contains(mail, "SMTPUTF8") {
		t.Errorf("MAIL = %q, want BODY=8BITMIME and SMTPUTF8", mail)
	}

	// A server without SMTPUTF8 cannot take the address: refused locally.
	g := (&fakeSMTP{ehlo: []string{"8BITMIME"}}).start(t)
	code, _, stderr = runCmd(t, g.path, "b\n", "j\xc3\xb6rg@example.net")
	if code != ExDataErr || !strings.Contains(stderr, "SMTPUTF8") {
		t.Errorf("no SMTPUTF8: exit %d, %q", code, stderr)
	}
	// A server without DSN: -N is dropped with a warning, mail still goes.
	code, _, stderr = runCmd(t, g.path, "b\n", "-N", "never", "bob@example.net")
	if code != ExOK || !strings.Contains(stderr, "-N ignored") {
		t.Errorf("no DSN: exit %d, %q", code, stderr)
	}
	for _, c := range g.commands() {
		if strings.Contains(c, "NOTIFY") || strings.Contains(c, "SIZE=") {
			t.Errorf("sent %q to a server that does not offer it", c)
		}
	}
}

func TestSendExitCodes(t *testing.T) {
	tests := []struct {
		name     string
		server   *fakeSMTP
		args     []string
		wantCode int
		wantErr  string
		wantCmds []string // verbs expected in order, if set
	}{
		{"unknown recipient aborts all", &fakeSMTP{replies: map[string]string{"RCPT TO:<nobody@": "550 5.1.1 No such user"}},
			[]string{"bob@example.org", "nobody@example.org"}, ExNoUser, "NOT sent to anyone",
			[]string{"EHLO", "MAIL", "RCPT", "RCPT", "RSET", "QUIT"}},
		{"recipient syntax", &fakeSMTP{replies: map[string]string{"RCPT": "501 5.1.3 Bad recipient address syntax"}},
			[]string{"bob@example.org"}, ExDataErr, "5.1.3", nil},
		{"relay denied", &fakeSMTP{replies: map[string]string{"RCPT": "550 5.7.1 Relay access denied"}},
			[]string{"bob@example.net"}, ExNoPerm, "Relay", nil},
		{"temp and perm: perm wins", &fakeSMTP{replies: map[string]string{"RCPT TO:<a@": "451 4.3.0 later", "RCPT TO:<b@": "550 5.1.1 no"}},
			[]string{"a@example.org", "b@example.org"}, ExNoUser, "", nil},
		{"temporary recipient", &fakeSMTP{replies: map[string]string{"RCPT": "452 4.5.3 Too many recipients"}},
			[]string{"a@example.org"}, ExTempFail, "NOT sent", nil},
		{"sender refused", &fakeSMTP{replies: map[string]string{"MAIL": "553 5.7.1 not your address"}},
			[]string{"a@example.org"}, ExNoPerm, "MAIL FROM", []string{"EHLO", "MAIL", "QUIT"}},
		{"sender temporary", &fakeSMTP{replies: map[string]string{"MAIL": "421 4.3.2 shutting down"}},
			[]string{"a@example.org"}, ExTempFail, "NOT queued", nil},
		{"too big at end of data", &fakeSMTP{replies: map[string]string{"DATA-END": "552 5.3.4 Message too big"}},
			[]string{"a@example.org"}, ExDataErr, "5.3.4", nil},
		{"local error at end of data", &fakeSMTP{replies: map[string]string{"DATA-END": "451 4.3.0 local error"}},
			[]string{"a@example.org"}, ExTempFail, "NOT queued", nil},
		{"DATA refused", &fakeSMTP{replies: map[string]string{"DATA": "554 5.5.1 no valid recipients"}},
			[]string{"a@example.org"}, ExDataErr, "554", nil},
		{"greeting refused (unknown local user)", &fakeSMTP{greeting: "554 5.7.0 Cannot identify the local user"},
			[]string{"a@example.org"}, ExNoPerm, "Cannot identify", nil},
		{"greeting temporary", &fakeSMTP{greeting: "421 4.3.2 busy"},
			[]string{"a@example.org"}, ExTempFail, "", nil},
		{"garbled reply", &fakeSMTP{replies: map[string]string{"MAIL": "hello there"}},
			[]string{"a@example.org"}, ExProtocol, "malformed", nil},
		{"HELO fallback", &fakeSMTP{replies: map[string]string{"EHLO": "502 5.5.1 no"}},
			[]string{"a@example.org"}, ExOK, "", []string{"EHLO", "HELO", "MAIL", "RCPT", "DATA", "QUIT"}},
		{"server hangs up at QUIT after 250", &fakeSMTP{noQuit: true},
			[]string{"a@example.org"}, ExOK, "", nil},
	}
	for _, tt := range tests {
		f := tt.server.start(t)
		code, _, stderr := runCmd(t, f.path, "Subject: s\n\nbody\n", tt.args...)
		if code != tt.wantCode {
			t.Errorf("%s: exit %d, want %d; stderr %q", tt.name, code, tt.wantCode, stderr)
		}
		if tt.wantErr != "" && !strings.Contains(stderr, tt.wantErr) {
			t.Errorf("%s: stderr %q lacks %q", tt.name, stderr, tt.wantErr)
		}
		refusedAtEnd := tt.server.replies["DATA-END"] != ""
		if tt.wantCode != ExOK && !refusedAtEnd && len(f.messages()) != 0 {
			t.Errorf("%s: failed but a message was transferred", tt.name)
		}
		if tt.wantCmds != nil {
			var verbs []string
			for _, c := range f.commands() {
				verbs = append(verbs, strings.ToUpper(strings.SplitN(c, " ", 2)[0]))
			}
			if !reflect.DeepEqual(verbs, tt.wantCmds) {
				t.Errorf("%s: commands %q, want %q", tt.name, verbs, tt.wantCmds)
			}
		}
	}
}

func TestNotRunning(t *testing.T) {
	sock := filepath.Join(shortDir(t), "submit.sock")
	code, _, stderr := runCmd(t, sock, "Subject: s\n\nb\n", "bob@example.org")
	if code != ExTempFail {
		t.Errorf("exit %d, want %d", code, ExTempFail)
	}
	if !strings.Contains(stderr, "not running") || !strings.Contains(stderr, "NOT queued") {
		t.Errorf("stderr %q should say the server is not running and nothing was queued", stderr)
	}
	code, stdout, _ := runCmd(t, sock, "EHLO x\n", "-bs")
	if code != ExTempFail || !strings.HasPrefix(stdout, "421 ") {
		t.Errorf("-bs not running: exit %d stdout %q", code, stdout)
	}
}

func TestNoRecipientsBeforeReading(t *testing.T) {
	code, _, stderr := runCmd(t, "/nonexistent/submit.sock", "b\n")
	if code != ExUsage || !strings.Contains(stderr, "no recipients") {
		t.Errorf("exit %d, %q", code, stderr)
	}
}

func TestVerbose(t *testing.T) {
	f := (&fakeSMTP{}).start(t)
	code, _, stderr := runCmd(t, f.path, "Subject: s\n\nsecret body text\n", "-v", "bob@example.org")
	if code != ExOK {
		t.Fatal(code, stderr)
	}
	for _, w := range []string{">>> MAIL FROM:<alice@example.org>", "<<< 250 2.0.0 OK queued as", "octets of message", "sent: OK queued as"} {
		if !strings.Contains(stderr, w) {
			t.Errorf("verbose output lacks %q:\n%s", w, stderr)
		}
	}
	if strings.Contains(stderr, "secret body text") {
		t.Error("message body traced")
	}
}

func TestVerifyMode(t *testing.T) {
	f := (&fakeSMTP{replies: map[string]string{"RCPT TO:<nobody@": "550 5.1.1 No such user"}}).start(t)
	code, stdout, _ := runCmd(t, f.path, "", "-bv", "root", "nobody@example.org")
	if code != ExNoUser {
		t.Errorf("exit %d, want %d", code, ExNoUser)
	}
	if !strings.Contains(stdout, "root@example.org... deliverable") || !strings.Contains(stdout, "nobody@example.org... 550 5.1.1 No such user") {
		t.Errorf("stdout %q", stdout)
	}
	var verbs []string
	for _, c := range f.commands() {
		verbs = append(verbs, strings.SplitN(c, " ", 2)[0])
	}
	want := []string{"EHLO", "MAIL", "RCPT", "RSET", "MAIL", "RCPT", "RSET", "QUIT"}
	if !reflect.DeepEqual(verbs, want) {
		t.Errorf("commands %q, want %q", verbs, want)
	}
	if len(f.messages()) != 0 {
		t.Error("-bv sent a message")
	}
	code, stdout, _ = runCmd(t, f.path, "", "-bv", "root")
	if code != ExOK {
		t.Errorf("all deliverable: exit %d %q", code, stdout)
	}
}

func TestRelayMode(t *testing.T) {
	f := (&fakeSMTP{}).start(t)
	in := "EHLO client\nMAIL FROM:<a@example.org>\r\nQUIT\n"
	code, stdout, stderr := runCmd(t, f.path, in, "-bs")
	if code != ExOK {
		t.Fatalf("exit %d %q", code, stderr)
	}
	want := []string{"EHLO client", "MAIL FROM:<a@example.org>", "QUIT"}
	if got := f.commands(); !reflect.DeepEqual(got, want) {
		t.Errorf("server got %q, want %q", got, want)
	}
	if !strings.HasPrefix(stdout, "220 fake ESMTP\r\n") || !strings.HasSuffix(stdout, "221 2.0.0 bye\r\n") {
		t.Errorf("stdout %q", stdout)
	}
}

func TestReadReplyParsing(t *testing.T) {
	tests := []struct {
		wire string
		want smtp.Reply
		bad  bool
	}{
		{"250 2.1.0 Sender OK\r\n", smtp.R(250, "2.1.0", "Sender OK"), false},
		{"250-first\r\n250 second\r\n", smtp.R(250, "", "first\nsecond"), false},
		{"550-5.1.1 line one\r\n550 5.1.1 line two\r\n", smtp.R(550, "5.1.1", "line one\nline two"), false},
		{"354 Start mail input\r\n", smtp.R(354, "", "Start mail input"), false},
		{"250\r\n", smtp.R(250, "", ""), false},
		{"450 5.1.1 class mismatch kept as text\r\n", smtp.R(450, "", "5.1.1 class mismatch kept as text"), false},
		{"250-a\r\n251 b\r\n", smtp.Reply{}, true},
		{"abc\r\n", smtp.Reply{}, true},
		{"999 no\r\n", smtp.Reply{}, true},
		{"250x\r\n", smtp.Reply{}, true},
	}
	for _, tt := range tests {
		c := &client{conn: nopConn{}, r: bufioReader(tt.wire)}
		got, err := c.readReply(time.Minute)
		var pe *protocolError
		if tt.bad {
			if !errors.As(err, &pe) {
				t.Errorf("%q: err %v, want a protocol error", tt.wire, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%q: %+v, %v; want %+v", tt.wire, got, err, tt.want)
		}
	}
}

func TestExitCode(t *testing.T) {
	tests := []struct {
		stage Stage
		r     smtp.Reply
		want  int
	}{
		{StageRcpt, smtp.R(250, "2.1.5", "OK"), ExOK},
		{StageRcpt, smtp.R(450, "4.2.0", "busy"), ExTempFail},
		{StageMail, smtp.R(421, "4.3.2", "bye"), ExTempFail},
		{StageRcpt, smtp.R(550, "5.1.1", "unknown"), ExNoUser},
		{StageRcpt, smtp.R(551, "5.1.6", "moved"), ExNoUser},
		{StageRcpt, smtp.R(556, "5.1.10", "null MX"), ExNoUser},
		{StageRcpt, smtp.R(550, "5.1.2", "no such host"), ExNoHost},
		{StageRcpt, smtp.R(501, "5.1.3", "syntax"), ExDataErr},
		{StageMail, smtp.R(501, "5.1.7", "bad sender"), ExDataErr},
		{StageMail, smtp.R(550, "5.1.1", "sender unknown"), ExDataErr},
		{StageRcpt, smtp.R(550, "5.7.1", "relay denied"), ExNoPerm},
		{StageMail, smtp.R(530, "5.7.0", "auth required"), ExNoPerm},
		{StageData, smtp.R(552, "5.3.4", "too big"), ExDataErr},
		{StageData, smtp.R(554, "5.6.0", "content"), ExDataErr},
		{StageRcpt, smtp.R(550, "", "no enhanced code"), ExNoUser},
		{StageMail, smtp.R(501, "", "syntax"), ExDataErr},
		{StageGreeting, smtp.R(554, "", "go away"), ExUnavailable},
		{StageHelo, smtp.R(500, "5.5.2", "what"), ExUnavailable},
	}
	for _, tt := range tests {
		if got := ExitCode(tt.stage, tt.r); got != tt.want {
			t.Errorf("ExitCode(%d, %d %s) = %d, want %d", tt.stage, tt.r.Code, tt.r.Enhanced, got, tt.want)
		}
	}
	if got := ExitCodeOf(ErrNotRunning); got != ExTempFail {
		t.Errorf("not running: %d", got)
	}
}

// nopConn is a net.Conn whose deadlines do nothing (readReply only sets
// deadlines on it; it reads from its own bufio.Reader).
type nopConn struct{ net.Conn }

func (nopConn) SetReadDeadline(time.Time) error { return nil }

func bufioReader(s string) *bufio.Reader { return bufio.NewReader(strings.NewReader(s)) }
