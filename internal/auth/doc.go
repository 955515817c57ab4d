// Package auth is postgate's SMTP AUTH policy: which SASL mechanisms a
// session is offered in EHLO, whether a mechanism a client asks for may be
// used, and the brute-force defence around failed attempts. It does no I/O
// and runs no mechanism itself (package sasl does); the SMTP server asks it.
//
// Standards followed:
//   - RFC 4954 (SMTP AUTH): the AUTH EHLO keyword, the replies 504 5.5.4
//     (mechanism not supported), 534 5.7.9 (mechanism too weak) and
//     538 5.7.11 (encryption required for the mechanism), and the MAIL FROM
//     AUTH= parameter (§5).
//   - RFC 4422 (SASL) for mechanism names and security properties; the
//     property of each mechanism follows Cyrus SASL's security flags, so that
//     sendmail's confAUTH_OPTIONS letters keep the meaning they had.
//   - RFC 5802, RFC 7677 (SCRAM), RFC 5929 and RFC 9266 (TLS channel
//     bindings for the -PLUS variants), RFC 4422 appendix A (EXTERNAL).
//   - RFC 3463 enhanced status codes.
//
// Security reasoning:
//   - A mechanism is offered only when it can succeed: its stored secret
//     exists for every user, the options letters allow it, and the session's
//     TLS state satisfies it. Clients pick the strongest mechanism advertised
//     and rarely fall back, so advertising one that cannot work locks users
//     out; NewPolicy logs at start why each configured mechanism is hidden.
//   - Plaintext mechanisms (PLAIN, LOGIN) are refused before TLS unless both
//     the options (no 'p') and allow_plaintext_without_tls allow it, so a
//     password never crosses the network in clear by default.
//   - Per-client rules can only narrow or reorder the list; they cannot
//     re-enable what the options or the TLS state forbid, so giving a quirky
//     client a working set never weakens the server for anyone.
//   - Failed attempts are slowed (a minimum, growing, duration) and counted
//     per client address (IPv6 per /64) and per user name in sliding windows;
//     too many lock the address or user out for the window. Tracked state is
//     bounded (MaxTracked keys of each kind, least recently used evicted).
//   - Nothing here sees a password; reply texts name mechanisms and
//     configuration keys only.
package auth
