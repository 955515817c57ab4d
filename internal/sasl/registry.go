package sasl

import "fmt"

// NewServer returns the server side of the named mechanism.
func NewServer(mech string, info ServerInfo, creds Credentials) (Server, error) {
	switch mech {
	case Plain:
		return NewPlainServer(info, creds), nil
	case Login:
		return NewLoginServer(info, creds), nil
	case CRAMMD5:
		return NewCRAMMD5Server(info, creds), nil
	case DigestMD5:
		return NewDigestMD5Server(info, creds), nil
	case SCRAMSHA1:
		return NewSCRAMServer("SHA-1", false, info, creds), nil
	case SCRAMSHA1Plus:
		return NewSCRAMServer("SHA-1", true, info, creds), nil
	case SCRAMSHA256:
		return NewSCRAMServer("SHA-256", false, info, creds), nil
	case SCRAMSHA256Plus:
		return NewSCRAMServer("SHA-256", true, info, creds), nil
	case External:
		return NewExternalServer(info, creds), nil
	}
	return nil, fmt.Errorf("unknown SASL mechanism %q", mech)
}

// ClientCredentials are what the client side of a mechanism may need.
type ClientCredentials struct {
	Authz    string
	User     string
	Password string
}

// NewClient returns the client side of the named mechanism.
func NewClient(mech string, c ClientCredentials, info ClientInfo) (Client, error) {
	switch mech {
	case Plain:
		return NewPlainClient(c.Authz, c.User, c.Password), nil
	case Login:
		return NewLoginClient(c.User, c.Password), nil
	case CRAMMD5:
		return NewCRAMMD5Client(c.User, c.Password), nil
	case DigestMD5:
		return NewDigestMD5Client(c.Authz, c.User, c.Password, info), nil
	case SCRAMSHA1:
		return NewSCRAMClient("SHA-1", false, c.Authz, c.User, c.Password, info), nil
	case SCRAMSHA1Plus:
		return NewSCRAMClient("SHA-1", true, c.Authz, c.User, c.Password, info), nil
	case SCRAMSHA256:
		return NewSCRAMClient("SHA-256", false, c.Authz, c.User, c.Password, info), nil
	case SCRAMSHA256Plus:
		return NewSCRAMClient("SHA-256", true, c.Authz, c.User, c.Password, info), nil
	case External:
		return NewExternalClient(c.Authz), nil
	}
	return nil, fmt.Errorf("unknown SASL mechanism %q", mech)
}

// Mechanisms lists every mechanism this package implements, strongest first.
var Mechanisms = []string{SCRAMSHA256Plus, SCRAMSHA256, SCRAMSHA1Plus, SCRAMSHA1,
	External, DigestMD5, CRAMMD5, Plain, Login}
