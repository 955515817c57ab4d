package sasl

import (
	"bytes"
	"unicode/utf8"
)

// NewPlainServer returns the server side of PLAIN (RFC 4616). The client's
// message is `authzid NUL authcid NUL passwd`; the password is checked with
// creds.CheckPassword. PLAIN sends the password in the clear, so the caller
// offers it only under TLS.
func NewPlainServer(info ServerInfo, creds Credentials) Server {
	return &plainServer{creds: creds}
}

type plainServer struct {
	creds  Credentials
	step   int // 0: new; 1: empty challenge sent; 2: over
	result Result
}

func (s *plainServer) Result() Result { return s.result }

func (s *plainServer) Next(response []byte) ([]byte, bool, error) {
	switch s.step {
	case 0:
		if response == nil {
			// No initial response: ask for the message with an empty challenge.
			s.step = 1
			return []byte{}, false, nil
		}
	case 1:
	default:
		return nil, true, outOfOrder("")
	}
	s.step = 2
	if err := s.verify(response); err != nil {
		return nil, true, err
	}
	return nil, true, nil
}

func (s *plainServer) verify(msg []byte) error {
	// The reasons below never quote msg: it contains the password.
	fields := bytes.Split(msg, []byte{0})
	if len(fields) != 3 {
		return Failf(Malformed, "", "bad response format: %d NUL separators, want 2 (authzid NUL authcid NUL passwd)", len(fields)-1)
	}
	authz, user, password := string(fields[0]), string(fields[1]), string(fields[2])
	switch {
	case user == "":
		return Failf(Malformed, "", "bad response format: empty authcid")
	case !utf8.ValidString(user):
		return Failf(Malformed, "", "bad response format: authcid is not valid UTF-8")
	case !utf8.ValidString(authz):
		return Failf(Malformed, user, "bad response format: authzid is not valid UTF-8")
	case password == "":
		return Failf(Malformed, user, "bad response format: empty password")
	}
	canonical, err := s.creds.CheckPassword(user, password)
	if err != nil {
		return credentialsFailure(Plain, user, err)
	}
	authz, aerr := authorizeAs(s.creds, user, canonical, authz)
	if aerr != nil {
		return aerr
	}
	s.result = Result{User: canonical, Authz: authz}
	return nil
}

// NewPlainClient returns the client side of PLAIN. It sends its message as
// the initial response, or in answer to the server's empty challenge when
// the transport could not send an initial response.
func NewPlainClient(authz, user, password string) Client {
	return &plainClient{msg: []byte(authz + "\x00" + user + "\x00" + password), user: user}
}

type plainClient struct {
	msg     []byte
	user    string
	started bool
	sent    bool
}

func (c *plainClient) Start() (string, []byte, error) {
	c.started = true
	return Plain, c.msg, nil
}

func (c *plainClient) Next(challenge []byte) ([]byte, error) {
	if !c.started || c.sent || len(challenge) != 0 {
		return nil, Failf(Malformed, c.user, "PLAIN: unexpected server challenge")
	}
	c.sent = true
	return c.msg, nil
}
