// Package sendmail is postgate's sendmail-compatible command line: the
// interface that cron, PHP's mail(), git send-email, logwatch and shell
// scripts expect at /usr/sbin/sendmail. It parses the classic options
// (-t, -i/-oi, -f, -F, -bm, -bp, -bs, -bv, -q/-qR, -N, -R, -V, -B, -v, and
// the ignored -oXXX family), prepares the message as sendmail does
// (recipients from To/Cc/Bcc with -t, Bcc removed, Date, From and
// Message-ID added when missing, line endings made CRLF), and submits it
// over SMTP on the server's local UNIX socket, so a message is accepted
// exactly when the server answered 250 after committing it to the spool.
// It also holds the server-side trust model for local submission
// (Trust.AllowedSender), the mailq listing, and install-links.
//
// Standards served: RFC 5321 (the SMTP client dialog, dot-stuffing, reply
// codes), RFC 3463 (enhanced status codes in the exit-code mapping),
// RFC 5322 (header fields: Date, From, Message-ID, To/Cc/Bcc, Resent-*),
// RFC 1870 (SIZE), RFC 6152 (8BITMIME), RFC 3461 (DSN: NOTIFY, RET,
// ENVID), RFC 6531 (SMTPUTF8), and sysexits.h for exit codes.
//
// Security reasoning:
//   - The command never needs credentials: the server learns the caller's
//     uid from the socket (SO_PEERCRED), and only root, the server's own
//     user and configured trusted users may choose the envelope sender;
//     everyone else's sender is forced to their own login (see
//     docs/sendmail.md). The client's choice is a request, the server
//     decides.
//   - Every address is validated as an RFC 5321 mailbox before it is put
//     into a command, so an argument or header containing CR, LF or angle
//     brackets cannot inject SMTP commands. Options after the first
//     recipient are refused rather than taken as addresses.
//   - Input is converted to CRLF and dot-stuffed, so message text can never
//     end the DATA phase early or smuggle a command.
//   - A message is reported as sent (exit 0) only after the server's 250
//     to the end of data; any doubt gives a non-zero sysexits code, and a
//     refused recipient aborts the whole submission, so a retry never
//     duplicates mail to the recipients that were accepted.
package sendmail
