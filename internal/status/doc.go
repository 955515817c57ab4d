// Package status is postgate's local admin interface: a small HTTP/1.1
// JSON API served on a UNIX socket (data_dir/admin.sock) that reports the
// running server's listeners, uptime, queue and recent authentication
// failures and accepts a queue-run request, and the client that
// `postgate status`, `mailq` and `sendmail -q` use to reach it. It also
// holds the bounded record of recent AUTH failures (AuthFailures) and the
// aligned, optionally coloured table output shared by those commands.
//
// Standards served: HTTP/1.1 (RFC 9110, RFC 9112) over a UNIX-domain
// socket; JSON (RFC 8259).
//
// Security reasoning:
//   - The socket is created mode 0600 in the (0700) data directory, and on
//     Linux every connection is also checked with SO_PEERCRED: only root
//     and the server's own effective uid are served (plus uids the server
//     adds explicitly). The API can list senders and recipients of queued
//     mail, which other local users must not see.
//   - A stale socket file is removed only if it is a socket and nobody
//     answers on it; a regular file or a live server is never replaced.
//   - The failure record holds client address, mechanism, the user name as
//     sent and the reason: never a password or SASL response. Its size is
//     fixed, so a password-guessing client cannot grow memory. Rendered
//     text is stripped of control characters so a hostile user name cannot
//     drive the administrator's terminal.
//   - The request body is bounded and the HTTP server has timeouts.
package status
