package sasl

import (
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"hash"
	"strconv"
)

// scramServer steps of the exchange.
const (
	scramSrvWantFirst = iota // expecting client-first (or nil: send an empty challenge)
	scramSrvWantFinal        // server-first sent, expecting client-final
	scramSrvWantEmpty        // server-final sent, expecting the empty response
	scramSrvOver             // succeeded or failed; nothing more is accepted
)

// scramServer is the server side of SCRAM-SHA-1, SCRAM-SHA-256 and their
// -PLUS variants.
type scramServer struct {
	hashName string
	mech     string
	plus     bool
	h        func() hash.Hash
	info     ServerInfo
	creds    Credentials

	step        int
	askedFirst  bool // an empty challenge was sent for a missing initial response
	gs2         scramGS2
	cbData      []byte // channel binding data the client must have used
	user        string // as the client sent it, unescaped
	canonical   string
	secret      SCRAMSecret
	failAtProof *Error // non-nil: the proof must fail with this error
	firstBare   string
	serverFirst string
	nonce       string // client nonce + server nonce
	result      Result
}

// NewSCRAMServer returns the server side of a SCRAM exchange (RFC 5802,
// RFC 7677). hash is "SHA-1" or "SHA-256"; plus selects the -PLUS variant,
// which requires channel binding data in info.ChannelBindings. Nonces come
// from info.Nonce (crypto/rand when nil). Secrets are looked up with
// creds.SCRAMSecret; an unknown user gets a plausible fake server-first
// message and fails only at the proof, with Reason "unknown user".
//
// The first Next call takes the client-first message, or nil when the
// client sent no initial response (an empty challenge is returned and the
// client-first message is expected next). A correct proof is answered with
// the server-final message ("v=...") and done == false; the client's empty
// response to it completes the exchange.
func NewSCRAMServer(hash string, plus bool, info ServerInfo, creds Credentials) Server {
	return &scramServer{
		hashName: hash,
		mech:     scramMechName(hash, plus),
		plus:     plus,
		h:        scramHashOf(hash),
		info:     info,
		creds:    creds,
	}
}

// Result implements Server.
func (s *scramServer) Result() Result { return s.result }

// Next implements Server.
func (s *scramServer) Next(response []byte) ([]byte, bool, error) {
	if s.h == nil {
		s.step = scramSrvOver
		return nil, true, Failf(Temporary, "", "unsupported SCRAM hash %q", s.hashName)
	}
	var (
		challenge []byte
		done      bool
		err       *Error
	)
	switch s.step {
	case scramSrvWantFirst:
		if response == nil && !s.askedFirst {
			s.askedFirst = true
			return []byte{}, false, nil
		}
		challenge, err = s.clientFirst(string(response))
		s.step = scramSrvWantFinal
	case scramSrvWantFinal:
		challenge, err = s.clientFinal(string(response))
		s.step = scramSrvWantEmpty
	case scramSrvWantEmpty:
		if len(response) != 0 {
			err = Failf(Malformed, s.user, "unexpected data in the response to the server-final message")
		}
		done = true
		s.step = scramSrvOver
	default:
		err = outOfOrder(s.user)
	}
	if err != nil {
		s.step = scramSrvOver
		s.result = Result{}
		return nil, true, err
	}
	return challenge, done, nil
}

// clientFirst handles the client-first message and builds server-first.
func (s *scramServer) clientFirst(msg string) ([]byte, *Error) {
	gs2, bare, perr := scramParseGS2(msg)
	if perr != nil {
		return nil, Failf(Malformed, "", "bad client-first message: %v", perr)
	}
	first, perr := scramParseClientFirstBare(bare)
	if perr != nil {
		return nil, Failf(Malformed, "", "bad client-first message: %v", perr)
	}
	s.gs2, s.user, s.firstBare = gs2, first.user, bare

	if err := s.checkChannelBinding(); err != nil {
		return nil, err
	}

	canonical, secret, lerr := s.creds.SCRAMSecret(s.user, s.hashName)
	switch {
	case lerr == nil:
		if !s.validSecret(secret) {
			return nil, Failf(Temporary, s.user, "stored %s secret for this user is invalid", s.mech)
		}
		s.canonical, s.secret = canonical, secret
	case errors.Is(lerr, ErrUnknownUser), errors.Is(lerr, ErrNoSecret):
		// Carry on with a fake secret so the client cannot tell this user
		// from a real one; the log learns the reason at the proof.
		s.secret = s.fakeSecret()
		s.failAtProof = credentialsFailure("SCRAM-"+s.hashName, s.user, lerr)
	default:
		return nil, credentialsFailure("SCRAM-"+s.hashName, s.user, lerr)
	}

	serverNonce, nerr := scramNonce(s.info.Nonce)
	if nerr != nil {
		return nil, &Error{Kind: Temporary, User: s.user, Reason: "cannot make a server nonce", Err: nerr}
	}
	s.nonce = first.nonce + serverNonce
	s.serverFirst = "r=" + s.nonce + ",s=" + scramB64.EncodeToString(s.secret.Salt) +
		",i=" + strconv.Itoa(s.secret.Iterations)
	return []byte(s.serverFirst), nil
}

