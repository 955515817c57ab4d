package sasl

import (
	"bytes"
	"crypto/hmac"
	"crypto/md5"
	"crypto/subtle"
	"encoding/binary"
	"encoding/hex"
	"fmt"
)

// NewCRAMMD5Server returns the server side of CRAM-MD5 (RFC 2195). The
// challenge is `<random.timestamp@hostname>` with 64 random bits; the
// response `user SP hexdigest` is checked in constant time against the
// HMAC-MD5 computed from the stored key states (creds.CRAMMD5Secret), so
// the server never needs the password.
func NewCRAMMD5Server(info ServerInfo, creds Credentials) Server {
	return &cramMD5Server{info: info, creds: creds}
}

type cramMD5Server struct {
	info      ServerInfo
	creds     Credentials
	step      int // 0: new; 1: challenge sent; 2: over
	challenge []byte
	notes     []string
	result    Result
}

func (s *cramMD5Server) Result() Result { return s.result }

func (s *cramMD5Server) Next(response []byte) ([]byte, bool, error) {
	switch s.step {
	case 0:
		if len(response) > 0 {
			s.step = 2
			return nil, true, Failf(Malformed, "", "bad response format: CRAM-MD5 takes no initial response")
		}
		if response != nil {
			s.notes = append(s.notes, "empty initial response ignored")
		}
		s.step = 1
		s.challenge = cramMD5Challenge(s.info)
		return s.challenge, false, nil
	case 1:
		s.step = 2
		if err := s.verify(response); err != nil {
			return nil, true, err
		}
		return nil, true, nil
	}
	return nil, true, outOfOrder("")
}

// cramMD5Challenge builds the RFC 2195 challenge, a msg-id in RFC 822 form.
func cramMD5Challenge(info ServerInfo) []byte {
	host := info.Hostname
	if host == "" {
		host = "localhost"
	}
	random := binary.BigEndian.Uint64(serverRandom(info, 8))
	return fmt.Appendf(nil, "<%d.%d@%s>", random, serverNow(info).Unix(), host)
}

func (s *cramMD5Server) verify(response []byte) error {
	// The username may itself contain spaces: the digest follows the last one.
	i := bytes.LastIndexByte(response, ' ')
	switch {
	case i < 0:
		return Failf(Malformed, "", "bad response format: no space between username and digest")
	case i == 0:
		return Failf(Malformed, "", "bad response format: empty username")
	}
	user, digestHex := string(response[:i]), response[i+1:]
	if len(digestHex) != 2*md5.Size {
		return Failf(Malformed, user, "bad response format: digest is %d characters, want %d hex digits", len(digestHex), 2*md5.Size)
	}
	var digest [md5.Size]byte
	if _, err := hex.Decode(digest[:], digestHex); err != nil {
		return Failf(Malformed, user, "bad response format: digest is not hexadecimal")
	}
	if !bytes.Equal(digestHex, bytes.ToLower(digestHex)) {
		s.notes = append(s.notes, "digest in upper-case hex")
	}
	canonical, secret, err := s.creds.CRAMMD5Secret(user)
	if err != nil {
		return credentialsFailure(CRAMMD5, user, err)
	}
	want := secret.Digest(s.challenge)
	if subtle.ConstantTimeCompare(want[:], digest[:]) != 1 {
		return Failf(BadCredentials, user, "wrong password")
	}
	s.result = Result{User: canonical, Notes: s.notes}
	return nil
}

// NewCRAMMD5Client returns the client side of CRAM-MD5: it answers the
// server's challenge with `user SP hex(HMAC-MD5(password, challenge))`.
func NewCRAMMD5Client(user, password string) Client {
	return &cramMD5Client{user: user, password: password}
}

type cramMD5Client struct {
	user, password string
	answered       bool
}

func (c *cramMD5Client) Start() (string, []byte, error) {
	return CRAMMD5, nil, nil
}

func (c *cramMD5Client) Next(challenge []byte) ([]byte, error) {
	if c.answered {
		return nil, Failf(Malformed, c.user, "CRAM-MD5: unexpected second challenge")
	}
	if len(challenge) == 0 {
		return nil, Failf(Malformed, c.user, "CRAM-MD5: empty challenge")
	}
	c.answered = true
	m := hmac.New(md5.New, []byte(c.password))
	m.Write(challenge)
	return hex.AppendEncode([]byte(c.user+" "), m.Sum(nil)), nil
}
