package smtpclient

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"io"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"postgate/internal/sasl"
	"postgate/internal/smtp"
)

func TestReplyParsing(t *testing.T) {
	tests := []struct {
		name    string
		lines   []string
		want    smtp.Reply
		wantErr bool
	}{
		{"simple", []string{"250 OK"}, smtp.Reply{Code: 250, Text: "OK"}, false},
		{"enhanced", []string{"250 2.1.0 Sender ok"}, smtp.Reply{Code: 250, Enhanced: "2.1.0", Text: "Sender ok"}, false},
		{"multiline enhanced", []string{"550-5.7.1 first", "550 5.7.1 second"},
			smtp.Reply{Code: 550, Enhanced: "5.7.1", Text: "first\nsecond"}, false},
		{"class mismatch is text", []string{"550 2.0.0 odd"}, smtp.Reply{Code: 550, Text: "2.0.0 odd"}, false},
		{"bare code", []string{"250"}, smtp.Reply{Code: 250}, false},
		{"334 never enhanced", []string{"334 "}, smtp.Reply{Code: 334}, false},
		{"code changes", []string{"250-a", "251 b"}, smtp.Reply{}, true},
		{"garbage", []string{"hello"}, smtp.Reply{}, true},
		{"bad separator", []string{"250xOK"}, smtp.Reply{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr, _ := fakeServer(t, func(f *fakeConn) {
				f.send("220 fake ready")
				f.expect("NOOP")
				f.send(tt.lines...)
			})
			c := dial(t, addr, Options{})
			got, err := c.Cmd(0, "NOOP")
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if tt.wantErr {
				if !errors.Is(err, ErrBadReply) {
					t.Errorf("err = %v, want ErrBadReply", err)
				}
				return
			}
			if got != tt.want {
				t.Errorf("reply = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestGreetingRefused(t *testing.T) {
	addr, _ := fakeServer(t, func(f *fakeConn) { f.send("554 5.3.2 go away") })
	_, err := Dial(context.Background(), addr, Options{})
	if r := replyErr(err); r.Code != 554 || r.Enhanced != "5.3.2" {
		t.Fatalf("err = %v, want *smtp.Error 554 5.3.2", err)
	}
}

func TestEhloParsing(t *testing.T) {
	addr, _ := fakeServer(t, func(f *fakeConn) {
		f.send("220 mx.example.test ESMTP")
		f.expect("EHLO client.test")
		f.send("250-mx.example.test Hello client.test",
			"250-SIZE 1000",
			"250-auth DIGEST-MD5 cram-md5",
			"250-AUTH=LOGIN PLAIN",
			"250-PIPELINING",
			"250 STARTTLS")
	})
	c := dial(t, addr, Options{})
	if g := c.Greeting(); g.Code != 220 || g.Text != "mx.example.test ESMTP" {
		t.Errorf("greeting = %+v", g)
	}
	e, err := c.Ehlo("client.test")
	if err != nil {
		t.Fatal(err)
	}
	var kws []string
	for _, x := range e.List {
		kws = append(kws, x.Keyword)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"domain", e.Domain, "mx.example.test"},
		{"order", strings.Join(kws, " "), "SIZE AUTH AUTH= PIPELINING STARTTLS"},
		{"auth", strings.Join(e.AuthMechanisms, " "), "DIGEST-MD5 CRAM-MD5"},
		{"old auth", strings.Join(e.OldAuthMechanisms, " "), "LOGIN PLAIN"},
		{"mechanisms prefer AUTH", strings.Join(e.Mechanisms(), " "), "DIGEST-MD5 CRAM-MD5"},
		{"size", first(e.Params("size")), "1000"},
		{"has starttls", e.Has("StartTLS"), true},
		{"no chunking", e.Has("CHUNKING"), false},
		{"offers cram", e.OffersMechanism("cram-md5"), true},
		{"same ext", c.Extensions() == e, true},
	}
	for _, ck := range checks {
		if ck.got != ck.want {
			t.Errorf("%s: got %v, want %v", ck.name, ck.got, ck.want)
		}
	}
}

func first(s string, _ bool) string { return s }

func TestOldAuthLineOnly(t *testing.T) {
	e := parseEhlo("mx\nAUTH=PLAIN LOGIN\nSIZE")
	if got := strings.Join(e.Mechanisms(), " "); got != "PLAIN LOGIN" {
		t.Errorf("Mechanisms() = %q, want the AUTH= list", got)
	}
}

// TestAuthMechanisms runs every mechanism against postgate's own server
// mechanisms behind a fake RFC 4954 server, right and wrong passwords,
// and checks the transcript holds no secret.
func TestAuthMechanisms(t *testing.T) {
	const user, password = "alice@example.test", "correct horse"
	creds := &memCreds{passwords: map[string]string{user: password}, realm: "example.test"}
	info := sasl.ServerInfo{Service: "smtp", Hostname: "mx.example.test", Realms: []string{"example.test"}}
	mechs := []string{sasl.Plain, sasl.Login, sasl.CRAMMD5, sasl.DigestMD5, sasl.SCRAMSHA1,
		sasl.SCRAMSHA256, sasl.SCRAMSHA1Plus, sasl.SCRAMSHA256Plus}
	for _, tlsVersion := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		serverTLS, clientTLS := testTLS(t, tlsVersion)
		for _, mech := range mechs {
			for _, pw := range []string{password, "wrong password"} {
				name := tls.VersionName(tlsVersion) + "/" + mech + "/" + map[bool]string{true: "right", false: "wrong"}[pw == password]
				t.Run(name, func(t *testing.T) {
					codes := make(chan int, 1)
					addr, done := fakeServer(t, func(f *fakeConn) {
						f.send("220 fake")
						f.expect("STARTTLS")
						f.send("220 2.0.0 go ahead")
						f.startTLS(serverTLS)
						codes <- f.serveAuth(creds, info)
					})
					var trace strings.Builder
					var mu sync.Mutex
					c := dial(t, addr, Options{Trace: func(dir, line string) {
						mu.Lock()
						defer mu.Unlock()
						trace.WriteString(dir + ": " + line + "\n")
					}})
					if err := c.StartTLS(clientTLS); err != nil {
						t.Fatal(err)
					}
					// Like a real client, bind only with -PLUS: a plain SCRAM
					// client that has bindings says "y", which a server
					// offering -PLUS must treat as a downgrade.
					info := sasl.ClientInfo{Service: "smtp", Host: "mx.example.test"}
					if strings.HasSuffix(mech, "-PLUS") {
						info.ChannelBindings = c.ChannelBindings()
					}
					m, err := sasl.NewClient(mech, sasl.ClientCredentials{User: user, Password: pw}, info)
					if err != nil {
						t.Fatal(err)
					}
					res, err := c.Auth(m)
					c.Close()
					<-done
					code := <-codes
					if pw == password {
						if err != nil || code != 235 || res.Reply.Code != 235 {
							t.Fatalf("Auth: err %v, server %d, reply %+v; transcript %+v", err, code, res.Reply, res.Transcript)
						}
						if mutual(mech) != res.ServerVerified {
							t.Errorf("ServerVerified = %v for %s", res.ServerVerified, mech)
						}
					} else if r := replyErr(err); r.Code != 535 || code != 535 {
						t.Fatalf("Auth with wrong password: err %v, server %d", err, code)
					}
					if want := map[string]int{sasl.Plain: 1, sasl.Login: 3, sasl.CRAMMD5: 2, sasl.DigestMD5: 3}[mech]; want != 0 && pw == password && res.RoundTrips != want {
						t.Errorf("RoundTrips = %d, want %d", res.RoundTrips, want)
					}
					if res.Transcript[0].Dir != "C" || !strings.HasPrefix(res.Transcript[0].Text, "AUTH "+mech) {
						t.Errorf("transcript starts %+v", res.Transcript[0])
					}
					all := trace.String()
					for _, s := range res.Transcript {
						all += s.Text + "\n"
					}
					if strings.Contains(all, pw) {
						t.Errorf("password in transcript or trace:\n%s", all)
					}
					assertRedacted(t, mech, all)
				})
			}
		}
	}
}

// assertRedacted checks that proofs appear only redacted.
func assertRedacted(t *testing.T, mech, text string) {
	t.Helper()
	for _, l := range strings.Split(text, "\n") {
		msg := l
		if len(l) > 3 && l[1:3] == ": " {
			msg = l[3:]
		}
		msg = strings.TrimPrefix(msg, "334 ")
		for _, part := range strings.Split(msg, ",") {
			for _, key := range []string{"response=", "rspauth=", "p=", "v="} {
				if strings.HasPrefix(strings.TrimSpace(part), key) && strings.TrimSpace(part) != key+Redacted {
					t.Errorf("%s: %q not redacted in %q", mech, key, l)
				}
			}
		}
		if mech == sasl.Plain || mech == sasl.Login {
			if strings.Contains(l, "alice") {
				t.Errorf("%s: credentials shown in %q", mech, l)
			}
		}
	}
	if mech == sasl.DigestMD5 && !strings.Contains(text, `digest-uri="smtp/mx.example.test"`) {
		t.Errorf("DIGEST-MD5 transcript lacks the digest-uri directive:\n%s", text)
	}
}

func TestAuthNoServerProof(t *testing.T) {
	addr, _ := fakeServer(t, func(f *fakeConn) {
		f.send("220 fake")
		f.expect("AUTH DIGEST-MD5")
		f.send("334 " + b64(`realm="example.test",nonce="abc",qop="auth",charset=utf-8,algorithm=md5-sess`))
		f.line()
		f.send("235 2.7.0 welcome, whoever you are")
	})
	c := dial(t, addr, Options{})
	m, _ := sasl.NewClient(sasl.DigestMD5, sasl.ClientCredentials{User: "u", Password: "p"}, sasl.ClientInfo{Service: "smtp", Host: "h"})
	res, err := c.Auth(m)
	if !errors.Is(err, ErrNoServerProof) || res.Reply.Code != 235 || res.ServerVerified {
		t.Fatalf("err %v, result %+v; want ErrNoServerProof", err, res)
	}
}

func TestAuthBadServerProofCancels(t *testing.T) {
	addr, _ := fakeServer(t, func(f *fakeConn) {
		f.send("220 fake")
		f.expect("AUTH DIGEST-MD5")
		f.send("334 " + b64(`realm="example.test",nonce="abc",qop="auth",charset=utf-8,algorithm=md5-sess`))
		f.line()
		f.send("334 " + b64("rspauth=00000000000000000000000000000000"))
		f.expect("*")
		f.send("501 5.0.0 cancelled")
	})
	c := dial(t, addr, Options{})
	m, _ := sasl.NewClient(sasl.DigestMD5, sasl.ClientCredentials{User: "u", Password: "p"}, sasl.ClientInfo{Service: "smtp", Host: "h"})
	res, err := c.Auth(m)
	var me *MechanismError
	if !errors.As(err, &me) || me.Reply.Code != 501 {
		t.Fatalf("err = %v, want MechanismError with the 501", err)
	}
	last := res.Transcript[len(res.Transcript)-2]
	if last.Text != "*" || res.RoundTrips != 3 {
		t.Errorf("transcript %+v, round trips %d", res.Transcript, res.RoundTrips)
	}
}

func TestEmptyInitialResponse(t *testing.T) {
	addr, _ := fakeServer(t, func(f *fakeConn) {
		f.send("220 fake")
		f.expect("AUTH EXTERNAL =")
		f.send("235 2.7.0 ok")
	})
	c := dial(t, addr, Options{})
	res, err := c.Auth(sasl.NewExternalClient(""))
	if err != nil || res.RoundTrips != 1 {
		t.Fatalf("err %v, result %+v", err, res)
	}
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func TestDataDotStuffing(t *testing.T) {
	tests := []struct{ in, wire string }{
		{"hello\n", "hello\r\n.\r\n"},
		{"no final newline", "no final newline\r\n.\r\n"},
		{".leading\n..two\nmid.dot\n", "..leading\r\n...two\r\nmid.dot\r\n.\r\n"},
		{"crlf\r\n.\r\n", "crlf\r\n..\r\n.\r\n"},
		{"lone\rcr\n", "lone\rcr\r\n.\r\n"},
		{"\r.x\n", "\r.x\r\n.\r\n"},
		{"", ".\r\n"},
		{"ends with cr\r", "ends with cr\r\n.\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.wire, func(t *testing.T) {
			got := make(chan string, 1)
			addr, _ := fakeServer(t, func(f *fakeConn) {
				f.send("220 fake")
				f.expect("DATA")
				f.send("354 go")
				var b strings.Builder
				for {
					l, err := f.r.ReadString('\n')
					b.WriteString(l)
					if err != nil || l == ".\r\n" {
						break
					}
				}
				got <- b.String()
				f.send("250 2.0.0 queued")
			})
			c := dial(t, addr, Options{})
			r, err := c.Data(strings.NewReader(tt.in))
			if err != nil || r.Code != 250 {
				t.Fatalf("Data: %v %+v", err, r)
			}
			if g := <-got; g != tt.wire {
				t.Errorf("wire = %q, want %q", g, tt.wire)
			}
		})
	}
}

func TestMailTransactionAndRefusal(t *testing.T) {
	addr, _ := fakeServer(t, func(f *fakeConn) {
		f.send("220 fake")
		f.expect("MAIL FROM:<a@example.test> SIZE=10 BODY=8BITMIME")
		f.send("250 2.1.0 ok")
		f.expect("RCPT TO:<b@example.test> NOTIFY=NEVER")
		f.send("550 5.1.1 no such user")
		f.expect("QUIT")
		f.send("221 2.0.0 bye")
	})
	c := dial(t, addr, Options{})
	if err := c.Mail("a@example.test", "SIZE=10", "BODY=8BITMIME"); err != nil {
		t.Fatal(err)
	}
	err := c.Rcpt("b@example.test", "NOTIFY=NEVER")
	if r := replyErr(err); r.Code != 550 || r.Enhanced != "5.1.1" || r.Text != "no such user" {
		t.Fatalf("Rcpt err = %v", err)
	}
	if err := c.Quit(); err != nil {
		t.Fatal(err)
	}
}

func TestLMTPPerRecipientReplies(t *testing.T) {
	addr, _ := fakeServer(t, func(f *fakeConn) {
		f.send("220 lmtp")
		f.expect("LHLO me")
		f.send("250-lmtp", "250 PIPELINING")
		f.expect("MAIL FROM:<>")
		f.send("250 ok")
		for _, r := range []string{"250 ok", "550 5.1.1 nope", "250 ok"} {
			f.line()
			f.send(r)
		}
		f.expect("DATA")
		f.send("354 go")
		for {
			if l, ok := f.line(); !ok || l == "." {
				break
			}
		}
		f.send("250 2.0.0 a delivered", "452 4.2.2 c over quota")
	})
	c := dial(t, addr, Options{LMTP: true})
	if _, err := c.Ehlo("me"); err != nil {
		t.Fatal(err)
	}
	if err := c.Mail(""); err != nil {
		t.Fatal(err)
	}
	for _, rc := range []string{"a@x", "b@x", "c@x"} {
		c.Rcpt(rc)
	}
	if _, err := c.Data(strings.NewReader("x")); err == nil {
		t.Error("Data in LMTP mode should refuse")
	}
	replies, err := c.DataLMTP(strings.NewReader("hi\n"))
	if err != nil {
		t.Fatal(err)
	}
	var codes []int
	for _, r := range replies {
		codes = append(codes, r.Code)
	}
	if !slices.Equal(codes, []int{250, 452}) {
		t.Errorf("codes = %v, want one per accepted recipient [250 452]", codes)
	}
}

func TestBdat(t *testing.T) {
	addr, _ := fakeServer(t, func(f *fakeConn) {
		f.send("220 fake")
		f.expect("EHLO me")
		f.send("250-fake", "250 CHUNKING")
		f.expect("BDAT 5")
		buf := make([]byte, 5)
		io.ReadFull(f.r, buf)
		if string(buf) != "a\r\nb." {
			t.Errorf("chunk = %q", buf)
		}
		f.send("250 2.0.0 got 5 octets")
		f.expect("BDAT 0 LAST")
		f.send("250 2.0.0 queued")
	})
	c := dial(t, addr, Options{})
	if _, err := c.Bdat([]byte("x"), false); !errors.Is(err, ErrNotOffered) {
		t.Errorf("BDAT before EHLO: err = %v, want ErrNotOffered", err)
	}
	c.Ehlo("me")
	if r, err := c.Bdat([]byte("a\r\nb."), false); err != nil || r.Text != "got 5 octets" {
		t.Fatalf("Bdat: %v %q", err, r.Text)
	}
	if r, err := c.Bdat(nil, true); err != nil || r.Text != "queued" {
		t.Fatalf("Bdat LAST: %v %+v", err, r)
	}
}

func TestImplicitTLSAndChannelBindings(t *testing.T) {
	serverTLS, clientTLS := testTLS(t, 0)
	ln, err := tls.Listen("tcp", "127.0.0.1:0", serverTLS)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	serverCB := make(chan map[string][]byte, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		tc := c.(*tls.Conn)
		tc.Handshake()
		st := tc.ConnectionState()
		serverCB <- ChannelBindings(&st)
		tc.Write([]byte("220 tls ready\r\n"))
		io.Copy(io.Discard, tc)
	}()
	c := dial(t, ln.Addr().String(), Options{ImplicitTLS: true, TLSConfig: clientTLS})
	st, ok := c.TLSState()
	if !ok || st.Version != tls.VersionTLS13 {
		t.Fatalf("TLS state %v %x", ok, st.Version)
	}
	cb := c.ChannelBindings()
	scb := <-serverCB
	if len(cb["tls-exporter"]) != 32 || string(cb["tls-exporter"]) != string(scb["tls-exporter"]) {
		t.Errorf("client bindings %x differ from server's %x", cb, scb)
	}
	if err := c.StartTLS(nil); err == nil {
		t.Error("StartTLS on a TLS connection should fail")
	}
}

func TestStartTLSRefused(t *testing.T) {
	addr, _ := fakeServer(t, func(f *fakeConn) {
		f.send("220 fake")
		f.expect("STARTTLS")
		f.send("454 4.7.0 TLS not available")
	})
	c := dial(t, addr, Options{})
	err := c.StartTLS(&tls.Config{})
	if r := replyErr(err); r.Code != 454 {
		t.Fatalf("err = %v", err)
	}
	if _, ok := c.TLSState(); ok {
		t.Error("TLS reported active")
	}
}

func TestContextCancelAbortsRead(t *testing.T) {
	release, got := make(chan struct{}), make(chan struct{})
	addr, _ := fakeServer(t, func(f *fakeConn) {
		f.send("220 fake")
		f.expect("NOOP")
		close(got)
		<-release // never answers until the test ends
	})
	defer close(release)
	ctx, cancel := context.WithCancel(context.Background())
	c, err := Dial(ctx, addr, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	errc := make(chan error, 1)
	go func() { errc <- c.Noop() }()
	<-got // the client is now blocked reading the reply
	cancel()
	err = <-errc
	var ne net.Error
	if err == nil || !(errors.As(err, &ne) && ne.Timeout() || errors.Is(err, context.Canceled)) {
		t.Fatalf("Noop after cancel: %v, want a timeout or context.Canceled", err)
	}
	if err := c.Noop(); !errors.Is(err, context.Canceled) {
		t.Errorf("later command: %v, want context.Canceled", err)
	}
}

func TestCommandTimeout(t *testing.T) {
	release := make(chan struct{})
	addr, _ := fakeServer(t, func(f *fakeConn) {
		f.send("220 fake")
		f.expect("NOOP")
		<-release
	})
	defer close(release)
	c := dial(t, addr, Options{CommandTimeout: 50 * time.Millisecond})
	var ne net.Error
	if err := c.Noop(); !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("Noop: %v, want a timeout", err)
	}
}

func TestCommandRejectsCRLF(t *testing.T) {
	addr, _ := fakeServer(t, func(f *fakeConn) { f.send("220 fake"); f.line() })
	c := dial(t, addr, Options{})
	if err := c.Mail("a@b>\r\nRCPT TO:<c@d"); err == nil {
		t.Fatal("command injection accepted")
	}
}
