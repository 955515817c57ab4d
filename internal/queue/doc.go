// Package queue is postgate's durable spool: the on-disk queue of accepted
// messages that survives kill -9 and power loss.
//
// A message is written by the SMTP server through a Writer (Spool.Create,
// Writer.Write, then Writer.Commit or Writer.Abort). Commit returns only
// once the message content and its envelope are on stable storage: both
// are in one file, which is fdatasync'ed, renamed into the queue
// directory, and that directory is fsync'ed. Concurrent commits share the
// directory fsync through a single committer goroutine (group commit), and
// their fdatasyncs run in parallel so the file system can merge their
// journal commits. The on-disk format, the commit protocol and recovery
// are described in docs/spool.md.
//
// Standards served: RFC 5321 §6.1 (a server that answers 250
// to the end of DATA has accepted responsibility for the message, so the
// message must not be lost afterwards); the envelope keeps what RFC 3461
// (DSN: RET, ENVID, NOTIFY, ORCPT), RFC 2852 (DELIVERBY), RFC 4954 §5
// (MAIL AUTH=), RFC 6152/3030 (BODY=) and RFC 6531 (SMTPUTF8) need later.
//
// Security: message ids come only from this package and are validated
// (fixed-length lower-case hex) before they are used to build a path, so
// an id taken from a command line or a client cannot name a file outside
// the spool. Files are created 0600 and directories 0700 with O_EXCL, so
// nothing is opened through a planted symlink. The spool directory is
// locked with flock(2) so that two processes never run recovery against
// each other's in-flight files. The envelope may contain the authenticated
// user name but never a password or other secret.
package queue
