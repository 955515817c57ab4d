package sasl

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"
)

// RFC 2831 §4's example, with the service imap it uses.
const (
	rfc2831Challenge = `realm="elwood.innosoft.com",nonce="OA6MG9tEQGm2hh",qop="auth",charset=utf-8,algorithm=md5-sess`
	rfc2831Response  = `charset=utf-8,username="chris",realm="elwood.innosoft.com",nonce="OA6MG9tEQGm2hh",nc=00000001,cnonce="OA6MHXh6VqTrRk",digest-uri="imap/elwood.innosoft.com",response=d388dad90d4bbd760a152321f2143af7,qop=auth`
	rfc2831Rspauth   = `rspauth=ea40f60335c427b5527b84dbabcdfffd`
)

func TestDigestMD5ServerRFC2831(t *testing.T) {
	s := NewDigestMD5Server(ServerInfo{Service: "imap", Hostname: "elwood.innosoft.com"},
		newTestCredentials("chris", "secret")).(*digestMD5Server)
	s.nonce = "OA6MG9tEQGm2hh" // the RFC's; a real server draws 16 random bytes
	challenge, done, err := s.Next(nil)
	if err != nil || done || string(challenge) != rfc2831Challenge {
		t.Fatalf("challenge %q done %v err %v", challenge, done, err)
	}
	rspauth, done, err := s.Next([]byte(rfc2831Response))
	if err != nil || done || string(rspauth) != rfc2831Rspauth {
		t.Fatalf("rspauth %q done %v err %v", rspauth, done, err)
	}
	final, done, err := s.Next([]byte{})
	if err != nil || !done || final != nil {
		t.Fatalf("final step: %q done %v err %v", final, done, err)
	}
	if r := s.Result(); r.User != "chris" || r.Authz != "" || len(r.Notes) != 0 {
		t.Fatalf("result %+v", r)
	}
}

// labInfo is the server of real-clients.md: the realm mx.lab.test differs
// from the hostname, and clients connect to 127.0.0.1.
func labInfo(now *time.Time) ServerInfo {
	return ServerInfo{
		Service:   "smtp",
		Hostname:  "mail.example.test",
		Aliases:   []string{"smtp.example.test"},
		LocalAddr: "127.0.0.1",
		Realms:    []string{"mx.lab.test"},
		Nonce:     func(n int) []byte { return bytes.Repeat([]byte{0x5a}, n) },
		Now:       func() time.Time { return *now },
	}
}

const labNonce = "5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a"

