package tlsconf

import (
	"crypto/tls"
	"crypto/x509"
	"testing"

	"postgate/internal/config"
)

// The generated certificate is made once, reused, valid for the hostname
// (and loopback for the default "localhost"), and TLS 1.2 is the minimum.
func TestSelfSignedGeneratedOnceAndReused(t *testing.T) {
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	tc, generated, err := Server(cfg)
	if err != nil || !generated {
		t.Fatalf("first start: generated=%v err=%v", generated, err)
	}
	if tc.MinVersion != tls.VersionTLS12 {
		t.Fatalf("MinVersion %x", tc.MinVersion)
	}
	leaf, err := x509.ParseCertificate(tc.Certificates[0].Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"localhost", "127.0.0.1", "::1"} {
		if err := leaf.VerifyHostname(name); err != nil {
			t.Errorf("certificate not valid for %s: %v", name, err)
		}
	}
	tc2, generated, err := Server(cfg)
	if err != nil || generated {
		t.Fatalf("second start: generated=%v err=%v", generated, err)
	}
	if string(tc2.Certificates[0].Certificate[0]) != string(tc.Certificates[0].Certificate[0]) {
		t.Fatal("certificate not reused")
	}
}

func TestChannelBindingsNone(t *testing.T) {
	if cb := ChannelBindings(nil); len(cb) != 0 {
		t.Fatalf("bindings without TLS: %v", cb)
	}
}
