// Package userstore keeps postgate's users: who may authenticate, with which
// per-mechanism secrets, and which addresses each user may send from.
//
// The Store interface is what the rest of the server uses; it embeds
// sasl.Credentials so the SASL mechanisms (RFC 4616 PLAIN, LOGIN, RFC 2195
// CRAM-MD5, RFC 2831 DIGEST-MD5, RFC 5802/7677 SCRAM, RFC 4422 EXTERNAL)
// look their secrets up here. SQLite (OpenSQLite) is the built-in backend;
// the schema and the meaning of every stored secret are described in
// docs/userstore.md.
//
// # The username rule
//
// Users are stored by their full address, local@domain. Every name that
// reaches the store, whether from a SASL mechanism (any of them: "alice" and
// "alice@example.test" behave the same in PLAIN, CRAM-MD5, SCRAM, ...), the
// command line, a RCPT TO or a certificate, is turned into the stored form
// by Canonical:
//
//   - a name without "@" gets "@" + Options.DefaultDomain appended;
//   - a name with more than one "@", white space, control characters or
//     any of `"\<>,;` is rejected (so are empty or over-long parts);
//   - the local part is normalised to Unicode NFC and otherwise kept exactly
//     as given (it is case-sensitive: "Alice" and "alice" are different
//     users, as RFC 5321 §2.4 allows);
//   - the domain is lower-cased (no IDNA conversion is done).
//
// The canonical name returned by every lookup is the stored address.
//
// DIGEST-MD5 is the one mechanism where the spelling the client sends
// matters beyond this rule, because the client hashes the username string
// into its response: see SQLite.DigestMD5Secret.
//
// # Security
//
// No password is stored. PLAIN and LOGIN are checked against an argon2id
// hash (RFC 9106) in PHC string form; a lookup of an unknown user hashes
// against a dummy so the time taken does not reveal whether the user exists,
// and the comparison is constant-time. The challenge-response mechanisms
// need derived secrets, computed once when the password is set: SCRAM
// StoredKey/ServerKey (RFC 5802 §3, independent random salt per hash), the
// HMAC-MD5 inner and outer states for CRAM-MD5, and DIGEST-MD5 HA1 values
// per realm. The CRAM-MD5 states and DIGEST-MD5 HA1 are password-equivalent
// for their mechanism; docs/userstore.md says what a leak of each allows.
//
// Neither passwords nor derived secrets appear in any error this package
// returns, and the package does not log.
package userstore
