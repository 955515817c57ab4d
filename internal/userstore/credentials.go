package userstore

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"database/sql"
	"fmt"
	"strings"

	"postgate/internal/sasl"
)

// This file implements sasl.Credentials for SQLite. The methods have no
// context; each runs under Options.LookupTimeout. They return the bare
// sentinels sasl.ErrUnknownUser, sasl.ErrNoSecret and sasl.ErrWrongPassword
// (the mechanism adds the user name to its log reason); other errors are
// temporary failures of the database.

func (s *SQLite) lookupContext() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), s.opts.LookupTimeout)
}

// CheckPassword verifies a PLAIN or LOGIN password against the user's
// argon2id hash. For an unknown user, a name that is not an address, or a
// user without a password hash, it hashes the password against a dummy
// before failing, so the reply takes as long as for a wrong password.
func (s *SQLite) CheckPassword(user, password string) (string, error) {
	ctx, cancel := s.lookupContext()
	defer cancel()
	password = normalizePassword(password)
	addr, err := s.Canonical(user)
	if err != nil {
		s.burn(ctx, password)
		return "", sasl.ErrUnknownUser
	}
	rows, err := s.secrets(ctx, addr, KindPassword, "")
	if err != nil {
		if err == sasl.ErrUnknownUser {
			s.burn(ctx, password)
		}
		return "", err
	}
	if len(rows) == 0 {
		s.burn(ctx, password)
		return "", sasl.ErrNoSecret
	}
	release, err := s.hashSlot(ctx)
	if err != nil {
		return "", err
	}
	defer release()
	ok, err := verifyPassword(rows[0].data, password)
	if err != nil {
		return "", fmt.Errorf("userstore: %s: %w", addr, err)
	}
	if !ok {
		return "", sasl.ErrWrongPassword
	}
	return addr, nil
}

// burn spends the time of one password verification against a dummy hash
// made with the current parameters. The first call makes the dummy, which
// costs the same.
func (s *SQLite) burn(ctx context.Context, password string) {
	release, err := s.hashSlot(ctx)
	if err != nil {
		return
	}
	defer release()
	made := false
	s.dummyOnce.Do(func() {
		s.dummy = hashPassword(rand.Text(), s.opts.Argon2)
		made = true
	})
	if !made {
		verifyPassword(s.dummy, password)
	}
}

// CRAMMD5Secret returns the user's HMAC-MD5 states.
func (s *SQLite) CRAMMD5Secret(user string) (string, sasl.CRAMMD5Secret, error) {
	ctx, cancel := s.lookupContext()
	defer cancel()
	addr, err := s.Canonical(user)
	if err != nil {
		return "", sasl.CRAMMD5Secret{}, sasl.ErrUnknownUser
	}
	rows, err := s.secrets(ctx, addr, KindCRAMMD5, "")
	if err != nil {
		return "", sasl.CRAMMD5Secret{}, err
	}
	if len(rows) == 0 {
		return "", sasl.CRAMMD5Secret{}, sasl.ErrNoSecret
	}
	sec, err := decodeCRAM(rows[0].data)
	if err != nil {
		return "", sasl.CRAMMD5Secret{}, fmt.Errorf("userstore: %s %s: %w", addr, KindCRAMMD5, err)
	}
	return addr, sec, nil
}

// DigestMD5Secret returns the HA1 for the username form the client sent
// and realm. A client hashes the username exactly as it sends it, so the
// store keeps a HA1 for the full address and, for users in the default
// domain, one for the bare local part: a user name sent with "@" selects
// the full-address HA1, one without selects the bare one. (A client that
// sends the domain in another case, or the local part in another Unicode
// form, hashed a string the store never saw; its proof will not verify.)
// The realm is matched exactly if possible, else case-insensitively; a
// realm with no HA1 gives sasl.ErrNoSecret.
func (s *SQLite) DigestMD5Secret(user, realm string) (string, [16]byte, error) {
	ctx, cancel := s.lookupContext()
	defer cancel()
	addr, err := s.Canonical(user)
	if err != nil {
		return "", [16]byte{}, sasl.ErrUnknownUser
	}
	authcid := addr
	if !strings.Contains(user, "@") {
		authcid, _, _ = strings.Cut(addr, "@")
	}
	rows, err := s.secrets(ctx, addr, KindDigestMD5, authcid)
	if err != nil {
		return "", [16]byte{}, err
	}
	pick := -1
	for i, r := range rows {
		if r.realm == realm {
			pick = i
			break
		}
		if pick < 0 && strings.EqualFold(r.realm, realm) {
			pick = i
		}
	}
	if pick < 0 {
		return "", [16]byte{}, sasl.ErrNoSecret
	}
	ha1, err := decodeHA1(rows[pick].data)
	if err != nil {
		return "", [16]byte{}, fmt.Errorf("userstore: %s %s: %w", addr, KindDigestMD5, err)
	}
	return addr, ha1, nil
}