func TestDigestMD5ServerChallenge(t *testing.T) {
	now := time.Unix(1700000000, 0)
	challenge, done, err := NewDigestMD5Server(labInfo(&now), nil).Next(nil)
	want := `realm="mx.lab.test",nonce="` + labNonce + `",qop="auth",charset=utf-8,algorithm=md5-sess`
	if err != nil || done || string(challenge) != want {
		t.Fatalf("challenge %q, want %q", challenge, want)
	}
	// Several realms, and quoting; the default realm is the hostname.
	info := labInfo(&now)
	info.Realms = []string{"a.test", `b"\`}
	challenge, _, _ = NewDigestMD5Server(info, nil).Next(nil)
	if !strings.HasPrefix(string(challenge), `realm="a.test",realm="b\"\\",nonce=`) {
		t.Fatalf("challenge %q", challenge)
	}
	challenge, _, _ = NewDigestMD5Server(ServerInfo{Hostname: "mx.example.test"}, nil).Next(nil)
	ds, err := parseDigestDirectives(challenge)
	if err != nil || ds[0] != (digestDirective{"realm", "mx.example.test", true}) || ds[1].name != "nonce" || len(ds[1].value) < 32 {
		t.Fatalf("default challenge %q: %v", challenge, err)
	}
	for _, absent := range []string{"cipher", "auth-int", "auth-conf", "md5\""} {
		if strings.Contains(string(challenge), absent) {
			t.Errorf("challenge offers %s: %q", absent, challenge)
		}
	}
	other, _, _ := NewDigestMD5Server(ServerInfo{Hostname: "mx.example.test"}, nil).Next(nil)
	if string(other) == string(challenge) {
		t.Error("two servers issued the same nonce")
	}
}

// clientHash computes a DIGEST-MD5 response-value (or rspauth, with a2 ":")
// the long way, independently of the package's code, from the exact bytes
// a client puts into H(username:realm:password).
func clientHash(userRealmPassword, nonce, cnonce, authzid, nc, qop, uri, a2 string) string {
	h := md5.Sum([]byte(userRealmPassword))
	a1 := string(h[:]) + ":" + nonce + ":" + cnonce
	if authzid != "" {
		a1 += ":" + authzid
	}
	ha1 := md5.Sum([]byte(a1))
	ha2 := md5.Sum([]byte(a2 + uri))
	kd := md5.Sum([]byte(hex.EncodeToString(ha1[:]) + ":" + nonce + ":" + nc + ":" + cnonce + ":" + qop + ":" + hex.EncodeToString(ha2[:])))
	return hex.EncodeToString(kd[:])
}

const labPassword = "correct horse"

// digestVariant is one way a client may answer the lab challenge. wire is
// the response with {nonce} and {response} placeholders; the other fields
// say what the client hashed.
type digestVariant struct {
	name string
	wire string
	// hashed is username:realm: as the client puts it into H(A1)'s inner hash.
	hashed                        string
	cnonce, authzid, nc, qop, uri string
	user, authz                   string // expected Result
	notes                         []string
}

func (v digestVariant) response(password string) []byte {
	nc, qop := v.nc, v.qop
	if nc == "" {
		nc = "00000001"
	}
	if qop == "" {
		qop = "auth"
	}
	resp := clientHash(v.hashed+password, labNonce, v.cnonce, v.authzid, nc, qop, v.uri, "AUTHENTICATE:")
	if strings.Contains(v.name, "upper-case") {
		resp = strings.ToUpper(resp)
	}
	return []byte(strings.NewReplacer("{nonce}", labNonce, "{response}", resp).Replace(v.wire))
}

var digestVariants = []digestVariant{
	{
		name:   "textbook",
		wire:   `charset=utf-8,username="alice",realm="mx.lab.test",nonce="{nonce}",nc=00000001,cnonce="OA6MHXh6VqTrRk",digest-uri="smtp/mail.example.test",response={response},qop=auth`,
		hashed: "alice:mx.lab.test:", cnonce: "OA6MHXh6VqTrRk", uri: "smtp/mail.example.test", user: "alice",
	},
	{
		name:   "swaks: sorted keys, hex cnonce, connected address",
		wire:   `charset=utf-8,cnonce="9f2c41d07be35a68",digest-uri="smtp/127.0.0.1",nc=00000001,nonce="{nonce}",qop=auth,realm="mx.lab.test",response={response},username="alice"`,
		hashed: "alice:mx.lab.test:", cnonce: "9f2c41d07be35a68", uri: "smtp/127.0.0.1", user: "alice",
		notes: []string{`digest-uri host "127.0.0.1" is the connected address, not the hostname`},
	},
	{
		name:   "gsasl and msmtp: comma-space, base64 cnonce, charset last",
		wire:   `username="alice", realm="mx.lab.test", nonce="{nonce}", cnonce="q3Zk0bJx+9YwT1uV/AcPnw==", nc=00000001, qop=auth, digest-uri="smtp/127.0.0.1", response={response}, charset=utf-8`,
		hashed: "alice:mx.lab.test:", cnonce: "q3Zk0bJx+9YwT1uV/AcPnw==", uri: "smtp/127.0.0.1", user: "alice",
		notes: []string{`digest-uri host "127.0.0.1" is the connected address, not the hostname`},
	},
	{
		name:   "curl: nc quoted, digest-uri is the realm, no charset",
		wire:   `username="alice",realm="mx.lab.test",nonce="{nonce}",cnonce="ZmQ3YjI0ZDk1NTk2",nc="00000001",digest-uri="smtp/mx.lab.test",response={response},qop=auth`,
		hashed: "alice:mx.lab.test:", cnonce: "ZmQ3YjI0ZDk1NTk2", uri: "smtp/mx.lab.test", user: "alice",
		notes: []string{"charset absent (ISO 8859-1 assumed)", "nc was quoted", `digest-uri host "mx.lab.test" is a realm, not the hostname`},
	},
	{
		name:   "smtptest: maxbuf, quoted qop",
		wire:   `username="alice",realm="mx.lab.test",nonce="{nonce}",cnonce="c1",nc=00000001,qop="auth",maxbuf=1024,digest-uri="smtp/mail.example.test",response={response},charset=utf-8`,
		hashed: "alice:mx.lab.test:", cnonce: "c1", uri: "smtp/mail.example.test", user: "alice",
		notes: []string{"qop was quoted"},
	},
	{
		name:   "realm absent, hashed with the default realm",
		wire:   `charset=utf-8,username="alice",nonce="{nonce}",nc=00000001,cnonce="c1",digest-uri="smtp/mail.example.test",response={response},qop=auth`,
		hashed: "alice:mx.lab.test:", cnonce: "c1", uri: "smtp/mail.example.test", user: "alice",
		notes: []string{`realm absent; hashed with the default realm "mx.lab.test"`},
	},
	{
		name:   "realm absent, hashed with the empty realm",
		wire:   `charset=utf-8,username="alice",nonce="{nonce}",nc=00000001,cnonce="c1",digest-uri="smtp/mail.example.test",response={response},qop=auth`,
		hashed: "alice::", cnonce: "c1", uri: "smtp/mail.example.test", user: "alice",
		notes: []string{"realm absent; hashed with the empty realm"},
	},
	{
		name:   "realm empty",
		wire:   `charset=utf-8,username="alice",realm="",nonce="{nonce}",nc=00000001,cnonce="c1",digest-uri="smtp/mail.example.test",response={response},qop=auth`,
		hashed: "alice::", cnonce: "c1", uri: "smtp/mail.example.test", user: "alice",
		notes: []string{"realm empty"},
	},
	{
		name:   "realm in other case",
		wire:   `charset=utf-8,username="alice",realm="MX.Lab.Test",nonce="{nonce}",nc=00000001,cnonce="c1",digest-uri="smtp/mail.example.test",response={response},qop=auth`,
		hashed: "alice:MX.Lab.Test:", cnonce: "c1", uri: "smtp/mail.example.test", user: "alice",
		notes: []string{`realm "MX.Lab.Test" differs in case from offered "mx.lab.test"`},
	},
	{
		name:   "realm of the client's choice",
		wire:   `charset=utf-8,username="alice",realm="example.test",nonce="{nonce}",nc=00000001,cnonce="c1",digest-uri="smtp/mail.example.test",response={response},qop=auth`,
		hashed: "alice:example.test:", cnonce: "c1", uri: "smtp/mail.example.test", user: "alice",
		notes: []string{`realm "example.test" was not offered (the client's choice)`},
	},
	{
		name:   "username with @domain",
		wire:   `charset=utf-8,username="alice@lab.test",realm="mx.lab.test",nonce="{nonce}",nc=00000001,cnonce="c1",digest-uri="smtp/mail.example.test",response={response},qop=auth`,
		hashed: "alice@lab.test:mx.lab.test:", cnonce: "c1", uri: "smtp/mail.example.test", user: "alice@lab.test",
		notes: []string{"username given with @domain"},
	},
	{
		name:   "qop absent",
		wire:   `charset=utf-8,username="alice",realm="mx.lab.test",nonce="{nonce}",nc=00000001,cnonce="c1",digest-uri="smtp/mail.example.test",response={response}`,
		hashed: "alice:mx.lab.test:", cnonce: "c1", uri: "smtp/mail.example.test", user: "alice",
		notes: []string{"qop absent (auth assumed)"},
	},
	{
		name:   "unquoted strings, quoted charset, upper-case response",
		wire:   `charset="utf-8",username=alice,realm=mx.lab.test,nonce={nonce},nc=00000001,cnonce=c1,digest-uri=smtp/mail.example.test,response={response},qop=auth`,
		hashed: "alice:mx.lab.test:", cnonce: "c1", uri: "smtp/mail.example.test", user: "alice",
		notes: []string{"charset was quoted", "username was not quoted", "nonce was not quoted", "cnonce was not quoted",
			"digest-uri was not quoted", "response in upper-case hex", "realm was not quoted"},
	},
	{
		name:   "digest-uri: alias with serv-name, hostname in other case",
		wire:   `charset=utf-8,username="alice",realm="mx.lab.test",nonce="{nonce}",nc=00000001,cnonce="c1",digest-uri="SMTP/Smtp.Example.Test/example.test",response={response},qop=auth`,
		hashed: "alice:mx.lab.test:", cnonce: "c1", uri: "SMTP/Smtp.Example.Test/example.test", user: "alice",
		notes: []string{`digest-uri host "Smtp.Example.Test" is an alias, not the hostname`, `digest-uri has serv-name "example.test"`},
	},
	{
		name:   "digest-uri: hostname in other case",
		wire:   `charset=utf-8,username="alice",realm="mx.lab.test",nonce="{nonce}",nc=00000001,cnonce="c1",digest-uri="smtp/Mail.Example.Test",response={response},qop=auth`,
		hashed: "alice:mx.lab.test:", cnonce: "c1", uri: "smtp/Mail.Example.Test", user: "alice",
		notes: []string{`digest-uri host "Mail.Example.Test" differs in case from the hostname "mail.example.test"`},
	},
	{
		name:   "authzid equal to the user",
		wire:   `charset=utf-8,username="alice",realm="mx.lab.test",nonce="{nonce}",nc=00000001,cnonce="c1",digest-uri="smtp/mail.example.test",response={response},qop=auth,authzid="alice"`,
		hashed: "alice:mx.lab.test:", cnonce: "c1", authzid: "alice", uri: "smtp/mail.example.test", user: "alice",
	},
	{
		name:   "authzid of another identity the user may act as",
		wire:   `charset=utf-8,username="alice",realm="mx.lab.test",nonce="{nonce}",nc=00000001,cnonce="c1",digest-uri="smtp/mail.example.test",response={response},qop=auth,authzid="postmaster"`,
		hashed: "alice:mx.lab.test:", cnonce: "c1", authzid: "postmaster", uri: "smtp/mail.example.test", user: "alice", authz: "postmaster",
	},
	{
		name:   "authzid empty",
		wire:   `charset=utf-8,username="alice",realm="mx.lab.test",nonce="{nonce}",nc=00000001,cnonce="c1",digest-uri="smtp/mail.example.test",response={response},qop=auth,authzid=""`,
		hashed: "alice:mx.lab.test:", cnonce: "c1", uri: "smtp/mail.example.test", user: "alice",
		notes: []string{"authzid empty"},
	},
	{
		name:   "Latin-1 username with charset=utf-8 (hashed as ISO 8859-1)",
		wire:   `charset=utf-8,username="josé",realm="mx.lab.test",nonce="{nonce}",nc=00000001,cnonce="c1",digest-uri="smtp/mail.example.test",response={response},qop=auth`,
		hashed: "jos\xe9:mx.lab.test:", cnonce: "c1", uri: "smtp/mail.example.test", user: "josé",
	},
	{
		name:   "Latin-1 username without charset (sent as ISO 8859-1)",
		wire:   "username=\"jos\xe9\",realm=\"mx.lab.test\",nonce=\"{nonce}\",nc=00000001,cnonce=\"c1\",digest-uri=\"smtp/mail.example.test\",response={response},qop=auth",
		hashed: "jos\xe9:mx.lab.test:", cnonce: "c1", uri: "smtp/mail.example.test", user: "josé",
		notes: []string{"charset absent (ISO 8859-1 assumed)"},
	},
	{
		name:   "non-Latin-1 username with charset=utf-8 (hashed as UTF-8)",
		wire:   `charset=utf-8,username="Дмитрий",realm="mx.lab.test",nonce="{nonce}",nc=00000001,cnonce="c1",digest-uri="smtp/mail.example.test",response={response},qop=auth`,
		hashed: "Дмитрий:mx.lab.test:", cnonce: "c1", uri: "smtp/mail.example.test", user: "Дмитрий",
	},
}

func variant(name string) digestVariant {
	for _, v := range digestVariants {
		if v.name == name {
			return v
		}
	}
	panic("no variant " + name)
}

func labCredentials() *testCredentials {
	c := newTestCredentials("alice", labPassword, "alice@lab.test", labPassword, "josé", labPassword, "Дмитрий", labPassword)
	c.authz["alice"] = "postmaster"
	return c
}

// Every accepted variant is accepted with the right password and rejected
// with a wrong one: tolerance never replaces the proof.
func TestDigestMD5ServerVariants(t *testing.T) {
	for _, v := range digestVariants {
		t.Run(v.name, func(t *testing.T) {
			for _, password := range []string{labPassword, labPassword + "!", "", "Correct horse"} {
				now := time.Unix(1700000000, 0)
				s := NewDigestMD5Server(labInfo(&now), labCredentials())
				if _, _, err := s.Next(nil); err != nil {
					t.Fatal(err)
				}
				rspauth, done, err := s.Next(v.response(password))
				if password != labPassword {
					if !done {
						t.Fatalf("password %q: accepted", password)
					}
					e := wantFailure(t, err, BadCredentials, "wrong password")
					if e.User != v.user {
						t.Errorf("Error.User = %q, want %q", e.User, v.user)
					}
					continue
				}
				if err != nil || done {
					t.Fatalf("rejected: done %v err %v", done, err)
				}
				nc, qop := "00000001", "auth"
				if v.nc != "" {
					nc = v.nc
				}
				want := "rspauth=" + clientHash(v.hashed+password, labNonce, v.cnonce, v.authzid, nc, qop, v.uri, ":")
				if string(rspauth) != want {
					t.Errorf("rspauth %q, want %q", rspauth, want)
				}
				if _, done, err := s.Next([]byte{}); !done || err != nil {
					t.Fatalf("final step: done %v err %v", done, err)
				}
				r := s.Result()
				if r.User != v.user || r.Authz != v.authz {
					t.Errorf("result user %q authz %q, want %q %q", r.User, r.Authz, v.user, v.authz)
				}
				if strings.Join(r.Notes, "\n") != strings.Join(v.notes, "\n") {
					t.Errorf("notes:\n%s\nwant:\n%s", strings.Join(r.Notes, "\n"), strings.Join(v.notes, "\n"))
				}
			}
		})
	}
}

// textbookWith returns the textbook response with directives replaced,
// removed (value "-") or appended; the hash is computed for the textbook
// values, so each edit is the only thing wrong.
func textbookWith(edits map[string]string) []byte {
	resp := clientHash("alice:mx.lab.test:"+labPassword, labNonce, "c1", "", "00000001", "auth", "smtp/mail.example.test", "AUTHENTICATE:")
	fields := [][2]string{
		{"charset", "utf-8"}, {"username", `"alice"`}, {"realm", `"mx.lab.test"`}, {"nonce", `"` + labNonce + `"`},
		{"nc", "00000001"}, {"cnonce", `"c1"`}, {"digest-uri", `"smtp/mail.example.test"`}, {"response", resp}, {"qop", "auth"},
	}
	var parts []string
	seen := map[string]bool{}
	for _, f := range fields {
		seen[f[0]] = true
		v, edited := edits[f[0]]
		switch {
		case !edited:
			parts = append(parts, f[0]+"="+f[1])
		case v != "-":
			parts = append(parts, f[0]+"="+v)
		}
	}
	for _, k := range []string{"authzid", "cipher", "extra", "username"} {
		if v, ok := edits[k]; ok && (!seen[k] || k == "username" && edits["dup"] != "") {
			parts = append(parts, k+"="+v)
		}
	}
	return []byte(strings.Join(parts, ","))
}

func TestDigestMD5ServerFailures(t *testing.T) {
	tests := []struct {
		name     string
		response []byte
		age      time.Duration // between challenge and response
		fail     error
		realms   []string // realms with a stored secret; nil: any
		kind     Kind
		reason   string
		user     string
	}{
		{name: "textbook response two minutes late is fine", response: textbookWith(nil), age: 2 * time.Minute},
		{name: "stale", response: textbookWith(nil), age: 5*time.Minute + time.Second, kind: BadCredentials, reason: "nonce stale (response 5m1s after the challenge, limit 5m0s)", user: "alice"},
		{name: "other nonce", response: textbookWith(map[string]string{"nonce": `"OA6MG9tEQGm2hh"`}), kind: BadCredentials, reason: "nonce does not match the one issued", user: "alice"},
		{name: "nc 2", response: textbookWith(map[string]string{"nc": "00000002"}), kind: BadCredentials, reason: `nonce reused (nc "00000002", want 00000001)`, user: "alice"},
		{name: "nc short", response: textbookWith(map[string]string{"nc": "1"}), kind: Malformed, reason: "bad response format: nc is 1 characters, want 8 hex digits", user: "alice"},
		{name: "nc not hex", response: textbookWith(map[string]string{"nc": "0000000x"}), kind: Malformed, reason: "nc is not hexadecimal", user: "alice"},
		{name: "no nc", response: textbookWith(map[string]string{"nc": "-"}), kind: Malformed, reason: "nc missing", user: "alice"},
		{name: "no cnonce", response: textbookWith(map[string]string{"cnonce": "-"}), kind: Malformed, reason: "cnonce missing", user: "alice"},
		{name: "empty cnonce", response: textbookWith(map[string]string{"cnonce": `""`}), kind: Malformed, reason: "cnonce missing", user: "alice"},
		{name: "no nonce", response: textbookWith(map[string]string{"nonce": "-"}), kind: Malformed, reason: "nonce missing", user: "alice"},
		{name: "no username", response: textbookWith(map[string]string{"username": "-"}), kind: Malformed, reason: "username missing"},
		{name: "no digest-uri", response: textbookWith(map[string]string{"digest-uri": "-"}), kind: Malformed, reason: "digest-uri missing", user: "alice"},
		{name: "no response", response: textbookWith(map[string]string{"response": "-"}), kind: Malformed, reason: "bad response format: response missing", user: "alice"},
		{name: "response short", response: textbookWith(map[string]string{"response": "d388dad9"}), kind: Malformed, reason: "response is not 32 hex digits", user: "alice"},
		{name: "response not hex", response: textbookWith(map[string]string{"response": strings.Repeat("g", 32)}), kind: Malformed, reason: "response is not 32 hex digits", user: "alice"},
		{name: "qop auth-int", response: textbookWith(map[string]string{"qop": "auth-int"}), kind: Malformed, reason: `qop "auth-int" not offered (only auth)`, user: "alice"},
		{name: "qop auth-conf", response: textbookWith(map[string]string{"qop": "auth-conf", "cipher": "rc4"}), kind: Malformed, reason: `qop "auth-conf" not offered`, user: "alice"},
		{name: "charset latin1", response: textbookWith(map[string]string{"charset": "iso-8859-1"}), kind: Malformed, reason: `charset "iso-8859-1" not supported`},
		{name: "username not UTF-8", response: textbookWith(map[string]string{"username": "\"jos\xe9\""}), kind: Malformed, reason: "username is not valid UTF-8 despite charset=utf-8"},
		{name: "repeated directive", response: textbookWith(map[string]string{"dup": "1", "username": `"bob"`}), kind: Malformed, reason: `bad response format: directive "username" repeated`},
		{name: "unparsable", response: []byte(`username="alice`), kind: Malformed, reason: `bad response format: unterminated quoted value of directive "username"`},
		{name: "too long", response: textbookWith(map[string]string{"extra": strings.Repeat("x", 4096)}), kind: Malformed, reason: "RFC 2831 allows 4096"},
		{name: "digest-uri other host", response: textbookWith(map[string]string{"digest-uri": `"smtp/10.0.0.5"`}), kind: BadCredentials,
			reason: `digest-uri "smtp/10.0.0.5" does not match any of [mail.example.test smtp.example.test 127.0.0.1 mx.lab.test]`, user: "alice"},
		{name: "digest-uri other service", response: textbookWith(map[string]string{"digest-uri": `"imap/mail.example.test"`}), kind: BadCredentials,
			reason: `digest-uri "imap/mail.example.test" names service "imap", want "smtp"`, user: "alice"},
		{name: "digest-uri without host", response: textbookWith(map[string]string{"digest-uri": `"smtp"`}), kind: Malformed,
			reason: `digest-uri "smtp" is not service/host[/serv-name]`, user: "alice"},
		{name: "digest-uri host suffix", response: textbookWith(map[string]string{"digest-uri": `"smtp/mail.example.test.evil"`}), kind: BadCredentials,
			reason: `does not match any of`, user: "alice"},
		{name: "unknown user", response: textbookWith(map[string]string{"username": `"bob"`}), kind: BadCredentials, reason: "unknown user", user: "bob"},
		{name: "store down", response: textbookWith(nil), fail: errors.New("io"), kind: Temporary, reason: "credentials lookup failed", user: "alice"},
		{name: "no secret for the offered realm", response: textbookWith(nil), realms: []string{"other.test"}, kind: BadCredentials,
			reason: "no DIGEST-MD5 secret stored for user (password set before the mechanism was enabled?)", user: "alice"},
		{name: "realm not offered and no secret for it", response: textbookWith(map[string]string{"realm": `"evil.test"`}), realms: []string{"mx.lab.test"}, kind: BadCredentials,
			reason: `realm "evil.test" not offered (offered [mx.lab.test]) and no secret stored for it`, user: "alice"},
		{name: "realm absent, hashed with the default realm, only it stored", response: textbookWith(map[string]string{"realm": "-"}), realms: []string{"mx.lab.test"}},
		{name: "realm absent, hashed with the empty realm, only the default stored", response: variant("realm absent, hashed with the empty realm").response(labPassword),
			realms: []string{"mx.lab.test"}, kind: BadCredentials, reason: `wrong password (realm absent; tried the default realm "mx.lab.test" and the empty realm)`, user: "alice"},
		{name: "authzid denied", response: []byte(strings.NewReplacer("{nonce}", labNonce, "{response}",
			clientHash("alice:mx.lab.test:"+labPassword, labNonce, "c1", "root", "00000001", "auth", "smtp/mail.example.test", "AUTHENTICATE:")).Replace(
			`username="alice",realm="mx.lab.test",nonce="{nonce}",nc=00000001,cnonce="c1",digest-uri="smtp/mail.example.test",response={response},qop=auth,authzid="root"`)),
			kind: AuthzDenied, reason: `user "alice" may not act as "root"`, user: "alice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := time.Unix(1700000000, 0)
			creds := labCredentials()
			creds.fail = tt.fail
			creds.realms = tt.realms
			s := NewDigestMD5Server(labInfo(&now), creds)
			if _, _, err := s.Next(nil); err != nil {
				t.Fatal(err)
			}
			now = now.Add(tt.age)
			challenge, done, err := s.Next(tt.response)
			if tt.kind == 0 {
				if err != nil || done || !bytes.HasPrefix(challenge, []byte("rspauth=")) {
					t.Fatalf("not accepted: %q %v %v", challenge, done, err)
				}
				return
			}
			if !done || challenge != nil {
				t.Fatalf("failure did not end the exchange: %q %v", challenge, done)
			}
			e := wantFailure(t, err, tt.kind, tt.reason)
			if e.User != tt.user {
				t.Errorf("Error.User = %q, want %q", e.User, tt.user)
			}
			resp := clientHash("alice:mx.lab.test:"+labPassword, labNonce, "c1", "", "00000001", "auth", "smtp/mail.example.test", "AUTHENTICATE:")
			if strings.Contains(e.Error(), resp) || strings.Contains(e.Error(), labPassword) {
				t.Errorf("error %q reveals the response or the password", e.Error())
			}
		})
	}
}

