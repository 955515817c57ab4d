package sasl

import (
	"encoding/base64"
	"errors"
	"regexp"
	"strings"
	"testing"
)

// scramFixedNonce returns a nonce source that always yields s.
func scramFixedNonce(s string) func(int) []byte {
	return func(int) []byte { return []byte(s) }
}

// scramMustB64 decodes standard base64 or fails the test.
func scramMustB64(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// scramWantError checks err is an *Error of the given kind whose reason
// contains want.
func scramWantError(t *testing.T, err error, kind Kind, want string) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error = %v, want *Error %q", err, want)
	}
	if e.Kind != kind || !strings.Contains(e.Reason, want) {
		t.Fatalf("error = kind %d %q, want kind %d containing %q", e.Kind, e.Reason, kind, want)
	}
}

// scramVector is one RFC example exchange.
type scramVector struct {
	name, hash                                   string
	clientNonce, serverNonce, salt               string
	clientFirst, serverFirst, clientFinal, final string
}

var scramVectors = []scramVector{
	{
		name: "RFC 5802 §5 SCRAM-SHA-1", hash: "SHA-1",
		clientNonce: "fyko+d2lbbFgONRv9qkxdawL", serverNonce: "3rfcNHYJY1ZVvWVs7j", salt: "QSXCR+Q6sek8bf92",
		clientFirst: "n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL",
		serverFirst: "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096",
		clientFinal: "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",
		final:       "v=rmF9pqV8S7suAoZWja4dJRkFsKQ=",
	},
	{
		name: "RFC 7677 §3 SCRAM-SHA-256", hash: "SHA-256",
		clientNonce: "rOprNGfwEbeRWgbNEkqO", serverNonce: "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0", salt: "W22ZaJ0SNY7soEsUEjb6gQ==",
		clientFirst: "n,,n=user,r=rOprNGfwEbeRWgbNEkqO",
		serverFirst: "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
		clientFinal: "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
		final:       "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=",
	},
}

func TestSCRAMServerRFCVectors(t *testing.T) {
	for _, v := range scramVectors {
		t.Run(v.name, func(t *testing.T) {
			creds := newTestCredentials("user", "pencil")
			creds.salt = scramMustB64(t, v.salt)
			s := NewSCRAMServer(v.hash, false, ServerInfo{Nonce: scramFixedNonce(v.serverNonce)}, creds)
			steps := []struct{ in, out string }{
				{v.clientFirst, v.serverFirst},
				{v.clientFinal, v.final},
			}
			for _, st := range steps {
				out, done, err := s.Next([]byte(st.in))
				if err != nil || done || string(out) != st.out {
					t.Fatalf("Next(%q) = %q, %v, %v; want %q", st.in, out, done, err, st.out)
				}
			}
			out, done, err := s.Next([]byte{})
			if err != nil || !done || len(out) != 0 {
				t.Fatalf("final Next = %q, %v, %v", out, done, err)
			}
			if r := s.Result(); r.User != "user" || r.Authz != "" {
				t.Fatalf("result = %+v", r)
			}
		})
	}
}

func TestSCRAMClientRFCVectors(t *testing.T) {
	for _, v := range scramVectors {
		t.Run(v.name, func(t *testing.T) {
			c := NewSCRAMClient(v.hash, false, "", "user", "pencil", ClientInfo{Nonce: scramFixedNonce(v.clientNonce)})
			mech, first, err := c.Start()
			if err != nil || mech != "SCRAM-"+v.hash || string(first) != v.clientFirst {
				t.Fatalf("Start = %q, %q, %v", mech, first, err)
			}
			final, err := c.Next([]byte(v.serverFirst))
			if err != nil || string(final) != v.clientFinal {
				t.Fatalf("client-final = %q, %v; want %q", final, err, v.clientFinal)
			}
			last, err := c.Next([]byte(v.final))
			if err != nil || last == nil || len(last) != 0 {
				t.Fatalf("response to server-final = %q, %v; want empty", last, err)
			}
			if _, err := c.Next([]byte(v.final)); err == nil {
				t.Fatal("Next after the end accepted")
			}
		})
	}
}