// SCRAMSecret returns the user's SCRAM secret for hash "SHA-1" or "SHA-256".
func (s *SQLite) SCRAMSecret(user, hash string) (string, sasl.SCRAMSecret, error) {
	ctx, cancel := s.lookupContext()
	defer cancel()
	var kind string
	switch hash {
	case "SHA-1":
		kind = KindSCRAMSHA1
	case "SHA-256":
		kind = KindSCRAMSHA256
	default:
		return "", sasl.SCRAMSecret{}, fmt.Errorf("userstore: unknown SCRAM hash %q", hash)
	}
	addr, err := s.Canonical(user)
	if err != nil {
		return "", sasl.SCRAMSecret{}, sasl.ErrUnknownUser
	}
	rows, err := s.secrets(ctx, addr, kind, "")
	if err != nil {
		return "", sasl.SCRAMSecret{}, err
	}
	if len(rows) == 0 {
		return "", sasl.SCRAMSecret{}, sasl.ErrNoSecret
	}
	sec, err := decodeSCRAM(rows[0].data)
	if err != nil {
		return "", sasl.SCRAMSecret{}, fmt.Errorf("userstore: %s %s: %w", addr, kind, err)
	}
	return addr, sec, nil
}

// CertificateUser maps a verified client certificate to a user: the first
// rfc822Name subject alternative name that is an existing user, or else the
// subject common name under the username rule ("alice" is alice@ the
// default domain) if that is an existing user.
func (s *SQLite) CertificateUser(cert *x509.Certificate) (string, error) {
	if cert == nil {
		return "", sasl.ErrUnknownUser
	}
	ctx, cancel := s.lookupContext()
	defer cancel()
	names := append([]string(nil), cert.EmailAddresses...)
	if cert.Subject.CommonName != "" {
		names = append(names, cert.Subject.CommonName)
	}
	for _, n := range names {
		addr, err := s.Canonical(n)
		if err != nil {
			continue
		}
		ok, err := userExists(ctx, s.db, addr)
		if err != nil {
			return "", fmt.Errorf("userstore: %w", err)
		}
		if ok {
			return addr, nil
		}
	}
	return "", sasl.ErrUnknownUser
}

// MayAuthorize reports whether user may act as authz: only when authz
// (under the username rule) is the user itself or exactly one of the
// user's sender address entries. "@domain" entries do not count: they
// let a user send as any address in the domain, not become other users.
// A lookup failure denies.
func (s *SQLite) MayAuthorize(user, authz string) bool {
	ctx, cancel := s.lookupContext()
	defer cancel()
	owner, err1 := s.Canonical(user)
	target, err2 := s.Canonical(authz)
	if err1 != nil || err2 != nil {
		return false
	}
	if owner == target {
		return true
	}
	var ok bool
	err := s.db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM senders WHERE owner = ? AND address = ?)`,
		owner, target).Scan(&ok)
	return err == nil && ok
}

// secrets returns the user's rows of kind (for DIGEST-MD5, those hashed
// with authcid), sasl.ErrUnknownUser when the user does not exist, or a
// wrapped database error.
func (s *SQLite) secrets(ctx context.Context, addr, kind, authcid string) ([]secretRow, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT s.realm, s.data FROM users u
		LEFT JOIN secrets s ON s.address = u.address AND s.kind = ? AND s.authcid = ?
		WHERE u.address = ?`, kind, authcid, addr)
	if err != nil {
		return nil, fmt.Errorf("userstore: %w", err)
	}
	defer rows.Close()
	user := false
	var out []secretRow
	for rows.Next() {
		user = true
		var realm, data sql.NullString
		if err := rows.Scan(&realm, &data); err != nil {
			return nil, fmt.Errorf("userstore: %w", err)
		}
		if data.Valid {
			out = append(out, secretRow{kind: kind, realm: realm.String, authcid: authcid, data: data.String})
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("userstore: %w", err)
	}
	if !user {
		return nil, sasl.ErrUnknownUser
	}
	return out, nil
}
