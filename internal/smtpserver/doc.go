// Package smtpserver is postgate's SMTP protocol engine: listeners,
// sessions, the command table, the strict DATA and BDAT readers, STARTTLS
// and the SMTP AUTH exchange.
//
// It implements RFC 5321 (SMTP), RFC 1869/5321 (ESMTP EHLO), RFC 2034 and
// 3463 (enhanced status codes), RFC 2920 (PIPELINING), RFC 1870 (SIZE),
// RFC 6152 (8BITMIME), RFC 3030 (CHUNKING, BINARYMIME), RFC 6531
// (SMTPUTF8), RFC 3461 (DSN parameters), RFC 2852 (DELIVERBY), RFC 1985
// (ETRN), RFC 3207 (STARTTLS), RFC 8314 (implicit TLS), RFC 4954 (AUTH)
// and RFC 3848 (Received: "with" keywords).
//
// Security reasoning:
//   - Only CRLF ends a line inside DATA; a bare CR or LF makes the message
//     refused, so a message cannot smuggle a second SMTP transaction past
//     a server that ends DATA differently (RFC 5321 §2.3.8).
//   - Input pipelined after STARTTLS, before the handshake, is discarded
//     (CVE-2011-0411), and all state is reset after the handshake.
//   - 250 after DATA is sent only after the spool's Commit returned, i.e.
//     when the message is on stable storage.
//   - Client responses during AUTH never reach the log or the trace.
package smtpserver