var (
	scramTLS13 = map[string][]byte{"tls-exporter": []byte("exporter-key-material-32-bytes!!")}
	scramTLS12 = map[string][]byte{"tls-unique": []byte("finished-12b")}
)

func TestSCRAMRoundTrips(t *testing.T) {
	tests := []struct {
		name       string
		hash       string
		plus       bool
		clientCB   map[string][]byte
		serverCB   map[string][]byte
		authz      string
		wantHeader string // prefix of the client-first message
		wantAuthz  string
	}{
		{"SHA-1 without TLS", "SHA-1", false, nil, nil, "", "n,,", ""},
		{"SHA-256 without TLS", "SHA-256", false, nil, nil, "", "n,,", ""},
		{"SHA-1-PLUS tls-exporter", "SHA-1", true, scramTLS13, scramTLS13, "", "p=tls-exporter,,", ""},
		{"SHA-256-PLUS tls-exporter", "SHA-256", true, scramTLS13, scramTLS13, "", "p=tls-exporter,,", ""},
		{"SHA-1-PLUS tls-unique", "SHA-1", true, scramTLS12, scramTLS12, "", "p=tls-unique,,", ""},
		{"SHA-256-PLUS tls-unique", "SHA-256", true, scramTLS12, scramTLS12, "", "p=tls-unique,,", ""},
		{"client without CB on a CB server", "SHA-256", false, nil, scramTLS13, "", "n,,", ""},
		{"client with CB, server without (y)", "SHA-256", false, scramTLS13, nil, "", "y,,", ""},
		{"authz equal to user", "SHA-256", false, nil, nil, "user", "n,a=user,", ""},
		{"permitted authz", "SHA-256", true, scramTLS13, scramTLS13, "postmaster", "p=tls-exporter,a=postmaster,", "postmaster"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			creds := newTestCredentials("user", "pencil")
			creds.authz["user"] = "postmaster"
			c := NewSCRAMClient(tt.hash, tt.plus, tt.authz, "user", "pencil", ClientInfo{ChannelBindings: tt.clientCB})
			s := NewSCRAMServer(tt.hash, tt.plus, ServerInfo{ChannelBindings: tt.serverCB}, creds)
			probe := NewSCRAMClient(tt.hash, tt.plus, tt.authz, "user", "pencil", ClientInfo{ChannelBindings: tt.clientCB})
			mech, first, err := probe.Start()
			if err != nil || !strings.HasPrefix(string(first), tt.wantHeader) || mech != scramMechName(tt.hash, tt.plus) {
				t.Fatalf("Start = %q, %q, %v; want header %q", mech, first, err, tt.wantHeader)
			}
			res, err := runExchange(t, c, s)
			if err != nil {
				t.Fatal(err)
			}
			if res.User != "user" || res.Authz != tt.wantAuthz {
				t.Fatalf("result = %+v, want user/%q", res, tt.wantAuthz)
			}
		})
	}
}

