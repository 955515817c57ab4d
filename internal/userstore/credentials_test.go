package userstore

import (
	"bytes"
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"postgate/internal/sasl"
)

func TestCheckPassword(t *testing.T) {
	s, _ := openTest(t)
	mustAdd(t, s, "alice", "correct horse")
	for _, tc := range []struct {
		user, pw string
		want     error
	}{
		{"alice", "correct horse", nil},
		{"alice@example.test", "correct horse", nil},
		{"alice", "correct horsE", sasl.ErrWrongPassword},
		{"alice", "", sasl.ErrWrongPassword},
		{"nobody", "correct horse", sasl.ErrUnknownUser},
		{"not valid@", "correct horse", sasl.ErrUnknownUser},
	} {
		got, err := s.CheckPassword(tc.user, tc.pw)
		if !errors.Is(err, tc.want) || (tc.want == nil && got != "alice@example.test") {
			t.Errorf("CheckPassword(%q) = %q, %v; want %v", tc.user, got, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "horse") {
			t.Errorf("error %q contains the password", err)
		}
	}
	// The unknown-user path hashed against the dummy.
	if s.dummy == "" {
		t.Error("unknown user did not spend a hash computation")
	}
	var phc string
	if err := s.db.QueryRow(`SELECT data FROM secrets WHERE kind = 'password'`).Scan(&phc); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(phc, "$argon2id$v=19$m=8,t=1,p=1$") {
		t.Errorf("stored hash %q is not an argon2id PHC string with the configured cost", phc)
	}
}

func TestPHC(t *testing.T) {
	phc := hashPassword("pw", cheapArgon2)
	if ok, err := verifyPassword(phc, "pw"); !ok || err != nil {
		t.Fatalf("verify own hash: %v, %v", ok, err)
	}
	if phc2 := hashPassword("pw", cheapArgon2); phc2 == phc {
		t.Error("two hashes of one password are equal: salt not random")
	}
	for _, bad := range []string{
		"",
		"$argon2i$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$m=8,t=0,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$m=99999999,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$m=8,t=1,p=1$!!$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$m=8,t=1,p=1,x=2$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
	} {
		if _, err := verifyPassword(bad, "pw"); !errors.Is(err, errBadHash) {
			t.Errorf("verifyPassword(%q): got %v, want errBadHash", bad, err)
		}
	}
}

func TestCRAMMD5Secret(t *testing.T) {
	s, _ := openTest(t)
	mustAdd(t, s, "tim", "tanstaaftanstaaf")
	// RFC 2195 §2 example.
	const challenge = "<1896.697170952@postoffice.reston.mci.net>"
	const want = "b913a602c7eda7a495b4e6e7334d3890"
	for _, user := range []string{"tim", "tim@example.test", "tim@EXAMPLE.TEST"} {
		canon, sec, err := s.CRAMMD5Secret(user)
		if err != nil {
			t.Fatalf("CRAMMD5Secret(%q): %v", user, err)
		}
		d := sec.Digest([]byte(challenge))
		if canon != "tim@example.test" || hex.EncodeToString(d[:]) != want {
			t.Errorf("CRAMMD5Secret(%q) = %q, digest %x; want tim@example.test, %s", user, canon, d, want)
		}
	}
	if _, _, err := s.CRAMMD5Secret("tom"); !errors.Is(err, sasl.ErrUnknownUser) {
		t.Errorf("unknown user: got %v", err)
	}
}

func TestDigestMD5Secret(t *testing.T) {
	s, _ := openTest(t)
	mustAdd(t, s, "alice", "pw-alice")
	mustAdd(t, s, "bob@other.test", "pw-bob")
	for _, tc := range []struct {
		user, realm string
		// hashed is the username and realm the HA1 must be computed over.
		hashedUser, hashedRealm string
		canon                   string
		want                    error
	}{
		{"alice", "mx.example.test", "alice", "mx.example.test", "alice@example.test", nil},
		{"alice@example.test", "mx.example.test", "alice@example.test", "mx.example.test", "alice@example.test", nil},
		{"alice", "MX.Example.Test", "alice", "mx.example.test", "alice@example.test", nil},
		{"alice@example.test", "other.realm", "alice@example.test", "Other.Realm", "alice@example.test", nil},
		{"alice", "missing.realm", "", "", "", sasl.ErrNoSecret},
		{"bob@other.test", "mx.example.test", "bob@other.test", "mx.example.test", "bob@other.test", nil},
		// bare "bob" is bob@example.test, who does not exist
		{"bob", "mx.example.test", "", "", "", sasl.ErrUnknownUser},
	} {
		canon, ha1, err := s.DigestMD5Secret(tc.user, tc.realm)
		if !errors.Is(err, tc.want) {
			t.Errorf("DigestMD5Secret(%q, %q): got %v, want %v", tc.user, tc.realm, err, tc.want)
			continue
		}
		if tc.want != nil {
			continue
		}
		pw := "pw-alice"
		if strings.HasPrefix(tc.user, "bob") {
			pw = "pw-bob"
		}
		if want := sasl.DeriveDigestMD5(tc.hashedUser, tc.hashedRealm, pw); ha1 != want || canon != tc.canon {
			t.Errorf("DigestMD5Secret(%q, %q) = %q, %x; want %q, %x", tc.user, tc.realm, canon, ha1, tc.canon, want)
		}
	}
	// No bare-local-part HA1 for a user outside the default domain.
	var n int
	if err := s.db.QueryRow(`SELECT COUNT(*) FROM secrets WHERE address = 'bob@other.test' AND kind = 'DIGEST-MD5' AND authcid = 'bob'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("bare-form HA1 rows for bob@other.test: %d, %v", n, err)
	}
}

func TestSCRAMSecret(t *testing.T) {
	s, _ := openTest(t)
	mustAdd(t, s, "alice", "pencil")
	salts := map[string][]byte{}
	for _, hash := range []string{"SHA-1", "SHA-256"} {
		canon, got, err := s.SCRAMSecret("alice", hash)
		if err != nil {
			t.Fatalf("SCRAMSecret(%s): %v", hash, err)
		}
		if canon != "alice@example.test" || len(got.Salt) != 16 || got.Iterations != 4096 {
			t.Errorf("SCRAMSecret(%s): user %q, salt %d bytes, %d iterations", hash, canon, len(got.Salt), got.Iterations)
		}
		want, err := sasl.DeriveSCRAM(hash, "pencil", got.Salt, got.Iterations)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.StoredKey, want.StoredKey) || !bytes.Equal(got.ServerKey, want.ServerKey) {
			t.Errorf("SCRAMSecret(%s): keys differ from DeriveSCRAM with the stored salt", hash)
		}
		salts[hash] = got.Salt
	}
	if bytes.Equal(salts["SHA-1"], salts["SHA-256"]) {
		t.Error("SCRAM-SHA-1 and SCRAM-SHA-256 share a salt")
	}
	if _, _, err := s.SCRAMSecret("alice", "MD5"); err == nil {
		t.Error("SCRAMSecret(MD5) succeeded")
	}
	if _, _, err := s.SCRAMSecret("nobody", "SHA-1"); !errors.Is(err, sasl.ErrUnknownUser) {
		t.Errorf("unknown user: got %v", err)
	}
}

func TestCertificateUser(t *testing.T) {
	s, _ := openTest(t)
	mustAdd(t, s, "alice", "pw")
	mustAdd(t, s, "bob@other.test", "pw")
	for _, tc := range []struct {
		name   string
		emails []string
		cn     string
		want   string
	}{
		{"CN bare name", nil, "alice", "alice@example.test"},
		{"CN full address", nil, "alice@Example.Test", "alice@example.test"},
		{"SAN wins over CN", []string{"bob@OTHER.test"}, "alice", "bob@other.test"},
		{"unknown SAN falls back to CN", []string{"x@other.test"}, "alice", "alice@example.test"},
		{"second SAN", []string{"x@other.test", "bob@other.test"}, "", "bob@other.test"},
		{"nothing maps", []string{"x@other.test"}, "Mail Server", ""},
		{"empty", nil, "", ""},
	} {
		cert := &x509.Certificate{EmailAddresses: tc.emails, Subject: pkix.Name{CommonName: tc.cn}}
		got, err := s.CertificateUser(cert)
		if tc.want == "" {
			if !errors.Is(err, sasl.ErrUnknownUser) {
				t.Errorf("%s: got %q, %v; want ErrUnknownUser", tc.name, got, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%s: got %q, %v; want %q", tc.name, got, err, tc.want)
		}
	}
	if _, err := s.CertificateUser(nil); !errors.Is(err, sasl.ErrUnknownUser) {
		t.Errorf("nil certificate: got %v", err)
	}
}

func TestMayAuthorize(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	mustAdd(t, s, "alice", "pw")
	mustAdd(t, s, "bob", "pw")
	for _, e := range []string{"bob@example.test", "@lists.example.test"} {
		if err := s.AddSender(ctx, "alice", e); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		user, authz string
		want        bool
	}{
		{"alice", "bob", true},
		{"alice@example.test", "bob@EXAMPLE.test", true},
		{"alice", "alice", true},
		{"alice", "x@lists.example.test", false}, // @domain does not authorize
		{"bob", "alice", false},
		{"alice", "carol", false},
		{"nobody", "bob", false},
		{"alice", "", false},
	} {
		if got := s.MayAuthorize(tc.user, tc.authz); got != tc.want {
			t.Errorf("MayAuthorize(%q, %q) = %v, want %v", tc.user, tc.authz, got, tc.want)
		}
	}
}
