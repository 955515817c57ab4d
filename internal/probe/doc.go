// Package probe is the engine of "postgate probe": it connects to an SMTP
// server as a client, records the greeting, the EHLO extensions before and
// after TLS and the TLS parameters and certificate, then tries every
// advertised SASL mechanism (and any the user names) in a connection of
// its own, and explains each failure: the server's reply, the decoded
// exchange with secrets redacted, and a hint.
//
// Protocols: RFC 5321 (SMTP), RFC 3207 (STARTTLS), RFC 8314 (implicit
// TLS), RFC 4954 (AUTH) with the mechanisms of package sasl (RFC 4616,
// RFC 2195, RFC 2831, RFC 5802, RFC 7677, RFC 5929, RFC 9266).
//
// Security reasoning: the probe sends the user's password only to the
// server named, and only inside the mechanisms it tests; reports and
// traces hold transcripts whose secrets smtpclient has redacted (the
// password, the CRAM-MD5 digest, DIGEST-MD5 response= and rspauth=, SCRAM
// p= and v=). Certificates are checked and the result reported, but the
// probe goes on with a certificate that does not verify, like
// "openssl s_client", because diagnosing such servers is its purpose; it
// says so in the report. Without credentials it logs in with a random,
// unguessable user and password and reports any server that accepts them.
package probe