func TestSCRAMRoundTripFailures(t *testing.T) {
	otherTLS13 := map[string][]byte{"tls-exporter": []byte("a different TLS session's key!!!")}
	tests := []struct {
		name         string
		plus         bool
		clientPlus   bool
		user, pass   string
		authz        string
		clientCB     map[string][]byte
		serverCB     map[string][]byte
		kind         Kind
		reason       string
		afterFirst   bool // the server-first message must have been sent
		clientFailed bool // the client, not the server, reports the error
	}{
		{name: "wrong password", user: "user", pass: "pen", kind: BadCredentials, reason: "wrong password", afterFirst: true},
		{name: "unknown user", user: "nobody", pass: "pencil", kind: BadCredentials, reason: "unknown user", afterFirst: true},
		{name: "denied authz", user: "user", pass: "pencil", authz: "root", kind: AuthzDenied, reason: `may not act as "root"`, afterFirst: true},
		{name: "channel binding mismatch", plus: true, clientPlus: true, user: "user", pass: "pencil",
			clientCB: otherTLS13, serverCB: scramTLS13, kind: BadCredentials, reason: "channel binding mismatch", afterFirst: true},
		{name: "downgrade", user: "user", pass: "pencil", clientCB: scramTLS13, serverCB: scramTLS13,
			kind: BadCredentials, reason: "channel binding downgrade: client sent y but server supports channel binding"},
		{name: "PLUS server without CB data", plus: true, clientPlus: true, user: "user", pass: "pencil",
			clientCB: scramTLS13, kind: BadCredentials, reason: `channel binding type "tls-exporter" is not available`},
		{name: "PLUS client without CB data", plus: true, clientPlus: true, user: "user", pass: "pencil",
			serverCB: scramTLS13, kind: Temporary, reason: "needs channel binding data", clientFailed: true},
		{name: "CB type the server lacks", plus: true, clientPlus: true, user: "user", pass: "pencil",
			clientCB: scramTLS12, serverCB: scramTLS13, kind: BadCredentials, reason: `"tls-unique" is not available`},
		{name: "p= to a non-PLUS server", clientPlus: true, user: "user", pass: "pencil",
			clientCB: scramTLS13, serverCB: scramTLS13, kind: Malformed, reason: "must use SCRAM-SHA-256-PLUS"},
		{name: "n to a PLUS server", plus: true, user: "user", pass: "pencil",
			serverCB: scramTLS13, kind: Malformed, reason: "flag n instead of p="},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			creds := newTestCredentials("user", "pencil")
			c := NewSCRAMClient("SHA-256", tt.clientPlus, tt.authz, tt.user, tt.pass, ClientInfo{ChannelBindings: tt.clientCB})
			s := NewSCRAMServer("SHA-256", tt.plus, ServerInfo{ChannelBindings: tt.serverCB}, creds)
			sawFirst := false
			spy := &scramSpyServer{Server: s, onChallenge: func(ch []byte) {
				if strings.HasPrefix(string(ch), "r=") {
					sawFirst = true
				}
			}}
			_, err := runExchange(t, c, spy)
			scramWantError(t, err, tt.kind, tt.reason)
			if sawFirst != tt.afterFirst {
				t.Fatalf("server-first sent = %v, want %v", sawFirst, tt.afterFirst)
			}
			if spy.failed == tt.clientFailed {
				t.Fatalf("server failed = %v, want %v", spy.failed, !tt.clientFailed)
			}
			if strings.Contains(err.Error(), "pencil") || tt.pass != "" && strings.Contains(err.Error(), tt.pass) {
				t.Fatalf("error reveals the password: %v", err)
			}
			if res := s.Result(); res.User != "" || res.Authz != "" {
				t.Fatalf("failed exchange has a result: %+v", res)
			}
		})
	}
}

// scramSpyServer records the server's challenges and whether it failed.
type scramSpyServer struct {
	Server
	onChallenge func([]byte)
	failed      bool
}

func (s *scramSpyServer) Next(resp []byte) ([]byte, bool, error) {
	ch, done, err := s.Server.Next(resp)
	s.failed = s.failed || err != nil
	s.onChallenge(ch)
	return ch, done, err
}

