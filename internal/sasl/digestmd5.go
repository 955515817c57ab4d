package sasl

import (
	"crypto/md5"
	"encoding/hex"
)

// digestMD5Params are the values of one DIGEST-MD5 response that enter the
// hash, exactly as they appeared on the wire (unquoted).
type digestMD5Params struct {
	nonce, cnonce, nc, qop, digestURI string
	authzid                           string // "" when absent or empty: A1 then has no authzid part
}

// digestMD5Proof computes RFC 2831's KD(HEX(H(A1)), nonce:nc:cnonce:qop:HEX(H(A2)))
// for algorithm md5-sess and qop auth. ha1 is H(username:realm:password),
// the stored secret. a2Prefix is "AUTHENTICATE:" for the client's response
// (§2.1.2.1) and ":" for the server's rspauth (§2.1.3).
func digestMD5Proof(ha1 [md5.Size]byte, p digestMD5Params, a2Prefix string) [md5.Size]byte {
	a1 := make([]byte, 0, 128)
	a1 = append(a1, ha1[:]...)
	a1 = append(a1, ":"+p.nonce+":"+p.cnonce...)
	if p.authzid != "" {
		a1 = append(a1, ":"+p.authzid...)
	}
	hA1 := md5.Sum(a1)
	hA2 := md5.Sum([]byte(a2Prefix + p.digestURI))
	kd := hex.EncodeToString(hA1[:]) + ":" + p.nonce + ":" + p.nc + ":" + p.cnonce + ":" + p.qop + ":" + hex.EncodeToString(hA2[:])
	return md5.Sum([]byte(kd))
}
