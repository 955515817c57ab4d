// Package delivery hands spooled messages to their final destination. For
// now that is a local Maildir (Maildir); a Runner takes committed messages
// from the spool (postgate/internal/queue), delivers their local
// recipients and records the outcome in the envelope. Remote delivery
// (LMTP, MX, smarthost), retries and DSNs come later and build on the
// per-recipient state the Runner maintains.
//
// Standards: the Maildir format (https://cr.yp.to/proto/maildir.html:
// unique names, write in tmp/, then link into new/); RFC 5321 §4.4 (the
// final delivery adds a Return-Path header carrying the reverse-path);
// RFC 3463 enhanced status codes for the outcome of each recipient.
//
// Security: the mailbox path is built from the recipient address, which
// comes from the network, so both parts are checked before they touch the
// file system: the domain is lower-cased, and a local part or domain that
// is empty, contains "/" or NUL, is "." or "..", or starts with "." is
// refused with a permanent error; nothing else in the address can leave
// <root>/<domain>/<local-part>. Files are created 0600 with O_EXCL and
// directories 0700, so a message is never written through a planted
// symlink and mailboxes are private to the server's user. Delivered
// messages are fsync'ed, linked into new/ and new/ is fsync'ed before the
// recipient is marked delivered, so a crash can cause a duplicate but
// never a loss.
package delivery