// An unknown user's server-first must look like a real one: same shape,
// salt length, iteration count, stable across connections, and the failure
// comes only after the proof.
func TestSCRAMUnknownUserServerFirst(t *testing.T) {
	creds := newTestCredentials("user", "pencil")
	creds.salt = []byte("0123456789abcdef")
	first := func(user string) string {
		s := NewSCRAMServer("SHA-256", false, ServerInfo{SCRAMIterations: 4096}, creds)
		ch, done, err := s.Next([]byte("n,,n=" + user + ",r=abcdefgh"))
		if err != nil || done {
			t.Fatalf("%s: server-first failed: %v", user, err)
		}
		return string(ch)
	}
	shape := regexp.MustCompile(`^r=abcdefgh[!-+\--~]{24},s=([A-Za-z0-9+/]{22}==),i=4096$`)
	real, ghost, ghost2, other := first("user"), first("ghost"), first("ghost"), first("phantom")
	salts := map[string]string{}
	for name, msg := range map[string]string{"real": real, "ghost": ghost, "ghost again": ghost2, "phantom": other} {
		m := shape.FindStringSubmatch(msg)
		if m == nil {
			t.Fatalf("%s: server-first %q does not have the expected shape", name, msg)
		}
		salts[name] = m[1]
	}
	if salts["ghost"] != salts["ghost again"] {
		t.Fatal("fake salt is not stable across connections")
	}
	if salts["ghost"] == salts["phantom"] || salts["ghost"] == salts["real"] {
		t.Fatal("fake salts are not per user")
	}
	if real[10:34] == ghost[10:34] {
		t.Fatal("server nonces repeat")
	}
}

// scramErrCreds returns a fixed error from SCRAMSecret.
type scramErrCreds struct {
	*testCredentials
	err error
}

func (c scramErrCreds) SCRAMSecret(string, string) (string, SCRAMSecret, error) {
	return "", SCRAMSecret{}, c.err
}

func TestSCRAMCredentialErrors(t *testing.T) {
	dbDown := errors.New("database is down")
	tests := []struct {
		name       string
		err        error
		kind       Kind
		reason     string
		afterFirst bool
	}{
		{"no secret", ErrNoSecret, BadCredentials, "no SCRAM-SHA-256 secret stored", true},
		{"temporary failure", dbDown, Temporary, "credentials lookup failed", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			creds := scramErrCreds{newTestCredentials(), tt.err}
			s := NewSCRAMServer("SHA-256", false, ServerInfo{}, creds)
			c := NewSCRAMClient("SHA-256", false, "", "user", "pencil", ClientInfo{})
			_, first, _ := c.Start()
			ch, _, err := s.Next(first)
			if (err == nil) != tt.afterFirst {
				t.Fatalf("client-first: err = %v, want failure %v", err, !tt.afterFirst)
			}
			if err == nil {
				final, cerr := c.Next(ch)
				if cerr != nil {
					t.Fatal(cerr)
				}
				_, _, err = s.Next(final)
			}
			scramWantError(t, err, tt.kind, tt.reason)
			if tt.kind == Temporary && !errors.Is(err, dbDown) {
				t.Fatalf("error %v does not wrap the lookup error", err)
			}
		})
	}
}

// gsasl and msmtp send AUTH SCRAM-SHA-256 without an initial response and
// wait for an empty 334.
func TestSCRAMServerNoInitialResponse(t *testing.T) {
	creds := newTestCredentials("user", "pencil")
	s := NewSCRAMServer("SHA-256", false, ServerInfo{}, creds)
	ch, done, err := s.Next(nil)
	if err != nil || done || ch == nil || len(ch) != 0 {
		t.Fatalf("Next(nil) = %q, %v, %v; want an empty challenge", ch, done, err)
	}
	c := NewSCRAMClient("SHA-256", false, "", "user", "pencil", ClientInfo{})
	res, err := runExchange(t, c, s)
	if err != nil || res.User != "user" {
		t.Fatalf("exchange after empty challenge: %+v, %v", res, err)
	}

	// An empty initial response ("=" in SMTP) is not a client-first message.
	s = NewSCRAMServer("SHA-256", false, ServerInfo{}, creds)
	_, _, err = s.Next([]byte{})
	scramWantError(t, err, Malformed, "bad client-first message: empty message")
}

// A client whose transport could not send the initial response answers the
// server's empty challenge with the client-first message.
func TestSCRAMClientEmptyChallenge(t *testing.T) {
	c := NewSCRAMClient("SHA-256", false, "", "user", "pencil", ClientInfo{})
	_, first, err := c.Start()
	if err != nil {
		t.Fatal(err)
	}
	again, err := c.Next([]byte{})
	if err != nil || string(again) != string(first) {
		t.Fatalf("Next(empty) = %q, %v; want %q", again, err, first)
	}
}

