package sasl

import (
	"crypto/hmac"
	"crypto/pbkdf2"
	"hash"
	"strings"
)

// scramClient steps of the exchange.
const (
	scramCliStart     = iota // Start not called yet
	scramCliWantFirst        // client-first sent, expecting server-first
	scramCliWantFinal        // client-final sent, expecting server-final
	scramCliOver             // succeeded or failed
)

// scramClient is the client side of SCRAM-SHA-1, SCRAM-SHA-256 and their
// -PLUS variants.
type scramClient struct {
	hashName string
	mech     string
	plus     bool
	h        func() hash.Hash
	authz    string
	user     string
	password string
	info     ClientInfo

	step            int
	resent          bool // client-first was sent again after an empty challenge
	gs2             string
	cbData          []byte
	firstBare       string
	clientNonce     string
	serverSignature []byte
}

// NewSCRAMClient returns the client side of a SCRAM exchange (RFC 5802,
// RFC 7677). hash is "SHA-1" or "SHA-256"; plus selects the -PLUS variant,
// which binds to "tls-exporter" when info.ChannelBindings has it and to
// "tls-unique" otherwise. A non-PLUS client with channel binding data
// available sends the "y" flag, so a server offering -PLUS detects a
// downgrade. authz is the authorization identity ("" for none). The
// password is used as given (no SASLprep), matching DeriveSCRAM.
//
// Start returns the client-first message as the initial response. Next
// answers server-first with client-final, and verifies the server signature
// in server-final, returning the empty response the caller must send.
func NewSCRAMClient(hash string, plus bool, authz, user, password string, info ClientInfo) Client {
	return &scramClient{
		hashName: hash,
		mech:     scramMechName(hash, plus),
		plus:     plus,
		h:        scramHashOf(hash),
		authz:    authz,
		user:     user,
		password: password,
		info:     info,
	}
}

// Start implements Client.
func (c *scramClient) Start() (string, []byte, error) {
	if c.step != scramCliStart {
		return c.mech, nil, c.fail(Failf(Malformed, c.user, "step out of order: Start called twice"))
	}
	if c.h == nil {
		return c.mech, nil, c.fail(Failf(Temporary, c.user, "unsupported SCRAM hash %q", c.hashName))
	}
	if c.user == "" || strings.IndexByte(c.user, 0) >= 0 || strings.IndexByte(c.authz, 0) >= 0 {
		return c.mech, nil, c.fail(Failf(Malformed, c.user, "user name is empty or contains NUL"))
	}
	switch {
	case c.plus:
		cbType := "tls-exporter"
		if len(c.info.ChannelBindings[cbType]) == 0 {
			cbType = "tls-unique"
		}
		c.cbData = c.info.ChannelBindings[cbType]
		if len(c.cbData) == 0 {
			return c.mech, nil, c.fail(Failf(Temporary, c.user, "%s needs channel binding data (tls-exporter or tls-unique), none is available", c.mech))
		}
		c.gs2 = "p=" + cbType + ","
	case scramHasChannelBinding(c.info.ChannelBindings):
		c.gs2 = "y,"
	default:
		c.gs2 = "n,"
	}
	if c.authz != "" {
		c.gs2 += "a=" + scramEscape(c.authz)
	}
	c.gs2 += ","

	nonce, err := scramNonce(c.info.Nonce)
	if err != nil {
		return c.mech, nil, c.fail(&Error{Kind: Temporary, User: c.user, Reason: "cannot make a client nonce", Err: err})
	}
	c.clientNonce = nonce
	c.firstBare = "n=" + scramEscape(c.user) + ",r=" + nonce
	c.step = scramCliWantFirst
	return c.mech, []byte(c.gs2 + c.firstBare), nil
}

// Next implements Client.
func (c *scramClient) Next(challenge []byte) ([]byte, error) {
	switch c.step {
	case scramCliWantFirst:
		if len(challenge) == 0 && !c.resent {
			// The transport could not send the initial response and the
			// server asked for it with an empty challenge.
			c.resent = true
			return []byte(c.gs2 + c.firstBare), nil
		}
		resp, err := c.serverFirst(string(challenge))
		if err != nil {
			return nil, c.fail(err)
		}
		c.step = scramCliWantFinal
		return resp, nil
	case scramCliWantFinal:
		if err := c.serverFinal(string(challenge)); err != nil {
			return nil, c.fail(err)
		}
		c.step = scramCliOver
		return []byte{}, nil
	}
	return nil, c.fail(Failf(Malformed, c.user, "step out of order: unexpected challenge"))
}

// fail ends the exchange and returns err.
func (c *scramClient) fail(err *Error) error {
	c.step = scramCliOver
	c.password = ""
	return err
}

// serverFirst checks server-first, computes the proof and returns
// client-final.
func (c *scramClient) serverFirst(msg string) ([]byte, *Error) {
	if strings.HasPrefix(msg, "e=") {
		return nil, Failf(BadCredentials, c.user, "server rejected authentication: %s", scramSafeText(msg[2:]))
	}
	sf, err := scramParseServerFirst(msg)
	if err != nil {
		return nil, Failf(Malformed, c.user, "bad server-first message: %v", err)
	}
	if !strings.HasPrefix(sf.nonce, c.clientNonce) || len(sf.nonce) == len(c.clientNonce) {
		return nil, Failf(Malformed, c.user, "bad server-first message: nonce does not extend the client nonce")
	}
	if len(sf.salt) == 0 {
		return nil, Failf(Malformed, c.user, "bad server-first message: empty salt")
	}

	size := c.h().Size()
	salted, kerr := pbkdf2.Key(c.h, c.password, sf.salt, sf.iter, size)
	c.password = ""
	if kerr != nil {
		return nil, &Error{Kind: Temporary, User: c.user, Reason: "cannot derive the salted password", Err: kerr}
	}
	clientKey := hmacSum(c.h, salted, "Client Key")
	storedKey := scramHashSum(c.h, clientKey)
	serverKey := hmacSum(c.h, salted, "Server Key")

	withoutProof := "c=" + scramB64.EncodeToString(scramCBInput(c.gs2, c.cbData)) + ",r=" + sf.nonce
	authMessage := c.firstBare + "," + msg + "," + withoutProof
	proof := scramXOR(clientKey, hmacSum(c.h, storedKey, authMessage))
	c.serverSignature = hmacSum(c.h, serverKey, authMessage)
	return []byte(withoutProof + ",p=" + scramB64.EncodeToString(proof)), nil
}

// serverFinal verifies the server signature in server-final.
func (c *scramClient) serverFinal(msg string) *Error {
	verifier, serverErr, err := scramParseServerFinal(msg)
	if err != nil {
		return Failf(Malformed, c.user, "bad server-final message: %v", err)
	}
	if serverErr != "" {
		return Failf(BadCredentials, c.user, "server rejected authentication: %s", scramSafeText(serverErr))
	}
	if !hmac.Equal(verifier, c.serverSignature) {
		return Failf(BadCredentials, c.user, "server signature mismatch")
	}
	return nil
}

// scramSafeText shortens a server-supplied error value for a log line and
// keeps only printable ASCII.
func scramSafeText(s string) string {
	if i := strings.IndexByte(s, ','); i >= 0 {
		s = s[:i]
	}
	if len(s) > 100 {
		s = s[:100]
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e {
			return '?'
		}
		return r
	}, s)
}
