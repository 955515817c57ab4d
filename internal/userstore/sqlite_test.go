package userstore

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"postgate/internal/sasl"
)

// cheapArgon2 makes password hashing fast in tests.
var cheapArgon2 = Argon2Params{Memory: 8, Time: 1, Threads: 1}

var testRealms = []string{"mx.example.test", "Other.Realm"}

func testOptions() Options {
	return Options{
		DefaultDomain:   "Example.TEST",
		DigestRealms:    testRealms,
		SCRAMIterations: 4096,
		Argon2:          cheapArgon2,
	}
}

// openTest opens a fresh store in a temporary directory.
func openTest(t *testing.T) (*SQLite, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "users.db")
	s, err := OpenSQLite(path, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, path
}

func mustAdd(t *testing.T, s *SQLite, addr, pw string) {
	t.Helper()
	if err := s.AddUser(context.Background(), addr, pw); err != nil {
		t.Fatalf("AddUser(%q): %v", addr, err)
	}
}

func TestAddPasswdDelList(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	mustAdd(t, s, "alice", "alice-pw-1")
	mustAdd(t, s, "bob@Other.TEST", "bob-pw-1")

	if err := s.AddUser(ctx, "alice@EXAMPLE.test", "x"); !errors.Is(err, ErrUserExists) {
		t.Fatalf("duplicate AddUser: got %v, want ErrUserExists", err)
	}

	users, err := s.ListUsers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, u := range users {
		names = append(names, u.Address)
		if u.Created.IsZero() {
			t.Errorf("%s: zero Created", u.Address)
		}
	}
	if want := []string{"alice@example.test", "bob@other.test"}; !slices.Equal(names, want) {
		t.Fatalf("ListUsers = %q, want %q", names, want)
	}
	wantMechs := []string{"CRAM-MD5", "DIGEST-MD5:Other.Realm", "DIGEST-MD5:mx.example.test", "SCRAM-SHA-1", "SCRAM-SHA-256", "password"}
	if !slices.Equal(users[0].Mechanisms, wantMechs) {
		t.Errorf("Mechanisms = %q, want %q", users[0].Mechanisms, wantMechs)
	}

	if err := s.SetPassword(ctx, "alice", "alice-pw-2"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CheckPassword("alice", "alice-pw-1"); !errors.Is(err, sasl.ErrWrongPassword) {
		t.Errorf("old password after SetPassword: got %v, want ErrWrongPassword", err)
	}
	if u, err := s.CheckPassword("alice", "alice-pw-2"); err != nil || u != "alice@example.test" {
		t.Errorf("new password: got %q, %v", u, err)
	}
	if err := s.SetPassword(ctx, "nobody", "x"); !errors.Is(err, sasl.ErrUnknownUser) {
		t.Errorf("SetPassword(unknown): got %v, want ErrUnknownUser", err)
	}

	if err := s.AddSender(ctx, "bob@other.test", "@other.test"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteUser(ctx, "bob@OTHER.test"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteUser(ctx, "bob@other.test"); !errors.Is(err, sasl.ErrUnknownUser) {
		t.Errorf("second DeleteUser: got %v, want ErrUnknownUser", err)
	}
	if ok, err := s.Exists(ctx, "bob@other.test"); err != nil || ok {
		t.Errorf("Exists after delete = %v, %v", ok, err)
	}
	// The cascade removed bob's secrets and sender entries.
	var n int
	if err := s.db.QueryRow(`SELECT (SELECT COUNT(*) FROM secrets WHERE address = 'bob@other.test') +
		(SELECT COUNT(*) FROM senders WHERE owner = 'bob@other.test')`).Scan(&n); err != nil || n != 0 {
		t.Errorf("rows left for deleted user: %d, %v", n, err)
	}
}

func TestInvalidInput(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	for _, tc := range []struct {
		addr, pw string
		want     error
	}{
		{"a b@example.test", "pw", ErrInvalidAddress},
		{"a@b@example.test", "pw", ErrInvalidAddress},
		{"@example.test", "pw", ErrInvalidAddress},
		{"carol", "", ErrInvalidPassword},
		{"carol", "secret\nline", ErrInvalidPassword},
		{"carol", "nul\x00secret", ErrInvalidPassword},
		{"carol", strings.Repeat("p", maxPassword+1), ErrInvalidPassword},
	} {
		err := s.AddUser(ctx, tc.addr, tc.pw)
		if !errors.Is(err, tc.want) {
			t.Errorf("AddUser(%q): got %v, want %v", tc.addr, err, tc.want)
			continue
		}
		if tc.pw != "" && strings.Contains(err.Error(), "secret") {
			t.Errorf("AddUser(%q): error %q shows the password", tc.addr, err)
		}
	}
	if ok, _ := s.Exists(ctx, "carol"); ok {
		t.Error("a failed AddUser created the user")
	}
}

func TestUsernameRule(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	// Added in decomposed form, with an upper-case domain.
	mustAdd(t, s, "e\u0301lise@EXAMPLE.Test", "elise-pw")
	const stored = "\u00e9lise@example.test"

	for _, tc := range []struct {
		name  string
		want  string
		found bool
	}{
		{"\u00e9lise", stored, true},
		{"e\u0301lise", stored, true},
		{"\u00e9lise@example.test", stored, true},
		{"e\u0301lise@Example.Test", stored, true},
		{"\u00c9lise@example.test", "", false}, // local part is case-sensitive
		{"\u00e9lise@other.test", "", false},
	} {
		got, err := s.CheckPassword(tc.name, "elise-pw")
		if tc.found && (err != nil || got != tc.want) {
			t.Errorf("CheckPassword(%q) = %q, %v; want %q", tc.name, got, err, tc.want)
		}
		if !tc.found && !errors.Is(err, sasl.ErrUnknownUser) {
			t.Errorf("CheckPassword(%q): got %v, want ErrUnknownUser", tc.name, err)
		}
		// Every lookup applies the same rule.
		if c, _, err := s.CRAMMD5Secret(tc.name); tc.found != (err == nil) || c != tc.want {
			t.Errorf("CRAMMD5Secret(%q) = %q, %v", tc.name, c, err)
		}
		if c, _, err := s.SCRAMSecret(tc.name, "SHA-256"); tc.found != (err == nil) || c != tc.want {
			t.Errorf("SCRAMSecret(%q) = %q, %v", tc.name, c, err)
		}
		if ok, err := s.Exists(ctx, tc.name); err != nil || ok != tc.found {
			t.Errorf("Exists(%q) = %v, %v", tc.name, ok, err)
		}
	}
}

func TestCanonical(t *testing.T) {
	for _, tc := range []struct {
		in, dflt, want string
		ok             bool
	}{
		{"alice", "example.test", "alice@example.test", true},
		{"Alice@Example.TEST", "", "Alice@example.test", true},
		{"e\u0301@x.test", "", "\u00e9@x.test", true},
		{"alice", "", "", false},
		{"alice@", "", "", false},
		{"alice@example..test", "", "", false},
		{"al\tice@x.test", "", "", false},
		{"<alice@x.test>", "", "", false},
		{"\xff@x.test", "", "", false},
		{strings.Repeat("a", 65) + "@x.test", "", "", false},
	} {
		got, err := Canonical(tc.in, tc.dflt)
		if tc.ok != (err == nil) || got != tc.want {
			t.Errorf("Canonical(%q, %q) = %q, %v; want %q ok=%v", tc.in, tc.dflt, got, err, tc.want, tc.ok)
		}
		if err != nil && !errors.Is(err, ErrInvalidAddress) {
			t.Errorf("Canonical(%q): error %v does not wrap ErrInvalidAddress", tc.in, err)
		}
	}
}

func TestNoPasswordAtRest(t *testing.T) {
	s, path := openTest(t)
	ctx := context.Background()
	passwords := map[string]string{
		"alice":          "Plaintext-Alice-7731",
		"bob@other.test": "Plaintext-Bob-9924",
		"carol":          "tanstaaftanstaaf",
	}
	for u, pw := range passwords {
		mustAdd(t, s, u, pw)
	}
	if err := s.SetPassword(ctx, "alice", "Plaintext-Alice-Second-5512"); err != nil {
		t.Fatal(err)
	}
	passwords["alice2"] = "Plaintext-Alice-Second-5512"

	var files int
	for _, suffix := range []string{"", "-wal", "-shm"} {
		b, err := os.ReadFile(path + suffix)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		files++
		for _, pw := range passwords {
			if bytes.Contains(b, []byte(pw)) {
				t.Errorf("%s contains a password in plaintext", filepath.Base(path+suffix))
			}
		}
		if suffix == "-wal" && !bytes.Contains(b, []byte("alice@example.test")) {
			t.Errorf("WAL does not contain the user name; the grep would not see recent writes")
		}
	}
	if files < 2 {
		t.Fatalf("read %d database files, want the database and its WAL", files)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if mode := fi.Mode().Perm(); mode != 0o600 {
		t.Errorf("database mode %v, want 0600", mode)
	}
}

func TestSendersAndMaySend(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	mustAdd(t, s, "alice", "pw-a")
	mustAdd(t, s, "bob", "pw-b")
	for _, e := range []string{"sales@Example.TEST", "@Lists.Example.TEST", "alice", "sales@example.test"} {
		if err := s.AddSender(ctx, "alice", e); err != nil {
			t.Fatalf("AddSender(%q): %v", e, err)
		}
	}
	got, err := s.Senders(ctx, "alice@example.test")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"alice@example.test", "sales@example.test", "@lists.example.test"}; !slices.Equal(got, want) {
		t.Errorf("Senders = %q, want %q", got, want)
	}
	for _, tc := range []struct {
		user, from string
		want       bool
	}{
		{"alice", "alice@example.test", true},
		{"alice", "alice@EXAMPLE.TEST", true},
		{"alice", "sales@example.test", true},
		{"alice", "anyone@lists.example.test", true},
		{"alice", "anyone@sub.lists.example.test", false},
		{"alice", "bob@example.test", false},
		{"alice", "Alice@example.test", false},
		{"alice", "", true},
		{"alice", "not an address", false},
		{"bob", "bob@example.test", true},
		{"bob", "sales@example.test", false},
		{"bob", "x@lists.example.test", false},
	} {
		ok, err := s.MaySend(ctx, tc.user, tc.from)
		if err != nil || ok != tc.want {
			t.Errorf("MaySend(%q, %q) = %v, %v; want %v", tc.user, tc.from, ok, err, tc.want)
		}
	}
	if _, err := s.MaySend(ctx, "nobody", "nobody@example.test"); !errors.Is(err, sasl.ErrUnknownUser) {
		t.Errorf("MaySend(unknown user): got %v, want ErrUnknownUser", err)
	}

	if err := s.RemoveSender(ctx, "alice", "@lists.example.test"); err != nil {
		t.Fatal(err)
	}
	if err := s.RemoveSender(ctx, "alice", "@lists.example.test"); !errors.Is(err, ErrNoSuchSender) {
		t.Errorf("second RemoveSender: got %v, want ErrNoSuchSender", err)
	}
	if ok, _ := s.MaySend(ctx, "alice", "anyone@lists.example.test"); ok {
		t.Error("MaySend still true after RemoveSender")
	}
	if err := s.AddSender(ctx, "nobody", "x@example.test"); !errors.Is(err, sasl.ErrUnknownUser) {
		t.Errorf("AddSender(unknown user): got %v, want ErrUnknownUser", err)
	}
	if err := s.AddSender(ctx, "alice", "@bad@domain"); !errors.Is(err, ErrInvalidAddress) {
		t.Errorf("AddSender(@bad@domain): got %v, want ErrInvalidAddress", err)
	}
}

func TestCoverage(t *testing.T) {
	s, path := openTest(t)
	ctx := context.Background()
	mustAdd(t, s, "alice", "pw-a")
	mustAdd(t, s, "bob@other.test", "pw-b")

	c, err := s.Coverage(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if c.Users != 2 {
		t.Errorf("Users = %d, want 2", c.Users)
	}
	for _, mech := range []string{"PLAIN", "LOGIN", "CRAM-MD5", "DIGEST-MD5", "SCRAM-SHA-1", "SCRAM-SHA-256-PLUS", "EXTERNAL"} {
		if n := c.MissingFor(mech); n != 0 {
			t.Errorf("MissingFor(%s) = %d, want 0", mech, n)
		}
	}
	if n := c.MissingFor("GSSAPI"); n != 2 {
		t.Errorf("MissingFor(GSSAPI) = %d, want 2 (all users)", n)
	}

	// A user row with no secrets (as an import might leave) lacks everything.
	if _, err := s.db.Exec(`INSERT INTO users(address, created) VALUES ('dave@example.test', 0)`); err != nil {
		t.Fatal(err)
	}
	s.Close()

	// Reopen with a realm added to the configuration.
	o := testOptions()
	o.DigestRealms = append([]string{"new.realm"}, testRealms...)
	s2, err := OpenSQLite(path, o)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	c, err = s2.Coverage(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for kind, want := range map[string]int{KindPassword: 1, KindCRAMMD5: 1, KindSCRAMSHA1: 1, KindSCRAMSHA256: 1} {
		if c.Missing[kind] != want {
			t.Errorf("Missing[%s] = %d, want %d", kind, c.Missing[kind], want)
		}
	}
	for realm, want := range map[string]int{"new.realm": 3, "mx.example.test": 1, "Other.Realm": 1} {
		if c.DigestMissing[realm] != want {
			t.Errorf("DigestMissing[%s] = %d, want %d", realm, c.DigestMissing[realm], want)
		}
	}
	if n := c.MissingFor("DIGEST-MD5"); n != 3 {
		t.Errorf("MissingFor(DIGEST-MD5) = %d, want 3", n)
	}
	if _, err := s2.CheckPassword("dave", "anything"); !errors.Is(err, sasl.ErrNoSecret) {
		t.Errorf("CheckPassword(user without hash): got %v, want ErrNoSecret", err)
	}
}

func TestSchemaVersion(t *testing.T) {
	s, path := openTest(t)
	var v int
	if err := s.db.QueryRow(`SELECT version FROM schema_version`).Scan(&v); err != nil || v != schemaVersion {
		t.Fatalf("schema version = %d, %v; want %d", v, err, schemaVersion)
	}
	if _, err := s.db.Exec(`UPDATE schema_version SET version = 99`); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if s2, err := OpenSQLite(path, testOptions()); err == nil || !strings.Contains(err.Error(), "newer") {
		if s2 != nil {
			s2.Close()
		}
		t.Fatalf("opening a newer schema: got %v, want an error", err)
	}
}

func TestPragmas(t *testing.T) {
	s, _ := openTest(t)
	for pragma, want := range map[string]string{
		"journal_mode":  "wal",
		"foreign_keys":  "1",
		"secure_delete": "1",
		"busy_timeout":  "5000",
	} {
		var got string
		if err := s.db.QueryRow("PRAGMA " + pragma).Scan(&got); err != nil || got != want {
			t.Errorf("PRAGMA %s = %q, %v; want %q", pragma, got, err, want)
		}
	}
}

func TestOpenPathNeedingEscapes(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a b?c#d%20")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "users.db")
	s, err := OpenSQLite(path, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	mustAdd(t, s, "alice", "pw")
	s.Close()
	if fi, err := os.Stat(path); err != nil || fi.Size() == 0 {
		t.Fatalf("database not at %q: %v", path, err)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), "users.db") {
			t.Errorf("unexpected file %q: the path was not passed through intact", e.Name())
		}
	}
}