func TestSCRAMEscapedUsername(t *testing.T) {
	const user = "a,b=c@example.org"
	creds := newTestCredentials(user, "pencil")
	c := NewSCRAMClient("SHA-256", false, "", user, "pencil", ClientInfo{Nonce: scramFixedNonce("nonce")})
	_, first, err := c.Start()
	if err != nil || string(first) != "n,,n=a=2Cb=3Dc@example.org,r=nonce" {
		t.Fatalf("client-first = %q, %v", first, err)
	}
	c = NewSCRAMClient("SHA-256", false, "", user, "pencil", ClientInfo{})
	res, err := runExchange(t, c, NewSCRAMServer("SHA-256", false, ServerInfo{}, creds))
	if err != nil || res.User != user {
		t.Fatalf("result = %+v, %v", res, err)
	}
}

func TestSCRAMSASLName(t *testing.T) {
	good := []struct{ wire, name string }{
		{"user", "user"},
		{"a=2Cb", "a,b"},
		{"=3D=3D", "=="},
		{"=2C", ","},
		{"jürgen", "jürgen"},
	}
	for _, g := range good {
		got, err := scramUnescape(g.wire)
		if err != nil || got != g.name {
			t.Errorf("unescape(%q) = %q, %v; want %q", g.wire, got, err, g.name)
		}
		if back := scramEscape(g.name); back != g.wire {
			t.Errorf("escape(%q) = %q; want %q", g.name, back, g.wire)
		}
	}
	for _, bad := range []string{"", "=", "a=", "a=2", "a=2c", "a=41", "a,b", "nul\x00", "\xff"} {
		if got, err := scramUnescape(bad); err == nil {
			t.Errorf("unescape(%q) = %q, want an error", bad, got)
		}
	}
}

func TestSCRAMMalformedClientFirst(t *testing.T) {
	tests := []struct{ msg, reason string }{
		{"x,,n=user,r=abc", "does not start with n, y or p="},
		{"n,n=user,r=abc", "something other than a="},
		{"n,,r=abc", "expected n= attribute"},
		{"n,,n=user", "missing r= attribute"},
		{"n,,n=user,r=", "empty value"},
		{"n,,n=,r=abc", "empty value"},
		{"n,,n=us=er,r=abc", "bad username"},
		{"n,,n=us\x00er,r=abc", "NUL"},
		{"n,,m=ext,n=user,r=abc", "mandatory extension m="},
		{"n,,n=user,r=abc,m=ext", "mandatory extension m="},
		{"n,,n=user,r=a\x7fc", "non-printable"},
		{"n,,n=user,,r=abc", "not of the form x=value"},
		{"n,a=x=y,n=user,r=abc", "bad authzid"},
		{"p=tls unique,,n=user,r=abc", "bad channel binding type"},
		{"p=tls-unique", "not terminated"},
		{"n,,", "empty message"},
	}
	for _, tt := range tests {
		t.Run(tt.msg, func(t *testing.T) {
			s := NewSCRAMServer("SHA-256", false, ServerInfo{}, newTestCredentials("user", "pencil"))
			_, done, err := s.Next([]byte(tt.msg))
			if !done {
				t.Fatal("failed step is not done")
			}
			scramWantError(t, err, Malformed, "bad client-first message: ")
			scramWantError(t, err, Malformed, tt.reason)
		})
	}
	// Unknown extensions other than m= are ignored.
	s := NewSCRAMServer("SHA-256", false, ServerInfo{}, newTestCredentials("user", "pencil"))
	if _, _, err := s.Next([]byte("n,,n=user,r=abc,x=future")); err != nil {
		t.Fatalf("optional extension rejected: %v", err)
	}
}

