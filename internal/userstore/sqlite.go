package userstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver (pure Go)

	"postgate/internal/sasl"
)

// Options configure a store.
type Options struct {
	// DefaultDomain is appended to user names given without "@".
	DefaultDomain string
	// DigestRealms are the realms a DIGEST-MD5 HA1 is stored for when a
	// password is set. Realms differing only in case are stored once.
	DigestRealms []string
	// SCRAMIterations for newly set passwords; 0 means 4096.
	SCRAMIterations int
	// Argon2 cost for newly set passwords; zero fields take DefaultArgon2's.
	// Tests make it cheap.
	Argon2 Argon2Params
	// LookupTimeout bounds each sasl.Credentials lookup, which has no
	// context of its own; 0 means 5 seconds.
	LookupTimeout time.Duration
}

// withDefaults validates o and fills in the defaults.
func (o Options) withDefaults() (Options, error) {
	if o.DefaultDomain != "" {
		d, err := canonicalDomain(o.DefaultDomain)
		if err != nil {
			return o, fmt.Errorf("userstore: default domain %q: %s", o.DefaultDomain, err)
		}
		o.DefaultDomain = d
	}
	var realms []string
	for _, r := range o.DigestRealms {
		if r != "" && !slices.ContainsFunc(realms, func(s string) bool { return strings.EqualFold(s, r) }) {
			realms = append(realms, r)
		}
	}
	o.DigestRealms = realms
	switch {
	case o.SCRAMIterations == 0:
		o.SCRAMIterations = 4096
	case o.SCRAMIterations < 0:
		return o, fmt.Errorf("userstore: SCRAM iterations %d is negative", o.SCRAMIterations)
	}
	if o.Argon2.Memory == 0 {
		o.Argon2.Memory = DefaultArgon2.Memory
	}
	if o.Argon2.Time == 0 {
		o.Argon2.Time = DefaultArgon2.Time
	}
	if o.Argon2.Threads == 0 {
		o.Argon2.Threads = DefaultArgon2.Threads
	}
	if o.LookupTimeout <= 0 {
		o.LookupTimeout = 5 * time.Second
	}
	return o, nil
}

// SQLite is the built-in Store, one SQLite database file in WAL mode
// (modernc.org/sqlite, no cgo). It is safe for concurrent use, also by
// several processes (the server and `postgate user`).
type SQLite struct {
	db   *sql.DB
	opts Options
	// hashSlots bounds concurrent argon2 computations, each of which
	// takes Argon2.Memory of RAM.
	hashSlots chan struct{}

	dummyOnce sync.Once
	dummy     string // PHC string of a random password, for unknown users
}

var _ Store = (*SQLite)(nil)

// schemaVersion is the version this code creates and understands.
const schemaVersion = 1

// schema creates version 1. See docs/userstore.md.
const schema = `
CREATE TABLE IF NOT EXISTS schema_version (
	version INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS users (
	address TEXT NOT NULL PRIMARY KEY,
	created INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS secrets (
	address TEXT NOT NULL REFERENCES users(address) ON DELETE CASCADE,
	kind    TEXT NOT NULL,
	realm   TEXT NOT NULL DEFAULT '',
	authcid TEXT NOT NULL DEFAULT '',
	data    TEXT NOT NULL,
	PRIMARY KEY (address, kind, realm, authcid)
);
CREATE TABLE IF NOT EXISTS senders (
	owner   TEXT NOT NULL REFERENCES users(address) ON DELETE CASCADE,
	address TEXT NOT NULL,
	PRIMARY KEY (owner, address)
);
`

