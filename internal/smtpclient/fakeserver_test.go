package smtpclient

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"postgate/internal/sasl"
	"postgate/internal/smtp"
	"postgate/internal/tlsconf"
)

// fakeConn is the server end of one test connection.
type fakeConn struct {
	t    *testing.T
	conn net.Conn
	r    *bufio.Reader
	tls  *tls.ConnectionState
}

func (f *fakeConn) send(lines ...string) {
	for _, l := range lines {
		if _, err := f.conn.Write([]byte(l + "\r\n")); err != nil {
			f.t.Errorf("fake server write: %v", err)
		}
	}
}

// line reads one client line without CRLF ("" and false at EOF).
func (f *fakeConn) line() (string, bool) {
	l, err := f.r.ReadString('\n')
	if err != nil {
		return "", false
	}
	return strings.TrimSuffix(l, "\r\n"), true
}

// expect reads a line and checks it.
func (f *fakeConn) expect(want string) {
	got, ok := f.line()
	if !ok || got != want {
		f.t.Errorf("fake server got %q (ok=%v), want %q", got, ok, want)
	}
}

// startTLS runs the server handshake.
func (f *fakeConn) startTLS(cfg *tls.Config) {
	tc := tls.Server(f.conn, cfg)
	if err := tc.Handshake(); err != nil {
		f.t.Errorf("fake server handshake: %v", err)
		return
	}
	st := tc.ConnectionState()
	f.conn, f.r, f.tls = tc, bufio.NewReader(tc), &st
}

// fakeServer accepts one connection on loopback and runs script on it.
// The returned channel is closed when the script is done.
func fakeServer(t *testing.T, script func(f *fakeConn)) (string, <-chan struct{}) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	var once sync.Once
	t.Cleanup(func() { ln.Close(); <-done })
	go func() {
		defer once.Do(func() { close(done) })
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(30 * time.Second))
		script(&fakeConn{t: t, conn: c, r: bufio.NewReader(c)})
	}()
	return ln.Addr().String(), done
}

// dial connects a Client to addr with a test timeout.
func dial(t *testing.T, addr string, opts Options) *Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	c, err := Dial(ctx, addr, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// testTLS returns a server config with a fresh self-signed certificate
// for "mx.example.test" and a client config that trusts it.
func testTLS(t *testing.T, maxVersion uint16) (server, client *tls.Config) {
	t.Helper()
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := tlsconf.WriteSelfSigned(certFile, keyFile, []string{"mx.example.test"}); err != nil {
		t.Fatal(err)
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return &tls.Config{Certificates: []tls.Certificate{cert}, MaxVersion: maxVersion},
		&tls.Config{RootCAs: pool, ServerName: "mx.example.test"}
}

// memCreds is an in-memory sasl.Credentials deriving every secret from
// plaintext passwords, for the fake server's mechanisms.
type memCreds struct {
	passwords map[string]string
	realm     string // the only realm with a DIGEST-MD5 secret
}

func (m *memCreds) get(user string) (string, error) {
	pw, ok := m.passwords[user]
	if !ok {
		return "", sasl.ErrUnknownUser
	}
	return pw, nil
}

func (m *memCreds) CheckPassword(user, password string) (string, error) {
	pw, err := m.get(user)
	if err != nil {
		return "", err
	}
	if pw != password {
		return "", sasl.ErrWrongPassword
	}
	return user, nil
}

func (m *memCreds) CRAMMD5Secret(user string) (string, sasl.CRAMMD5Secret, error) {
	pw, err := m.get(user)
	return user, sasl.DeriveCRAMMD5(pw), err
}

func (m *memCreds) DigestMD5Secret(user, realm string) (string, [16]byte, error) {
	pw, err := m.get(user)
	if err != nil {
		return "", [16]byte{}, err
	}
	if realm != m.realm {
		return "", [16]byte{}, sasl.ErrNoSecret
	}
	return user, sasl.DeriveDigestMD5(user, realm, pw), nil
}

func (m *memCreds) SCRAMSecret(user, hash string) (string, sasl.SCRAMSecret, error) {
	pw, err := m.get(user)
	if err != nil {
		return "", sasl.SCRAMSecret{}, err
	}
	s, err := sasl.DeriveSCRAM(hash, pw, []byte("salt-for-tests"), 4096)
	return user, s, err
}

func (m *memCreds) CertificateUser(*x509.Certificate) (string, error) {
	return "", sasl.ErrUnknownUser
}

func (m *memCreds) MayAuthorize(user, authz string) bool { return false }

// serveAuth answers one AUTH command with postgate's own server
// mechanism, as RFC 4954 says, and returns the final reply code.
func (f *fakeConn) serveAuth(creds sasl.Credentials, info sasl.ServerInfo) int {
	line, ok := f.line()
	if !ok {
		return 0
	}
	verb, rest, _ := strings.Cut(line, " ")
	if verb != "AUTH" {
		f.t.Errorf("fake server: got %q, want AUTH", line)
		return 0
	}
	mechName, initial, hasInitial := strings.Cut(rest, " ")
	if f.tls != nil {
		info.ChannelBindings = ChannelBindings(f.tls)
	}
	mech, err := sasl.NewServer(mechName, info, creds)
	if err != nil {
		f.send("504 5.5.4 Unrecognized authentication mechanism")
		return 504
	}
	var resp []byte
	if hasInitial {
		resp = []byte{}
		if initial != "=" {
			resp, _ = base64.StdEncoding.DecodeString(initial)
		}
	}
	for {
		challenge, done, err := mech.Next(resp)
		if err != nil {
			f.send("535 5.7.8 Authentication credentials invalid")
			return 535
		}
		if done {
			f.send("235 2.7.0 Authentication successful")
			return 235
		}
		f.send("334 " + base64.StdEncoding.EncodeToString(challenge))
		l, ok := f.line()
		if !ok {
			return 0
		}
		if l == "*" {
			f.send("501 5.0.0 Authentication cancelled")
			return 501
		}
		resp, _ = base64.StdEncoding.DecodeString(l)
	}
}

// replyErr returns the reply of an *smtp.Error, or a zero reply.
func replyErr(err error) smtp.Reply {
	if e, ok := err.(*smtp.Error); ok {
		return e.Reply
	}
	return smtp.Reply{}
}