func TestSCRAMMalformedClientFinal(t *testing.T) {
	const nonce = "clientNONCEserverNONCE"
	proof := base64.StdEncoding.EncodeToString(make([]byte, 32))
	tests := []struct {
		name, msg string
		kind      Kind
		reason    string
	}{
		{"missing c=", "r=" + nonce + ",p=" + proof, Malformed, "expected c= attribute"},
		{"missing r=", "c=biws,p=" + proof, Malformed, "expected r= attribute"},
		{"missing p=", "c=biws,r=" + nonce, Malformed, "missing p="},
		{"bad base64 in c=", "c=b!ws,r=" + nonce + ",p=" + proof, Malformed, "c= is not valid base64"},
		{"bad base64 in p=", "c=biws,r=" + nonce + ",p=AAAA*AAA", Malformed, "p= is not valid base64"},
		{"unpadded p=", "c=biws,r=" + nonce + ",p=" + strings.TrimRight(base64.StdEncoding.EncodeToString(make([]byte, 31)), "="), Malformed, "p= is not valid base64"},
		{"short proof", "c=biws,r=" + nonce + ",p=AAAA", Malformed, "proof is 3 bytes"},
		{"m= extension", "c=biws,r=" + nonce + ",m=x,p=" + proof, Malformed, "mandatory extension m="},
		{"empty", "", Malformed, "empty message"},
		{"nonce mismatch", "c=biws,r=clientNONCEother,p=" + proof, BadCredentials, "nonce mismatch"},
		{"changed GS2 header", "c=eSws,r=" + nonce + ",p=" + proof, BadCredentials, "channel binding mismatch"},
		{"wrong proof", "c=biws,r=" + nonce + ",p=" + proof, BadCredentials, "wrong password"},
		{"extension before p=", "c=biws,r=" + nonce + ",x=1,p=" + proof, BadCredentials, "wrong password"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewSCRAMServer("SHA-256", false, ServerInfo{Nonce: scramFixedNonce("serverNONCE")}, newTestCredentials("user", "pencil"))
			if _, _, err := s.Next([]byte("n,,n=user,r=clientNONCE")); err != nil {
				t.Fatal(err)
			}
			_, done, err := s.Next([]byte(tt.msg))
			if !done {
				t.Fatal("failed step is not done")
			}
			scramWantError(t, err, tt.kind, tt.reason)
			if strings.Contains(err.Error(), proof) {
				t.Fatalf("error reveals the proof: %v", err)
			}
		})
	}
}

func TestSCRAMServerStepOrder(t *testing.T) {
	v := scramVectors[1]
	creds := newTestCredentials("user", "pencil")
	creds.salt = scramMustB64(t, v.salt)
	newServer := func() Server {
		return NewSCRAMServer("SHA-256", false, ServerInfo{Nonce: scramFixedNonce(v.serverNonce)}, creds)
	}

	// Data after the server-final message.
	s := newServer()
	s.Next([]byte(v.clientFirst))
	s.Next([]byte(v.clientFinal))
	_, done, err := s.Next([]byte("extra"))
	if !done {
		t.Fatal("not done")
	}
	scramWantError(t, err, Malformed, "unexpected data in the response to the server-final message")
	if s.Result().User != "" {
		t.Fatal("result survives a failed last step")
	}

	// Anything after success or failure.
	s = newServer()
	s.Next([]byte(v.clientFirst))
	s.Next([]byte(v.clientFinal))
	if _, done, err := s.Next(nil); err != nil || !done {
		t.Fatalf("nil as the last response: %v, %v", done, err)
	}
	_, _, err = s.Next([]byte{})
	scramWantError(t, err, Malformed, "step out of order")

	s = newServer()
	s.Next([]byte("garbage"))
	_, _, err = s.Next([]byte(v.clientFinal))
	scramWantError(t, err, Malformed, "step out of order")

	// Unsupported hash: the server fails instead of panicking.
	_, _, err = NewSCRAMServer("MD5", false, ServerInfo{}, creds).Next([]byte(v.clientFirst))
	scramWantError(t, err, Temporary, `unsupported SCRAM hash "MD5"`)
}