// OpenSQLite opens (creating if needed, mode 0600) the user database at
// path. The directory must exist.
func OpenSQLite(path string, opts Options) (*SQLite, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("userstore: %w", err)
	}
	// Create the file ourselves so it is private; SQLite gives the -wal
	// and -shm files the database file's permissions.
	f, err := os.OpenFile(abs, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	switch {
	case err == nil:
		f.Close()
	case !errors.Is(err, fs.ErrExist):
		return nil, fmt.Errorf("userstore: %w", err)
	}
	dsn := "file:" + (&url.URL{Path: abs}).EscapedPath() +
		"?_busy_timeout=5000&_fk=1&_journal_mode=WAL&_txlock=immediate&_pragma=secure_delete(1)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("userstore: opening %s: %w", abs, err)
	}
	db.SetMaxOpenConns(8)
	s := &SQLite{db: db, opts: o, hashSlots: make(chan struct{}, max(2, runtime.GOMAXPROCS(0)))}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("userstore: %s: %w", abs, err)
	}
	return s, nil
}

// migrate creates the schema and checks its version.
func (s *SQLite) migrate(ctx context.Context) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, schema); err != nil {
		return fmt.Errorf("creating schema: %w", err)
	}
	var v int
	switch err := tx.QueryRowContext(ctx, `SELECT version FROM schema_version`).Scan(&v); {
	case errors.Is(err, sql.ErrNoRows):
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_version(version) VALUES (?)`, schemaVersion); err != nil {
			return err
		}
	case err != nil:
		return err
	case v > schemaVersion:
		return fmt.Errorf("schema version %d is newer than this postgate understands (%d)", v, schemaVersion)
	}
	return tx.Commit()
}

// Close closes the database.
func (s *SQLite) Close() error { return s.db.Close() }

// Canonical applies the username rule with the store's default domain.
func (s *SQLite) Canonical(name string) (string, error) {
	return Canonical(name, s.opts.DefaultDomain)
}

// hashSlot waits for a free argon2 slot; release it with the returned func.
func (s *SQLite) hashSlot(ctx context.Context) (func(), error) {
	select {
	case s.hashSlots <- struct{}{}:
		return func() { <-s.hashSlots }, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("userstore: waiting to hash a password: %w", ctx.Err())
	}
}

// derive validates a password and computes the rows to store for address.
func (s *SQLite) derive(ctx context.Context, address, password string) ([]secretRow, error) {
	if err := checkPasswordText(password); err != nil {
		return nil, err
	}
	release, err := s.hashSlot(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	return deriveSecrets(address, normalizePassword(password), &s.opts)
}

// AddUser creates a user with secrets derived from password.
func (s *SQLite) AddUser(ctx context.Context, address, password string) error {
	addr, err := s.Canonical(address)
	if err != nil {
		return err
	}
	rows, err := s.derive(ctx, addr, password)
	if err != nil {
		return err
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		if ok, err := userExists(ctx, tx, addr); err != nil {
			return err
		} else if ok {
			return fmt.Errorf("%w: %s", ErrUserExists, addr)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO users(address, created) VALUES (?, ?)`, addr, time.Now().Unix()); err != nil {
			return err
		}
		return insertSecrets(ctx, tx, addr, rows)
	})
}

// SetPassword replaces all of a user's secrets.
func (s *SQLite) SetPassword(ctx context.Context, address, password string) error {
	addr, err := s.Canonical(address)
	if err != nil {
		return err
	}
	rows, err := s.derive(ctx, addr, password)
	if err != nil {
		return err
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		if err := mustExist(ctx, tx, addr); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM secrets WHERE address = ?`, addr); err != nil {
			return err
		}
		return insertSecrets(ctx, tx, addr, rows)
	})
}

// DeleteUser removes a user with its secrets and sender entries.
func (s *SQLite) DeleteUser(ctx context.Context, address string) error {
	addr, err := s.Canonical(address)
	if err != nil {
		return err
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM users WHERE address = ?`, addr)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return fmt.Errorf("%w: %s", sasl.ErrUnknownUser, addr)
		}
		return nil
	})
}

