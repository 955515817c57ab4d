// Package tlsconf builds the server's TLS configuration: TLS 1.2 or later,
// the configured certificate or a self-signed one generated into the data
// directory on first start and reused after, and optional client
// certificates for AUTH EXTERNAL.
package tlsconf

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"

	"postgate/internal/config"
)

// Server returns the TLS configuration for the listeners. generated
// reports that a self-signed certificate was created now.
func Server(cfg *config.Config) (tc *tls.Config, generated bool, err error) {
	certFile, keyFile := cfg.TLS.CertFile, cfg.TLS.KeyFile
	if certFile == "" {
		certFile, keyFile = cfg.Path("tls", "cert.pem"), cfg.Path("tls", "key.pem")
		if _, err := os.Stat(certFile); errors.Is(err, os.ErrNotExist) {
			names := append([]string{cfg.Hostname}, cfg.Aliases...)
			if cfg.Hostname == "localhost" {
				// The default setup is reached as 127.0.0.1 too.
				names = append(names, "127.0.0.1", "::1")
			}
			if err := WriteSelfSigned(certFile, keyFile, names); err != nil {
				return nil, false, err
			}
			generated = true
		}
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, false, fmt.Errorf("tls: %w", err)
	}
	tc = &tls.Config{
		Certificates: []tls.Certificate{cert},
		MinVersion:   tls.VersionTLS12,
	}
	if cfg.TLS.ClientCAFile != "" {
		pemBytes, err := os.ReadFile(cfg.TLS.ClientCAFile)
		if err != nil {
			return nil, false, fmt.Errorf("tls.client_ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pemBytes) {
			return nil, false, fmt.Errorf("tls.client_ca_file: no certificates in %s", cfg.TLS.ClientCAFile)
		}
		tc.ClientCAs = pool
		tc.ClientAuth = tls.VerifyClientCertIfGiven
	}
	return tc, generated, nil
}

// WriteSelfSigned creates an ECDSA P-256 certificate valid for names
// (host names or IP addresses) for ten years, and its key (mode 0600).
func WriteSelfSigned(certFile, keyFile string, names []string) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: names[0], Organization: []string{"postgate self-signed"}},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().AddDate(10, 0, 0),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
	}
	for _, n := range names {
		if ip := net.ParseIP(n); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(certFile), 0o700); err != nil {
		return err
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		return err
	}
	return os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
}

// ChannelBindings returns the channel binding data SCRAM-*-PLUS can use on
// a connection: tls-exporter (RFC 9266) on TLS 1.3, tls-unique (RFC 5929)
// on TLS 1.2. Server and client compute it here, the same way. A nil
// state has none.
func ChannelBindings(st *tls.ConnectionState) map[string][]byte {
	cb := map[string][]byte{}
	if st == nil {
		return cb
	}
	switch {
	case st.Version >= tls.VersionTLS13:
		if b, err := st.ExportKeyingMaterial("EXPORTER-Channel-Binding", nil, 32); err == nil {
			cb["tls-exporter"] = b
		}
	case len(st.TLSUnique) > 0:
		cb["tls-unique"] = st.TLSUnique
	}
	return cb
}