func TestDigestMD5ServerSequence(t *testing.T) {
	newServer := func() (Server, *time.Time) {
		now := time.Unix(1700000000, 0)
		s := NewDigestMD5Server(labInfo(&now), labCredentials())
		if _, _, err := s.Next(nil); err != nil {
			t.Fatal(err)
		}
		return s, &now
	}
	good := textbookWith(nil)

	// Initial responses: none is allowed but an empty one is tolerated.
	now := time.Unix(1700000000, 0)
	_, done, err := NewDigestMD5Server(labInfo(&now), nil).Next([]byte(`username="alice"`))
	if !done {
		t.Fatal("initial response accepted")
	}
	wantFailure(t, err, Malformed, "DIGEST-MD5 takes no initial response")
	s := NewDigestMD5Server(labInfo(&now), labCredentials())
	if _, _, err := s.Next([]byte{}); err != nil {
		t.Fatal(err)
	}
	s.Next(good)
	s.Next([]byte{})
	if notes := s.Result().Notes; len(notes) != 1 || notes[0] != "empty initial response ignored" {
		t.Errorf("notes %q", notes)
	}

	// The response repeated instead of the empty final answer.
	s, _ = newServer()
	s.Next(good)
	_, done, err = s.Next(good)
	if !done {
		t.Fatal("repeated response not rejected")
	}
	wantFailure(t, err, BadCredentials, "nonce reused")
	if s.Result().User != "" {
		t.Error("result left valid after a failure")
	}

	// Something else instead of the empty final answer.
	s, _ = newServer()
	s.Next(good)
	_, done, err = s.Next([]byte("*"))
	if !done {
		t.Fatal("non-empty final answer accepted")
	}
	wantFailure(t, err, Malformed, "expected an empty response after rspauth")

	// A second try after a failure: one response per nonce.
	s, _ = newServer()
	s.Next(textbookWith(map[string]string{"username": `"bob"`}))
	_, done, err = s.Next(good)
	if !done {
		t.Fatal("second response accepted")
	}
	wantFailure(t, err, BadCredentials, "nonce reused")
	_, _, err = s.Next([]byte("garbage"))
	wantFailure(t, err, Malformed, "step out of order")
}

