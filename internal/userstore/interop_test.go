package userstore

import (
	"errors"
	"testing"

	"postgate/internal/sasl"
)

// exchange runs a complete SASL exchange between the sasl package's client
// and server for mech, the server looking secrets up in creds.
func exchange(t *testing.T, mech string, creds sasl.Credentials, user, password string) (sasl.Result, error) {
	t.Helper()
	var cb map[string][]byte // channel binding data only for -PLUS, as when the server offers it
	if mech == sasl.SCRAMSHA1Plus || mech == sasl.SCRAMSHA256Plus {
		cb = map[string][]byte{"tls-exporter": []byte("0123456789abcdef0123456789abcdef")}
	}
	srv, err := sasl.NewServer(mech, sasl.ServerInfo{Service: "smtp", Hostname: "mx.example.test",
		Realms: testRealms, ChannelBindings: cb, SCRAMIterations: 4096}, creds)
	if err != nil {
		t.Fatal(err)
	}
	cl, err := sasl.NewClient(mech, sasl.ClientCredentials{User: user, Password: password},
		sasl.ClientInfo{Service: "smtp", Host: "mx.example.test", ChannelBindings: cb})
	if err != nil {
		t.Fatal(err)
	}
	_, resp, err := cl.Start()
	if err != nil {
		t.Fatal(err)
	}
	for range 10 {
		challenge, done, err := srv.Next(resp)
		if err != nil {
			return sasl.Result{}, err
		}
		if done {
			return srv.Result(), nil
		}
		if resp, err = cl.Next(challenge); err != nil {
			return sasl.Result{}, err
		}
		if resp == nil {
			resp = []byte{}
		}
	}
	t.Fatalf("%s: exchange did not finish", mech)
	return sasl.Result{}, nil
}

// TestMechanismsAgainstStore logs in with every password mechanism using
// the secrets the store derived, under both username forms.
func TestMechanismsAgainstStore(t *testing.T) {
	s, _ := openTest(t)
	mustAdd(t, s, "alice", "W\u00f6rd-pass") // non-ASCII, Latin-1 representable
	mechs := []string{sasl.Plain, sasl.Login, sasl.CRAMMD5, sasl.DigestMD5,
		sasl.SCRAMSHA1, sasl.SCRAMSHA1Plus, sasl.SCRAMSHA256, sasl.SCRAMSHA256Plus}
	for _, mech := range mechs {
		for _, user := range []string{"alice", "alice@example.test"} {
			res, err := exchange(t, mech, s, user, "W\u00f6rd-pass")
			if err != nil || res.User != "alice@example.test" {
				t.Errorf("%s as %q: user %q, %v", mech, user, res.User, err)
			}
			_, err = exchange(t, mech, s, user, "wrong")
			var se *sasl.Error
			if !errors.As(err, &se) || se.Kind != sasl.BadCredentials {
				t.Errorf("%s as %q with a wrong password: got %v, want a BadCredentials failure", mech, user, err)
			}
		}
	}
}
