package smtpserver

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"postgate/internal/config"
	"postgate/internal/sasl"
	"postgate/internal/tlsconf"
)

// testCA makes a CA and a client certificate for CN; it returns the CA
// PEM file and the client certificate.
func testCA(t *testing.T, cn string) (string, tls.Certificate) {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return p, tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// connState is one way of reaching the server.
type connState struct {
	name       string
	listener   string
	starttls   bool
	maxVersion uint16
	clientCert bool
}

// dialState connects and returns the client, after EHLO (and TLS).
func (ts *testServer) dialState(t *testing.T, st connState, cert tls.Certificate) (*client, *tls.ConnectionState, string) {
	t.Helper()
	tc := &tls.Config{InsecureSkipVerify: true, MaxVersion: st.maxVersion}
	if st.clientCert {
		tc.Certificates = []tls.Certificate{cert}
	}
	var conn net.Conn
	var err error
	if st.listener == ListenerSubmissions {
		conn, err = tls.Dial("tcp", ts.addrs[st.listener], tc)
	} else {
		conn, err = net.Dial("tcp", ts.addrs[st.listener])
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	c := &client{t: t, conn: conn, r: bufio.NewReader(conn)}
	c.expect("220")
	ehlo := c.cmd("EHLO matrix", "250")
	if st.starttls {
		c.cmd("STARTTLS", "220")
		tconn := tls.Client(conn, tc)
		if err := tconn.Handshake(); err != nil {
			t.Fatal(err)
		}
		c.conn, c.r = tconn, bufio.NewReader(tconn)
		ehlo = c.cmd("EHLO matrix", "250")
	}
	if tcn, ok := c.conn.(*tls.Conn); ok {
		s := tcn.ConnectionState()
		return c, &s, ehlo
	}
	return c, nil, ehlo
}

// clientBindings computes channel bindings as the server does.
func clientBindings(st *tls.ConnectionState) map[string][]byte {
	if st == nil {
		return nil
	}
	return tlsconf.ChannelBindings(st)
}

// authenticate runs one exchange with our own client mechanism and returns
// the final reply.
func authenticate(t *testing.T, c *client, mech sasl.Client) string {
	t.Helper()
	name, ir, err := mech.Start()
	if err != nil {
		t.Fatal(err)
	}
	line := "AUTH " + name
	if ir != nil {
		if len(ir) == 0 {
			line += " ="
		} else {
			line += " " + base64.StdEncoding.EncodeToString(ir)
		}
	}
	c.send(line + "\r\n")
	for {
		r := c.reply()
		if !strings.HasPrefix(r, "334 ") {
			return r
		}
		ch, err := base64.StdEncoding.DecodeString(r[4:])
		if err != nil {
			t.Fatal(err)
		}
		resp, err := mech.Next(ch)
		if err != nil {
			c.send("*\r\n")
			return "client: " + err.Error() + " / " + c.reply()
		}
		c.send(base64.StdEncoding.EncodeToString(resp) + "\r\n")
	}
}

// TestMechanismMatrix runs every mechanism with our own client against the
// server in every TLS state and listener: where the mechanism is offered,
// the right password succeeds and a wrong one fails with 535; where it is
// not, AUTH is refused with the policy's reply.
func TestMechanismMatrix(t *testing.T) {
	caFile, cert := testCA(t, "alice@example.test")
	ts := startServer(t, func(c *config.Config) {
		c.TLS.ClientCAFile = caFile
		c.Auth.MaxFailuresPerSession = 100
	})
	states := []connState{
		{name: "smtp/plain", listener: ListenerSMTP},
		{name: "smtp/starttls", listener: ListenerSMTP, starttls: true},
		{name: "smtp/starttls-tls12", listener: ListenerSMTP, starttls: true, maxVersion: tls.VersionTLS12},
		{name: "submission/starttls-cert", listener: ListenerSubmission, starttls: true, clientCert: true},
		{name: "submissions", listener: ListenerSubmissions},
		{name: "submissions/tls12-cert", listener: ListenerSubmissions, maxVersion: tls.VersionTLS12, clientCert: true},
	}
	for _, st := range states {
		for _, mech := range sasl.Mechanisms {
			t.Run(st.name+"/"+mech, func(t *testing.T) {
				c, tlsState, ehlo := ts.dialState(t, st, cert)
				c.t = t
				offered := strings.Contains(ehlo+" ", " "+mech+" ") || strings.Contains(ehlo+"\n", " "+mech+"\n")
				plus := strings.HasSuffix(mech, "-PLUS")
				if plus && tlsState == nil {
					// Our client cannot even start -PLUS without TLS; the server refuses it too.
					c.cmd("AUTH "+mech, "538 5.7.11")
					return
				}
				// A client using plain SCRAM where -PLUS is offered says "n" (as
				// gsasl --no-cb does); "y" there is a downgrade and must fail.
				info := sasl.ClientInfo{Service: "smtp", Host: "mail.example.test"}
				if plus {
					info.ChannelBindings = clientBindings(tlsState)
				}
				good, _ := sasl.NewClient(mech, sasl.ClientCredentials{User: "alice", Password: "pw-alice"}, info)
				r := authenticate(t, c, good)
				wantTLS := mech == sasl.Plain || mech == sasl.Login
				switch {
				case !offered && wantTLS && tlsState == nil:
					if !strings.HasPrefix(r, "538 5.7.11") {
						t.Fatalf("not offered without TLS, AUTH got %q, want 538 5.7.11", r)
					}
					return
				case !offered:
					if mech != sasl.External || st.clientCert {
						t.Fatalf("%s not offered in state %s:\n%s", mech, st.name, ehlo)
					}
					if !strings.HasPrefix(r, "538 5.7.11") {
						t.Fatalf("EXTERNAL without a certificate got %q", r)
					}
					return
				}
				if !strings.HasPrefix(r, "235 2.7.0") {
					t.Fatalf("right credentials: %q\n%s", r, ts.logs.String())
				}
				if mech == sasl.External {
					return // no password to get wrong
				}
				c2, tlsState2, _ := ts.dialState(t, st, cert)
				c2.t = t
				if plus {
					info.ChannelBindings = clientBindings(tlsState2)
				}
				bad, _ := sasl.NewClient(mech, sasl.ClientCredentials{User: "alice", Password: "wrong"}, info)
				if r := authenticate(t, c2, bad); !strings.HasPrefix(r, "535 5.7.8") {
					t.Fatalf("wrong password: %q", r)
				}
			})
		}
	}
}

// A SCRAM client that has channel binding but says "y" while the server
// offers -PLUS is being downgraded by someone in between: refused.
func TestSCRAMDowngradeRefused(t *testing.T) {
	ts := startServer(t, nil)
	c, st, _ := ts.dialState(t, connState{listener: ListenerSubmissions}, tls.Certificate{})
	info := sasl.ClientInfo{Service: "smtp", Host: "mail.example.test", ChannelBindings: clientBindings(st)}
	m, _ := sasl.NewClient(sasl.SCRAMSHA256, sasl.ClientCredentials{User: "alice", Password: "pw-alice"}, info)
	if r := authenticate(t, c, m); !strings.HasPrefix(r, "535 5.7.8") {
		t.Fatalf("downgraded exchange got %q", r)
	}
	if !strings.Contains(ts.logs.String(), "downgrade") {
		t.Fatal("log does not name the downgrade")
	}
}