// checkChannelBinding applies RFC 5802 §6 to the GS2 flag and records the
// channel binding data the client-final c= must carry.
func (s *scramServer) checkChannelBinding() *Error {
	switch s.gs2.flag {
	case 'p':
		if !s.plus {
			return Failf(Malformed, s.user, "client requested channel binding %q with %s, which has none (it must use %s-PLUS)",
				s.gs2.cbType, s.mech, s.mech)
		}
		data := s.info.ChannelBindings[s.gs2.cbType]
		if len(data) == 0 {
			return Failf(BadCredentials, s.user, "channel binding type %q is not available on this connection", s.gs2.cbType)
		}
		s.cbData = data
	case 'y':
		if s.plus {
			return Failf(Malformed, s.user, "client chose %s but sent channel binding flag y instead of p=", s.mech)
		}
		if scramHasChannelBinding(s.info.ChannelBindings) {
			return Failf(BadCredentials, s.user, "channel binding downgrade: client sent y but server supports channel binding")
		}
	case 'n':
		if s.plus {
			return Failf(Malformed, s.user, "client chose %s but sent channel binding flag n instead of p=", s.mech)
		}
	}
	return nil
}

// validSecret checks a stored secret before it is used.
func (s *scramServer) validSecret(sec SCRAMSecret) bool {
	size := s.h().Size()
	return len(sec.Salt) > 0 && sec.Iterations > 0 &&
		len(sec.StoredKey) == size && len(sec.ServerKey) == size
}

// fakeSecret returns a secret for a user without one: a salt derived from
// the name (stable across connections, like a real one), the configured
// iteration count, and keys no proof can match.
func (s *scramServer) fakeSecret() SCRAMSecret {
	m := hmac.New(sha256.New, scramFakeKey())
	m.Write([]byte(s.hashName + "\x00" + s.user))
	sum := m.Sum(nil)
	iter := s.info.SCRAMIterations
	if iter <= 0 {
		iter = scramDefaultIterations
	}
	size := s.h().Size()
	// StoredKey = H(nothing any client holds); the proof check fails anyway
	// because failAtProof is set, this only keeps the computation uniform.
	return SCRAMSecret{
		Salt:       sum[:scramFakeSaltLen],
		Iterations: iter,
		StoredKey:  scramHashSum(s.h, sum)[:size],
		ServerKey:  make([]byte, size),
	}
}

// clientFinal handles the client-final message, checks channel binding,
// nonce and proof, and builds server-final.
func (s *scramServer) clientFinal(msg string) ([]byte, *Error) {
	final, perr := scramParseClientFinal(msg)
	if perr != nil {
		return nil, Failf(Malformed, s.user, "bad client-final message: %v", perr)
	}
	if !hmac.Equal(final.cbind, scramCBInput(s.gs2.raw, s.cbData)) {
		return nil, Failf(BadCredentials, s.user, "channel binding mismatch")
	}
	if final.nonce != s.nonce {
		return nil, Failf(BadCredentials, s.user, "nonce mismatch")
	}
	size := s.h().Size()
	if len(final.proof) != size {
		return nil, Failf(Malformed, s.user, "bad client-final message: proof is %d bytes, %s needs %d",
			len(final.proof), s.mech, size)
	}

	authMessage := s.firstBare + "," + s.serverFirst + "," + final.withoutProof
	clientSignature := hmacSum(s.h, s.secret.StoredKey, authMessage)
	clientKey := scramXOR(final.proof, clientSignature)
	proofOK := hmac.Equal(scramHashSum(s.h, clientKey), s.secret.StoredKey)
	if s.failAtProof != nil {
		return nil, s.failAtProof
	}
	if !proofOK {
		return nil, Failf(BadCredentials, s.user, "wrong password")
	}

	authz, aerr := authorizeAs(s.creds, s.user, s.canonical, s.gs2.authz)
	if aerr != nil {
		return nil, aerr
	}
	s.result = Result{User: s.canonical, Authz: authz}

	serverSignature := hmacSum(s.h, s.secret.ServerKey, authMessage)
	return []byte("v=" + scramB64.EncodeToString(serverSignature)), nil
}
