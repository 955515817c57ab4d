package sasl

import (
	"crypto/md5"
	"crypto/subtle"
	"encoding/hex"
	"strings"
)

// NewDigestMD5Client returns the client side of DIGEST-MD5 (RFC 2831) with
// qop "auth" and md5-sess. It answers the challenge with realm = the first
// realm offered (none if none is), digest-uri = info.Service "/" info.Host,
// a cnonce of 16 bytes from info.Nonce, nc=00000001 and charset=utf-8 when
// the server offers it; it then checks the server's rspauth, failing when
// the server did not prove knowledge of the password (mutual authentication).
func NewDigestMD5Client(authz, user, password string, info ClientInfo) Client {
	return &digestMD5Client{authz: authz, user: user, password: password, info: info}
}

type digestMD5Client struct {
	authz, user, password string
	info                  ClientInfo
	// cnonce is the client nonce. Only tests set it before the challenge,
	// to reproduce RFC 2831's example; otherwise it is random.
	cnonce  string
	step    int // 0: waiting for the challenge; 1: waiting for rspauth; 2: over
	rspauth [md5.Size]byte
}

func (c *digestMD5Client) Start() (string, []byte, error) {
	return DigestMD5, nil, nil
}

func (c *digestMD5Client) Next(challenge []byte) ([]byte, error) {
	switch c.step {
	case 0:
		c.step = 2
		resp, err := c.respond(challenge)
		if err != nil {
			return nil, err
		}
		c.step = 1
		return resp, nil
	case 1:
		c.step = 2
		if err := c.checkRspauth(challenge); err != nil {
			return nil, err
		}
		return []byte{}, nil
	}
	return nil, Failf(Malformed, c.user, "DIGEST-MD5: unexpected challenge after rspauth")
}

func (c *digestMD5Client) fail(format string, args ...any) *Error {
	return Failf(Malformed, c.user, "DIGEST-MD5 server challenge: "+format, args...)
}

func (c *digestMD5Client) respond(challenge []byte) ([]byte, error) {
	ds, err := parseDigestDirectives(challenge)
	if err != nil {
		return nil, c.fail("%v", err)
	}
	var realms []string
	var nonce, charset, algorithm, qops string
	var haveQop bool
	for _, d := range ds {
		switch d.name {
		case "realm":
			realms = append(realms, d.value)
		case "nonce":
			if nonce != "" {
				return nil, c.fail("nonce repeated")
			}
			nonce = d.value
		case "qop":
			qops, haveQop = d.value, true
		case "charset":
			charset = d.value
		case "algorithm":
			algorithm = d.value
		case "rspauth":
			return nil, c.fail("rspauth before any response")
		}
	}
	if nonce == "" {
		return nil, c.fail("nonce missing")
	}
	if !strings.EqualFold(algorithm, "md5-sess") {
		return nil, c.fail("algorithm %q, want md5-sess", algorithm)
	}
	if haveQop {
		offersAuth := false
		for q := range strings.SplitSeq(qops, ",") {
			offersAuth = offersAuth || strings.EqualFold(strings.TrimSpace(q), "auth")
		}
		if !offersAuth {
			return nil, c.fail("qop %q does not offer auth", qops)
		}
	}
	utf8Charset := strings.EqualFold(charset, "utf-8")

	// The realm comes back exactly as offered; its text (for the hash) is
	// UTF-8 with charset=utf-8 and ISO 8859-1 without.
	var realmWire, realmText string
	if len(realms) > 0 {
		realmWire = realms[0]
		realmText = realmWire
		if !utf8Charset {
			realmText = latin1ToUTF8(realmWire)
		}
	}
	userWire := c.user
	if !utf8Charset {
		l1, ok1 := latin1(c.user)
		_, ok2 := latin1(c.password)
		if !ok1 || !ok2 {
			return nil, Failf(Malformed, c.user, "DIGEST-MD5: username or password not representable in ISO 8859-1 and the server does not offer charset=utf-8")
		}
		userWire = l1
	}
	if c.cnonce == "" {
		c.cnonce = hex.EncodeToString(randomFrom(c.info.Nonce, 16))
	}
	p := digestMD5Params{
		nonce:     nonce,
		cnonce:    c.cnonce,
		nc:        "00000001",
		qop:       "auth",
		digestURI: serviceName(c.info.Service) + "/" + c.info.Host,
		authzid:   c.authz,
	}
	ha1 := DeriveDigestMD5(c.user, realmText, c.password)
	proof := digestMD5Proof(ha1, p, "AUTHENTICATE:")
	c.rspauth = digestMD5Proof(ha1, p, ":")

	var b strings.Builder
	if utf8Charset {
		b.WriteString("charset=utf-8,")
	}
	b.WriteString("username=" + quoteDigest(userWire))
	if len(realms) > 0 {
		b.WriteString(",realm=" + quoteDigest(realmWire))
	}
	b.WriteString(",nonce=" + quoteDigest(nonce) + ",nc=" + p.nc + ",cnonce=" + quoteDigest(p.cnonce) +
		",digest-uri=" + quoteDigest(p.digestURI) + ",response=" + hex.EncodeToString(proof[:]) + ",qop=auth")
	if c.authz != "" {
		b.WriteString(",authzid=" + quoteDigest(c.authz))
	}
	return []byte(b.String()), nil
}

// checkRspauth verifies the server's rspauth, proof that it knows the
// password too.
func (c *digestMD5Client) checkRspauth(challenge []byte) error {
	ds, err := parseDigestDirectives(challenge)
	if err != nil {
		return Failf(Malformed, c.user, "DIGEST-MD5 server final message: %v", err)
	}
	for _, d := range ds {
		if d.name != "rspauth" {
			continue
		}
		var got [md5.Size]byte
		if len(d.value) != 2*md5.Size {
			break
		}
		if _, err := hex.Decode(got[:], []byte(d.value)); err != nil {
			break
		}
		if subtle.ConstantTimeCompare(got[:], c.rspauth[:]) != 1 {
			return Failf(BadCredentials, c.user, "DIGEST-MD5: server's rspauth is wrong (mutual authentication failed)")
		}
		return nil
	}
	return Failf(Malformed, c.user, "DIGEST-MD5 server final message: no valid rspauth")
}