// A response for one server's nonce fails at another server.
func TestDigestMD5ServerReplay(t *testing.T) {
	creds := labCredentials()
	info := ServerInfo{Hostname: "mx.example.test", LocalAddr: "127.0.0.1"}
	c := NewDigestMD5Client("", "alice", labPassword, ClientInfo{Service: "smtp", Host: "mx.example.test"})
	s1 := NewDigestMD5Server(info, creds)
	challenge, _, _ := s1.Next(nil)
	resp, err := c.Next(challenge)
	if err != nil {
		t.Fatal(err)
	}
	s2 := NewDigestMD5Server(info, creds)
	s2.Next(nil)
	_, _, err = s2.Next(resp)
	wantFailure(t, err, BadCredentials, "nonce does not match the one issued")
	if _, done, err := s1.Next(resp); done || err != nil {
		t.Fatalf("original server: %v %v", done, err)
	}
}

// IPv6: the connected address may be written with or without brackets.
func TestDigestMD5ServerIPv6Address(t *testing.T) {
	creds := labCredentials()
	info := ServerInfo{Hostname: "mx.example.test", LocalAddr: "::1"}
	for _, host := range []string{"::1", "[::1]"} {
		c := NewDigestMD5Client("", "alice", labPassword, ClientInfo{Host: host})
		s := NewDigestMD5Server(info, creds)
		r, err := runExchange(t, c, s)
		if err != nil || r.User != "alice" {
			t.Fatalf("%s: %+v %v", host, r, err)
		}
		want := `digest-uri host "` + host + `" is the connected address, not the hostname`
		if len(r.Notes) != 1 || r.Notes[0] != want {
			t.Errorf("%s: notes %q", host, r.Notes)
		}
	}
}
