package sasl

import "bytes"

// The LOGIN challenges; Microsoft clients expect exactly these texts.
var (
	loginUsernameChallenge = []byte("Username:")
	loginPasswordChallenge = []byte("Password:")
)

// NewLoginServer returns the server side of LOGIN
// (draft-murchison-sasl-login): challenges "Username:" and "Password:",
// the password checked with creds.CheckPassword. The username may come as
// the initial response (PowerShell, Python smtplib), in which case only
// "Password:" is asked. Like PLAIN it is offered only under TLS.
func NewLoginServer(info ServerInfo, creds Credentials) Server {
	return &loginServer{creds: creds}
}

type loginServer struct {
	creds  Credentials
	step   int // 0: new; 1: "Username:" sent; 2: "Password:" sent; 3: over
	user   string
	notes  []string
	result Result
}

func (s *loginServer) Result() Result { return s.result }

func (s *loginServer) Next(response []byte) ([]byte, bool, error) {
	switch s.step {
	case 0:
		if response == nil {
			s.step = 1
			return loginUsernameChallenge, false, nil
		}
		s.notes = append(s.notes, "username sent as initial response")
		return s.username(response)
	case 1:
		return s.username(response)
	case 2:
		s.step = 3
		if err := s.password(response); err != nil {
			return nil, true, err
		}
		return nil, true, nil
	}
	return nil, true, outOfOrder(s.user)
}

func (s *loginServer) username(response []byte) ([]byte, bool, error) {
	if len(response) == 0 {
		s.step = 3
		return nil, true, Failf(Malformed, "", "bad response format: empty username")
	}
	s.user = string(response)
	s.step = 2
	return loginPasswordChallenge, false, nil
}

func (s *loginServer) password(response []byte) error {
	if len(response) == 0 {
		return Failf(Malformed, s.user, "bad response format: empty password")
	}
	canonical, err := s.creds.CheckPassword(s.user, string(response))
	if err != nil {
		return credentialsFailure(Login, s.user, err)
	}
	s.result = Result{User: canonical, Notes: s.notes}
	return nil
}

// NewLoginClient returns the client side of LOGIN. It sends no initial
// response and answers the first challenge with the username and the second
// with the password. A challenge that names the password ("Password:") is
// answered with the password whatever its position.
func NewLoginClient(user, password string) Client {
	return &loginClient{user: user, password: password}
}

type loginClient struct {
	user, password string
	step           int // challenges answered
	sentPassword   bool
}

func (c *loginClient) Start() (string, []byte, error) {
	return Login, nil, nil
}

func (c *loginClient) Next(challenge []byte) ([]byte, error) {
	if c.sentPassword {
		return nil, Failf(Malformed, c.user, "LOGIN: unexpected challenge after the password")
	}
	c.step++
	asksPassword := bytes.Contains(bytes.ToLower(challenge), []byte("password"))
	if c.step == 1 && !asksPassword {
		return []byte(c.user), nil
	}
	c.sentPassword = true
	return []byte(c.password), nil
}
