package smtpserver

// ListenerLocal is the UNIX-socket listener used by `postgate sendmail`:
// plain SMTP without TLS or AUTH, relay allowed, and the envelope sender
// checked against the peer's uid (see docs/sendmail.md for the trust model).
const ListenerLocal = "local"

// LocalSenderFunc decides the envelope sender a local user may use: it
// returns the sender to record (possibly rewritten) or an error whose
// text is sent to the client with 553 5.7.1.
type LocalSenderFunc func(uid uint32, requested string) (string, error)