func TestSCRAMClientRejectsServer(t *testing.T) {
	v := scramVectors[1]
	const sfPrefix = "r=rOprNGfwEbeRWgbNEkqOsrv,s=W22ZaJ0SNY7soEsUEjb6gQ==,i="
	tests := []struct {
		name        string
		serverFirst string
		serverFinal string // used when serverFirst is accepted
		kind        Kind
		reason      string
	}{
		{"server signature mismatch", v.serverFirst, "v=" + base64.StdEncoding.EncodeToString(make([]byte, 32)), BadCredentials, "server signature mismatch"},
		{"server error in final", v.serverFirst, "e=invalid-proof", BadCredentials, "server rejected authentication: invalid-proof"},
		{"server error in first", "e=other-error", "", BadCredentials, "server rejected authentication: other-error"},
		{"bad verifier base64", v.serverFirst, "v=***", Malformed, "v= is not valid base64"},
		{"neither v nor e", v.serverFirst, "x=1", Malformed, "neither v= nor e="},
		{"nonce not extended", "r=rOprNGfwEbeRWgbNEkqO,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096", "", Malformed, "does not extend the client nonce"},
		{"foreign nonce", "r=somethingelse,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096", "", Malformed, "does not extend the client nonce"},
		{"absurd iteration count", sfPrefix + "10000001", "", Malformed, "exceeds the limit of 10000000"},
		{"huge iteration count", sfPrefix + "99999999999999999999999", "", Malformed, "exceeds the limit"},
		{"zero iterations", sfPrefix + "0", "", Malformed, "not a positive number"},
		{"missing salt", "r=rOprNGfwEbeRWgbNEkqOsrv,i=4096", "", Malformed, "expected s= attribute"},
		{"mandatory extension", "m=x," + v.serverFirst, "", Malformed, "mandatory extension"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := NewSCRAMClient("SHA-256", false, "", "user", "pencil", ClientInfo{Nonce: scramFixedNonce(v.clientNonce)})
			if _, _, err := c.Start(); err != nil {
				t.Fatal(err)
			}
			_, err := c.Next([]byte(tt.serverFirst))
			if err == nil {
				_, err = c.Next([]byte(tt.serverFinal))
			}
			scramWantError(t, err, tt.kind, tt.reason)
			if _, err := c.Next([]byte(v.final)); err == nil {
				t.Fatal("client continues after a failure")
			}
		})
	}
}

// Low iteration counts from a server are accepted (RFC 5802 does not set a
// floor; 4096 is only a recommendation).
func TestSCRAMClientLowIterations(t *testing.T) {
	creds := newTestCredentials("user", "pencil")
	creds.iter = 1
	c := NewSCRAMClient("SHA-1", false, "", "user", "pencil", ClientInfo{})
	res, err := runExchange(t, c, NewSCRAMServer("SHA-1", false, ServerInfo{}, creds))
	if err != nil || res.User != "user" {
		t.Fatalf("result = %+v, %v", res, err)
	}
}