// ListUsers returns every user ordered by address.
func (s *SQLite) ListUsers(ctx context.Context) ([]User, error) {
	var users []User
	index := map[string]int{}
	err := s.query(ctx, `SELECT address, created FROM users ORDER BY address`, nil, func(r *sql.Rows) error {
		var u User
		var created int64
		if err := r.Scan(&u.Address, &created); err != nil {
			return err
		}
		u.Created = time.Unix(created, 0).UTC()
		u.Senders, u.Mechanisms = []string{}, []string{}
		index[u.Address] = len(users)
		users = append(users, u)
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = s.query(ctx, `SELECT DISTINCT address, kind, realm FROM secrets WHERE authcid = '' OR authcid = address`, nil, func(r *sql.Rows) error {
		var addr, kind, realm string
		if err := r.Scan(&addr, &kind, &realm); err != nil {
			return err
		}
		if i, ok := index[addr]; ok {
			if kind == KindDigestMD5 {
				kind += ":" + realm
			}
			users[i].Mechanisms = append(users[i].Mechanisms, kind)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = s.query(ctx, `SELECT owner, address FROM senders ORDER BY rowid`, nil, func(r *sql.Rows) error {
		var owner, addr string
		if err := r.Scan(&owner, &addr); err != nil {
			return err
		}
		if i, ok := index[owner]; ok {
			users[i].Senders = append(users[i].Senders, addr)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for i := range users {
		slices.Sort(users[i].Mechanisms)
	}
	return users, nil
}

// Exists reports whether address is a user; an invalid address is not.
func (s *SQLite) Exists(ctx context.Context, address string) (bool, error) {
	addr, err := s.Canonical(address)
	if err != nil {
		return false, nil
	}
	ok, err := userExists(ctx, s.db, addr)
	if err != nil {
		return false, fmt.Errorf("userstore: %w", err)
	}
	return ok, nil
}

// AddSender adds a sender entry (an address or "@domain") for user.
func (s *SQLite) AddSender(ctx context.Context, user, sender string) error {
	return s.changeSender(ctx, user, sender, func(tx *sql.Tx, owner, entry string) error {
		if entry == owner {
			return nil // always allowed, never stored
		}
		_, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO senders(owner, address) VALUES (?, ?)`, owner, entry)
		return err
	})
}

// RemoveSender removes a sender entry of user.
func (s *SQLite) RemoveSender(ctx context.Context, user, sender string) error {
	return s.changeSender(ctx, user, sender, func(tx *sql.Tx, owner, entry string) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM senders WHERE owner = ? AND address = ?`, owner, entry)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return fmt.Errorf("%w: %s has no sender entry %s", ErrNoSuchSender, owner, entry)
		}
		return nil
	})
}

// changeSender canonicalises user and sender and runs change in a write
// transaction after checking that the user exists.
func (s *SQLite) changeSender(ctx context.Context, user, sender string, change func(tx *sql.Tx, owner, entry string) error) error {
	owner, err := s.Canonical(user)
	if err != nil {
		return err
	}
	entry, err := canonicalSender(sender, s.opts.DefaultDomain)
	if err != nil {
		return err
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		if err := mustExist(ctx, tx, owner); err != nil {
			return err
		}
		return change(tx, owner, entry)
	})
}

// Senders returns user's own address followed by its sender entries.
func (s *SQLite) Senders(ctx context.Context, user string) ([]string, error) {
	owner, err := s.Canonical(user)
	if err != nil {
		return nil, err
	}
	ok, err := userExists(ctx, s.db, owner)
	if err != nil {
		return nil, fmt.Errorf("userstore: %w", err)
	}
	if !ok {
		return nil, fmt.Errorf("%w: %s", sasl.ErrUnknownUser, owner)
	}
	out := []string{owner}
	err = s.query(ctx, `SELECT address FROM senders WHERE owner = ? ORDER BY rowid`, []any{owner}, func(r *sql.Rows) error {
		var a string
		if err := r.Scan(&a); err != nil {
			return err
		}
		out = append(out, a)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// MaySend reports whether user may use from in MAIL FROM. The null
// reverse-path "" is allowed; an address that is not valid is not.
func (s *SQLite) MaySend(ctx context.Context, user, from string) (bool, error) {
	senders, err := s.Senders(ctx, user)
	if err != nil {
		return false, err
	}
	if from == "" {
		return true, nil
	}
	addr, err := s.Canonical(from)
	if err != nil {
		return false, nil
	}
	_, domain, _ := strings.Cut(addr, "@")
	for _, e := range senders {
		if e == addr || e == "@"+domain {
			return true, nil
		}
	}
	return false, nil
}

// Coverage counts the users lacking each kind of secret. DIGEST-MD5 is
// counted per configured realm (compared case-insensitively), for the HA1
// under the user's full address.
func (s *SQLite) Coverage(ctx context.Context) (Coverage, error) {
	c := Coverage{Missing: map[string]int{}, DigestMissing: map[string]int{}}
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM users`).Scan(&c.Users); err != nil {
		return c, fmt.Errorf("userstore: %w", err)
	}
	have := map[string]int{}
	err := s.query(ctx, `SELECT kind, COUNT(DISTINCT address) FROM secrets WHERE kind <> ? GROUP BY kind`,
		[]any{KindDigestMD5}, func(r *sql.Rows) error {
			var kind string
			var n int
			if err := r.Scan(&kind, &n); err != nil {
				return err
			}
			have[kind] = n
			return nil
		})
	if err != nil {
		return c, err
	}
	for _, k := range []string{KindPassword, KindCRAMMD5, KindSCRAMSHA1, KindSCRAMSHA256} {
		c.Missing[k] = c.Users - have[k]
	}
	for _, realm := range s.opts.DigestRealms {
		var n int
		err := s.db.QueryRowContext(ctx, `SELECT COUNT(DISTINCT address) FROM secrets
			WHERE kind = ? AND authcid = address AND realm = ? COLLATE NOCASE`, KindDigestMD5, realm).Scan(&n)
		if err != nil {
			return c, fmt.Errorf("userstore: %w", err)
		}
		c.DigestMissing[realm] = c.Users - n
	}
	return c, nil
}

// write runs fn in an immediate transaction and commits it. Errors that
// are not the store's own sentinels are prefixed with "userstore: ".
func (s *SQLite) write(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("userstore: %w", err)
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		if isSentinel(err) {
			return err
		}
		return fmt.Errorf("userstore: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("userstore: %w", err)
	}
	return nil
}

// query runs a query and calls fn for each row.
func (s *SQLite) query(ctx context.Context, q string, args []any, fn func(*sql.Rows) error) error {
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("userstore: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return fmt.Errorf("userstore: %w", err)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("userstore: %w", err)
	}
	return nil
}

// isSentinel reports errors that already say what went wrong.
func isSentinel(err error) bool {
	for _, e := range []error{ErrUserExists, ErrInvalidAddress, ErrInvalidPassword, ErrNoSuchSender, sasl.ErrUnknownUser} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// querier is what *sql.DB and *sql.Tx have in common.
type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func userExists(ctx context.Context, q querier, addr string) (bool, error) {
	var ok bool
	err := q.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM users WHERE address = ?)`, addr).Scan(&ok)
	return ok, err
}

// mustExist returns sasl.ErrUnknownUser (wrapped with the address) unless
// addr is a user.
func mustExist(ctx context.Context, q querier, addr string) error {
	ok, err := userExists(ctx, q, addr)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%w: %s", sasl.ErrUnknownUser, addr)
	}
	return nil
}

func insertSecrets(ctx context.Context, tx *sql.Tx, addr string, rows []secretRow) error {
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO secrets(address, kind, realm, authcid, data) VALUES (?, ?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	defer stmt.Close()
	for _, r := range rows {
		if _, err := stmt.ExecContext(ctx, addr, r.kind, r.realm, r.authcid, r.data); err != nil {
			// The statement's error names the constraint, never the values.
			return fmt.Errorf("storing %s secret: %w", r.kind, err)
		}
	}
	return nil
}
