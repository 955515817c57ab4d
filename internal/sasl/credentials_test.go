package sasl

import (
	"crypto/x509"
	"strings"
)

// testCredentials is an in-memory Credentials source for the mechanism
// tests. It derives every secret from plaintext passwords at lookup time,
// exactly as the user store does when a password is set.
type testCredentials struct {
	passwords map[string]string // canonical user -> password
	realms    []string          // realms with a DIGEST-MD5 secret; nil = any
	certUsers map[string]string // certificate CN -> user
	authz     map[string]string // user -> identity it may act as
	salt      []byte
	iter      int
	fail      error // when set, every lookup returns it (temporary failure)
}

func newTestCredentials(userPasswords ...string) *testCredentials {
	c := &testCredentials{passwords: map[string]string{}, certUsers: map[string]string{},
		authz: map[string]string{}, salt: []byte("QSXCR+Q6sek8bf92"), iter: 4096}
	for i := 0; i+1 < len(userPasswords); i += 2 {
		c.passwords[userPasswords[i]] = userPasswords[i+1]
	}
	return c
}

func (c *testCredentials) lookup(user string) (string, string, error) {
	if c.fail != nil {
		return "", "", c.fail
	}
	pw, ok := c.passwords[user]
	if !ok {
		return "", "", ErrUnknownUser
	}
	return user, pw, nil
}

func (c *testCredentials) CheckPassword(user, password string) (string, error) {
	u, pw, err := c.lookup(user)
	if err != nil {
		return "", err
	}
	if pw != password {
		return "", ErrWrongPassword
	}
	return u, nil
}

func (c *testCredentials) CRAMMD5Secret(user string) (string, CRAMMD5Secret, error) {
	u, pw, err := c.lookup(user)
	if err != nil {
		return "", CRAMMD5Secret{}, err
	}
	return u, DeriveCRAMMD5(pw), nil
}

func (c *testCredentials) DigestMD5Secret(user, realm string) (string, [16]byte, error) {
	u, pw, err := c.lookup(user)
	if err != nil {
		return "", [16]byte{}, err
	}
	if c.realms != nil {
		found := false
		for _, r := range c.realms {
			found = found || strings.EqualFold(r, realm)
		}
		if !found {
			return "", [16]byte{}, ErrNoSecret
		}
	}
	return u, DeriveDigestMD5(user, realm, pw), nil
}

func (c *testCredentials) SCRAMSecret(user, hash string) (string, SCRAMSecret, error) {
	u, pw, err := c.lookup(user)
	if err != nil {
		return "", SCRAMSecret{}, err
	}
	s, err := DeriveSCRAM(hash, pw, c.salt, c.iter)
	return u, s, err
}

func (c *testCredentials) CertificateUser(cert *x509.Certificate) (string, error) {
	if c.fail != nil {
		return "", c.fail
	}
	if u, ok := c.certUsers[cert.Subject.CommonName]; ok {
		return u, nil
	}
	return "", ErrUnknownUser
}

func (c *testCredentials) MayAuthorize(user, authz string) bool {
	return c.authz[user] == authz
}
