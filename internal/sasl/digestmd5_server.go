package sasl

import (
	"crypto/md5"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

const (
	// digestMD5NonceLifetime is how long after the challenge a response is accepted.
	digestMD5NonceLifetime = 5 * time.Minute
	// digestMD5MaxResponse is RFC 2831 §2.1.2's limit on the response size.
	digestMD5MaxResponse = 4096
	// digestMD5NonceBytes is the number of random bytes in a server nonce.
	digestMD5NonceBytes = 16
)

// NewDigestMD5Server returns the server side of DIGEST-MD5 (RFC 2831) with
// qop "auth" and algorithm md5-sess only: no integrity or confidentiality
// layer, which TLS provides. The challenge offers each of info.Realms
// (default info.Hostname) and a fresh nonce of 16 random bytes; the Server
// accepts one response to it, within five minutes.
//
// The response is parsed tolerantly (see real-clients.md: directive order,
// quoting, realm and digest-uri choices vary between clients) but every
// variant accepted still requires the response hash, computed from the
// stored H(user:realm:password) for the realm the client actually hashed,
// so each is a full proof of the password; Result.Notes names the
// variants that were needed.
func NewDigestMD5Server(info ServerInfo, creds Credentials) Server {
	realms := info.Realms
	if len(realms) == 0 && info.Hostname != "" {
		realms = []string{info.Hostname}
	}
	return &digestMD5Server{info: info, creds: creds, realms: realms}
}

type digestMD5Server struct {
	info   ServerInfo
	creds  Credentials
	realms []string
	// nonce is the nonce issued. Only tests set it before the first Next,
	// to reproduce RFC 2831's example; otherwise it is random.
	nonce  string
	issued time.Time
	step   int    // 0: new; 1: challenge sent; 2: rspauth sent; 3: over
	user   string // as the client sent it, once known
	notes  []string
	result Result
}

func (s *digestMD5Server) Result() Result { return s.result }

func (s *digestMD5Server) Next(response []byte) ([]byte, bool, error) {
	switch s.step {
	case 0:
		if len(response) > 0 {
			s.step = 3
			return nil, true, Failf(Malformed, "", "bad response format: DIGEST-MD5 takes no initial response (subsequent authentication is not supported)")
		}
		if response != nil {
			s.notes = append(s.notes, "empty initial response ignored")
		}
		s.step = 1
		return s.challenge(), false, nil
	case 1:
		s.step = 3 // one response per nonce, whatever its fate
		rspauth, err := s.verify(response)
		if err != nil {
			return nil, true, err
		}
		s.step = 2
		return rspauth, false, nil
	case 2:
		s.step = 3
		if len(response) == 0 {
			return nil, true, nil
		}
		s.result = Result{}
		if s.reusesNonce(response) {
			return nil, true, Failf(BadCredentials, s.user, "nonce reused")
		}
		return nil, true, Failf(Malformed, s.user, "bad response format: expected an empty response after rspauth")
	}
	if s.reusesNonce(response) {
		return nil, true, Failf(BadCredentials, s.user, "nonce reused")
	}
	return nil, true, outOfOrder(s.user)
}

// challenge builds the digest-challenge and records when it was issued.
func (s *digestMD5Server) challenge() []byte {
	if s.nonce == "" {
		s.nonce = hex.EncodeToString(serverRandom(s.info, digestMD5NonceBytes))
	}
	s.issued = serverNow(s.info)
	var b strings.Builder
	for _, r := range s.realms {
		b.WriteString("realm=" + quoteDigest(r) + ",")
	}
	b.WriteString("nonce=" + quoteDigest(s.nonce) + `,qop="auth",charset=utf-8,algorithm=md5-sess`)
	return []byte(b.String())
}

// reusesNonce reports whether response is a digest-response for this
// Server's nonce (a second use of it).
func (s *digestMD5Server) reusesNonce(response []byte) bool {
	ds, err := parseDigestDirectives(response)
	if err != nil || s.nonce == "" {
		return false
	}
	for _, d := range ds {
		if d.name == "nonce" && d.value == s.nonce {
			return true
		}
	}
	return false
}

// digestMD5Response holds the parsed directives of a digest-response and
// collects notes about the variants it uses.
type digestMD5Response struct {
	m     map[string]digestDirective
	notes []string
}

// get returns a directive's value; quoted says how RFC 2831 writes it,
// and a difference is noted.
func (r *digestMD5Response) get(name string, quoted bool) (string, bool) {
	d, ok := r.m[name]
	if !ok {
		return "", false
	}
	if d.quoted != quoted {
		if d.quoted {
			r.notes = append(r.notes, name+" was quoted")
		} else {
			r.notes = append(r.notes, name+" was not quoted")
		}
	}
	return d.value, true
}

func (s *digestMD5Server) verify(response []byte) ([]byte, error) {
	if len(response) > digestMD5MaxResponse {
		return nil, Failf(Malformed, "", "bad response format: %d bytes, RFC 2831 allows %d", len(response), digestMD5MaxResponse)
	}
	ds, err := parseDigestDirectives(response)
	if err == nil {
		var m map[string]digestDirective
		if m, err = uniqueDigestDirectives(ds); err == nil {
			return s.verifyDirectives(&digestMD5Response{m: m, notes: append([]string(nil), s.notes...)})
		}
	}
	return nil, Failf(Malformed, "", "bad response format: %v", err)
}

func (s *digestMD5Server) verifyDirectives(r *digestMD5Response) ([]byte, error) {
	// charset=utf-8, or absent for ISO 8859-1 username and realm.
	utf8Charset := false
	if cs, ok := r.get("charset", false); ok {
		if !strings.EqualFold(cs, "utf-8") {
			return nil, Failf(Malformed, "", "bad response format: charset %q not supported (only utf-8)", cs)
		}
		utf8Charset = true
	} else {
		r.notes = append(r.notes, "charset absent (ISO 8859-1 assumed)")
	}
	decode := func(name, v string) (string, *Error) {
		if !utf8Charset {
			return latin1ToUTF8(v), nil
		}
		if !utf8.ValidString(v) {
			return "", Failf(Malformed, s.user, "bad response format: %s is not valid UTF-8 despite charset=utf-8", name)
		}
		return v, nil
	}

	rawUser, ok := r.get("username", true)
	if !ok || rawUser == "" {
		return nil, Failf(Malformed, "", "bad response format: username missing")
	}
	user, derr := decode("username", rawUser)
	if derr != nil {
		return nil, derr
	}
	s.user = user
	if strings.Contains(user, "@") {
		r.notes = append(r.notes, "username given with @domain")
	}

	var p digestMD5Params
	if p.nonce, ok = r.get("nonce", true); !ok {
		return nil, Failf(Malformed, user, "bad response format: nonce missing")
	}
	if p.nonce != s.nonce {
		return nil, Failf(BadCredentials, user, "nonce does not match the one issued")
	}
	if p.nc, ok = r.get("nc", false); !ok {
		return nil, Failf(Malformed, user, "bad response format: nc missing")
	}
	if n, err := parseNonceCount(p.nc); err != nil {
		return nil, Failf(Malformed, user, "bad response format: %v", err)
	} else if n != 1 {
		return nil, Failf(BadCredentials, user, "nonce reused (nc %q, want 00000001)", p.nc)
	}
	if p.cnonce, ok = r.get("cnonce", true); !ok || p.cnonce == "" {
		return nil, Failf(Malformed, user, "bad response format: cnonce missing")
	}
	if p.qop, ok = r.get("qop", false); !ok {
		p.qop = "auth"
		r.notes = append(r.notes, "qop absent (auth assumed)")
	} else if !strings.EqualFold(p.qop, "auth") {
		return nil, Failf(Malformed, user, "bad response format: qop %q not offered (only auth)", p.qop)
	}
	if age := serverNow(s.info).Sub(s.issued); age > digestMD5NonceLifetime {
		return nil, Failf(BadCredentials, user, "nonce stale (response %s after the challenge, limit %s)", age.Round(time.Second), digestMD5NonceLifetime)
	}
	if p.digestURI, ok = r.get("digest-uri", true); !ok {
		return nil, Failf(Malformed, user, "bad response format: digest-uri missing")
	}
	if err := s.checkDigestURI(r, p.digestURI); err != nil {
		return nil, err
	}
	respHex, ok := r.get("response", false)
	if !ok {
		return nil, Failf(Malformed, user, "bad response format: response missing")
	}
	var proof [md5.Size]byte
	if len(respHex) != 2*md5.Size {
		return nil, Failf(Malformed, user, "bad response format: response is not %d hex digits", 2*md5.Size)
	}
	if _, err := hex.Decode(proof[:], []byte(respHex)); err != nil {
		return nil, Failf(Malformed, user, "bad response format: response is not %d hex digits", 2*md5.Size)
	}
	if respHex != strings.ToLower(respHex) {
		r.notes = append(r.notes, "response in upper-case hex")
	}
	if p.authzid, ok = r.get("authzid", true); ok {
		if !utf8.ValidString(p.authzid) {
			return nil, Failf(Malformed, user, "bad response format: authzid is not valid UTF-8")
		}
		if p.authzid == "" {
			r.notes = append(r.notes, "authzid empty")
		}
	}

	tries, realmDetail, derr := s.realmTries(r, decode)
	if derr != nil {
		return nil, derr
	}
	for i, t := range tries {
		canonical, ha1, err := s.creds.DigestMD5Secret(user, t.realm)
		if err != nil {
			switch {
			case i > 0 && errors.Is(err, ErrNoSecret):
				continue // the fallback realm has no secret: the first try decided
			case errors.Is(err, ErrNoSecret) && !s.offered(t.realm):
				return nil, Failf(BadCredentials, user, "realm %q not offered (offered %v) and no secret stored for it", t.realm, s.realms)
			}
			return nil, credentialsFailure(DigestMD5, user, err)
		}
		want := digestMD5Proof(ha1, p, "AUTHENTICATE:")
		if subtle.ConstantTimeCompare(want[:], proof[:]) != 1 {
			continue
		}
		if t.note != "" {
			r.notes = append(r.notes, t.note)
		}
		authz, aerr := authorizeAs(s.creds, user, canonical, p.authzid)
		if aerr != nil {
			return nil, aerr
		}
		s.result = Result{User: canonical, Authz: authz, Notes: r.notes}
		rspauth := digestMD5Proof(ha1, p, ":")
		return hex.AppendEncode([]byte("rspauth="), rspauth[:]), nil
	}
	if realmDetail != "" {
		// The stored secret is per realm spelling: name the realm used, as
		// a client that hashed an unstored spelling fails here too.
		return nil, Failf(BadCredentials, user, "wrong password (%s)", realmDetail)
	}
	return nil, Failf(BadCredentials, user, "wrong password")
}

// parseNonceCount parses nc-value, 8 hex digits.
func parseNonceCount(nc string) (uint64, error) {
	if len(nc) != 8 {
		return 0, fmt.Errorf("nc is %d characters, want 8 hex digits", len(nc))
	}
	var n uint64
	for i := 0; i < len(nc); i++ {
		c := nc[i]
		var v byte
		switch {
		case '0' <= c && c <= '9':
			v = c - '0'
		case 'a' <= c && c <= 'f':
			v = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			v = c - 'A' + 10
		default:
			return 0, fmt.Errorf("nc is not hexadecimal")
		}
		n = n<<4 | uint64(v)
	}
	return n, nil
}

// realmTry is one realm whose stored secret may have produced the response.
type realmTry struct {
	realm string
	note  string // the variant, if this realm matches
}

// realmTries lists the realms the client may have hashed, and for a
// failed proof a description of the realm variant ("" for an offered realm
// as offered). A realm sent is used as sent (its spelling enters the hash).
// An absent realm is hashed by some clients as the server's default realm
// and by others, following RFC 2831 to the letter, as the empty string:
// both are tried, each being a full proof of the password.
func (s *digestMD5Server) realmTries(r *digestMD5Response, decode func(name, v string) (string, *Error)) ([]realmTry, string, *Error) {
	raw, ok := r.get("realm", true)
	if !ok {
		if len(s.realms) == 0 {
			return []realmTry{{realm: "", note: "realm absent"}}, "realm absent", nil
		}
		def := s.realms[0]
		return []realmTry{
				{realm: def, note: fmt.Sprintf("realm absent; hashed with the default realm %q", def)},
				{realm: "", note: "realm absent; hashed with the empty realm"},
			},
			fmt.Sprintf("realm absent; tried the default realm %q and the empty realm", def), nil
	}
	realm, err := decode("realm", raw)
	if err != nil {
		return nil, "", err
	}
	t := realmTry{realm: realm}
	switch match := s.offeredMatch(realm); {
	case realm == "" && len(s.realms) > 0:
		t.note = "realm empty"
	case match == realm:
	case match != "":
		t.note = fmt.Sprintf("realm %q differs in case from offered %q", realm, match)
	default:
		t.note = fmt.Sprintf("realm %q was not offered (the client's choice)", realm)
	}
	return []realmTry{t}, t.note, nil
}

// offeredMatch returns the offered realm equal to realm ignoring case, "" if none.
func (s *digestMD5Server) offeredMatch(realm string) string {
	for _, o := range s.realms {
		if o == realm {
			return o
		}
	}
	for _, o := range s.realms {
		if strings.EqualFold(o, realm) {
			return o
		}
	}
	return ""
}

func (s *digestMD5Server) offered(realm string) bool {
	return s.offeredMatch(realm) != "" || (realm == "" && len(s.realms) == 0)
}

// digestURIName is a name the server answers to in a digest-uri.
type digestURIName struct {
	name string
	note string // format for the note when the client used it; "" for the hostname
}

// checkDigestURI checks `service/host[/serv-name]`: the service must be
// ours and the host one of our names, so a response computed for another
// server cannot be replayed here. The host may be the hostname, an alias,
// the address the client connected to (swaks, gsasl, msmtp) or a realm
// (curl); the last three are noted.
func (s *digestMD5Server) checkDigestURI(r *digestMD5Response, uri string) *Error {
	parts := strings.Split(uri, "/")
	if len(parts) < 2 || len(parts) > 3 || parts[1] == "" {
		return Failf(Malformed, s.user, "bad response format: digest-uri %q is not service/host[/serv-name]", uri)
	}
	service, host := parts[0], parts[1]
	if want := serviceName(s.info.Service); !strings.EqualFold(service, want) {
		return Failf(BadCredentials, s.user, "digest-uri %q names service %q, want %q", uri, service, want)
	}
	bare := strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	var names []digestURIName
	add := func(name, note string) {
		if name == "" {
			return
		}
		for _, n := range names {
			if strings.EqualFold(n.name, name) {
				return
			}
		}
		names = append(names, digestURIName{name, note})
	}
	add(s.info.Hostname, "")
	for _, a := range s.info.Aliases {
		add(a, "digest-uri host %q is an alias, not the hostname")
	}
	add(s.info.LocalAddr, "digest-uri host %q is the connected address, not the hostname")
	for _, realm := range s.realms {
		add(realm, "digest-uri host %q is a realm, not the hostname")
	}
	for _, n := range names {
		if !strings.EqualFold(n.name, bare) {
			continue
		}
		switch {
		case n.note != "":
			r.notes = append(r.notes, fmt.Sprintf(n.note, host))
		case bare != n.name:
			r.notes = append(r.notes, fmt.Sprintf("digest-uri host %q differs in case from the hostname %q", host, n.name))
		}
		if len(parts) == 3 {
			r.notes = append(r.notes, fmt.Sprintf("digest-uri has serv-name %q", parts[2]))
		}
		return nil
	}
	list := make([]string, len(names))
	for i, n := range names {
		list[i] = n.name
	}
	return Failf(BadCredentials, s.user, "digest-uri %q does not match any of [%s]", uri, strings.Join(list, " "))
}
