// Package smtpclient is postgate's outgoing SMTP and LMTP client: relay
// delivery to MX hosts and smarthosts, LMTP delivery, and the probe.
//
// Implemented:
//   - RFC 5321 (SMTP): greeting, EHLO/HELO, MAIL, RCPT, DATA with
//     dot-stuffing and CRLF line endings, RSET, NOOP, QUIT
//   - RFC 2034 / RFC 3463 (enhanced status codes) in parsed replies
//   - RFC 3207 (STARTTLS) and RFC 8314 (implicit TLS)
//   - RFC 4954 (AUTH) driving any sasl.Client, including the pre-RFC
//     "AUTH=" EHLO line of old servers
//   - RFC 3030 (CHUNKING, BDAT)
//   - RFC 2033 (LMTP): LHLO and one DATA reply per accepted recipient
//   - RFC 5929 / RFC 9266 channel bindings (tls-unique, tls-exporter),
//     computed exactly as postgate's server does
//
// Security reasoning: the client never writes a password or a reusable
// secret anywhere but onto the connection. The AUTH transcript and the
// protocol trace record server challenges decoded and client responses
// redacted by mechanism (PLAIN and LOGIN entirely; the CRAM-MD5 digest;
// DIGEST-MD5 response=, SCRAM p=, and the servers' proofs rspauth= and v=,
// which would allow an offline dictionary attack). A mechanism that
// promises mutual authentication (DIGEST-MD5, SCRAM) must see the server's
// proof: a 235 without it is an error. Every read and write has a deadline
// and the client's context aborts blocked I/O.
//
// Errors that come from a server reply are *smtp.Error values carrying
// that reply; transport failures are ordinary errors.
package smtpclient
