package sasl

import (
	"fmt"
	"unicode/utf8"
)

// NewExternalServer returns the server side of EXTERNAL (RFC 4422
// appendix A). Authentication was done by TLS: the verified client
// certificate (info.PeerCertificate) is mapped to a user by
// creds.CertificateUser. The client's only message is an authorization
// identity, possibly empty; it may come as the initial response or in answer
// to an empty challenge.
func NewExternalServer(info ServerInfo, creds Credentials) Server {
	return &externalServer{info: info, creds: creds}
}

type externalServer struct {
	info   ServerInfo
	creds  Credentials
	step   int // 0: new; 1: empty challenge sent; 2: over
	result Result
}

func (s *externalServer) Result() Result { return s.result }

func (s *externalServer) Next(response []byte) ([]byte, bool, error) {
	switch s.step {
	case 0:
		if s.info.PeerCertificate == nil {
			s.step = 2
			return nil, true, Failf(BadCredentials, "", "no verified client certificate")
		}
		if response == nil {
			s.step = 1
			return []byte{}, false, nil
		}
	case 1:
	default:
		return nil, true, outOfOrder("")
	}
	s.step = 2
	if err := s.verify(string(response)); err != nil {
		return nil, true, err
	}
	return nil, true, nil
}

func (s *externalServer) verify(authz string) error {
	if !utf8.ValidString(authz) {
		return Failf(Malformed, "", "bad response format: authzid is not valid UTF-8")
	}
	user, err := s.creds.CertificateUser(s.info.PeerCertificate)
	if err != nil {
		e := credentialsFailure(External, "", err)
		if e.Kind == BadCredentials {
			e.Reason = fmt.Sprintf("no user mapped to client certificate subject %q", s.info.PeerCertificate.Subject.String())
		}
		return e
	}
	authz, aerr := authorizeAs(s.creds, user, user, authz)
	if aerr != nil {
		return aerr
	}
	s.result = Result{User: user, Authz: authz}
	return nil
}

// NewExternalClient returns the client side of EXTERNAL: its only message
// is authz (empty to act as the identity of its certificate), sent as the
// initial response or in answer to the server's empty challenge.
func NewExternalClient(authz string) Client {
	return &externalClient{authz: authz}
}

type externalClient struct {
	authz string
	sent  bool
}

func (c *externalClient) Start() (string, []byte, error) {
	return External, []byte(c.authz), nil
}

func (c *externalClient) Next(challenge []byte) ([]byte, error) {
	if c.sent || len(challenge) != 0 {
		return nil, Failf(Malformed, "", "EXTERNAL: unexpected server challenge")
	}
	c.sent = true
	return []byte(c.authz), nil
}