func TestSCRAMClientStartErrors(t *testing.T) {
	tests := []struct {
		name, hash, user string
		reason           string
	}{
		{"empty user", "SHA-256", "", "user name is empty"},
		{"NUL in user", "SHA-256", "a\x00b", "contains NUL"},
		{"unknown hash", "SHA-512", "user", `unsupported SCRAM hash "SHA-512"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := NewSCRAMClient(tt.hash, false, "", tt.user, "pencil", ClientInfo{}).Start()
			if err == nil || !strings.Contains(err.Error(), tt.reason) {
				t.Fatalf("Start error = %v, want %q", err, tt.reason)
			}
		})
	}
	c := NewSCRAMClient("SHA-256", false, "", "user", "pencil", ClientInfo{})
	c.Start()
	if _, _, err := c.Start(); err == nil || !strings.Contains(err.Error(), "step out of order") {
		t.Fatalf("second Start: %v", err)
	}
}

func TestSCRAMNonce(t *testing.T) {
	// Every byte value becomes a valid nonce character.
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	n, err := scramNonce(func(int) []byte { return all })
	if err != nil || len(n) != 256 || !scramValidNonce(n) {
		t.Fatalf("nonce %q is not printable: %v", n, err)
	}
	// crypto/rand: the right length, and two draws differ.
	a, _ := scramNonce(nil)
	b, _ := scramNonce(nil)
	if len(a) != scramNonceLen || !scramValidNonce(a) || a == b {
		t.Fatalf("random nonces %q, %q", a, b)
	}
	if _, err := scramNonce(func(int) []byte { return nil }); err == nil {
		t.Fatal("empty nonce accepted")
	}
}

// The flags a -PLUS server accepts, checked on raw client-first messages.
func TestSCRAMPlusServerFlags(t *testing.T) {
	tests := []struct {
		msg    string
		kind   Kind // 0: accepted
		reason string
	}{
		{"p=tls-exporter,,n=user,r=abc", 0, ""},
		{"p=tls-exporter,a=user,n=user,r=abc", 0, ""},
		{"y,,n=user,r=abc", Malformed, "flag y instead of p="},
		{"n,,n=user,r=abc", Malformed, "flag n instead of p="},
		{"p=tls-unique,,n=user,r=abc", BadCredentials, `channel binding type "tls-unique" is not available on this connection`},
		{"p=tls-server-end-point,,n=user,r=abc", BadCredentials, `"tls-server-end-point" is not available`},
	}
	for _, tt := range tests {
		t.Run(tt.msg, func(t *testing.T) {
			s := NewSCRAMServer("SHA-1", true, ServerInfo{ChannelBindings: scramTLS13}, newTestCredentials("user", "pencil"))
			ch, done, err := s.Next([]byte(tt.msg))
			if tt.kind == 0 {
				if err != nil || done || !strings.HasPrefix(string(ch), "r=abc") {
					t.Fatalf("Next = %q, %v, %v", ch, done, err)
				}
				return
			}
			scramWantError(t, err, tt.kind, tt.reason)
		})
	}
}

// scramSecretCreds returns a fixed secret from SCRAMSecret.
type scramSecretCreds struct {
	*testCredentials
	secret SCRAMSecret
}

func (c scramSecretCreds) SCRAMSecret(user, _ string) (string, SCRAMSecret, error) {
	return user, c.secret, nil
}

// A damaged stored secret is a server problem, not the client's.
func TestSCRAMInvalidStoredSecret(t *testing.T) {
	good, err := DeriveSCRAM("SHA-256", "pencil", []byte("salt"), 4096)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		secret SCRAMSecret
	}{
		{"SHA-1 sized keys", func() SCRAMSecret { s, _ := DeriveSCRAM("SHA-1", "pencil", []byte("salt"), 4096); return s }()},
		{"no salt", SCRAMSecret{Iterations: 4096, StoredKey: good.StoredKey, ServerKey: good.ServerKey}},
		{"no iterations", SCRAMSecret{Salt: good.Salt, StoredKey: good.StoredKey, ServerKey: good.ServerKey}},
		{"zero value", SCRAMSecret{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewSCRAMServer("SHA-256", false, ServerInfo{}, scramSecretCreds{newTestCredentials(), tt.secret})
			_, _, err := s.Next([]byte("n,,n=user,r=abc"))
			scramWantError(t, err, Temporary, "stored SCRAM-SHA-256 secret for this user is invalid")
		})
	}
	// The same store with the good secret works, so the cases above fail
	// for the reason tested.
	c := NewSCRAMClient("SHA-256", false, "", "user", "pencil", ClientInfo{})
	if _, err := runExchange(t, c, NewSCRAMServer("SHA-256", false, ServerInfo{}, scramSecretCreds{newTestCredentials(), good})); err != nil {
		t.Fatal(err)
	}
}
