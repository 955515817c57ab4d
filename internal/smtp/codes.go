package smtp

// Replies with a fixed text. Each names the situation, not the code.
var (
	ReplyOK             = R(250, "2.0.0", "OK")
	ReplySenderOK       = R(250, "2.1.0", "Sender OK")
	ReplyRecipientOK    = R(250, "2.1.5", "Recipient OK")
	ReplyUnknownCommand = R(500, "5.5.2", "Command not recognized")
	ReplyLineTooLong    = R(500, "5.5.2", "Line too long (limit is 1000 octets including CRLF)")
	ReplyBadParameter   = R(555, "5.5.4", "MAIL FROM/RCPT TO parameter not recognized or not implemented")
	ReplyTooBig         = R(552, "5.3.4", "Message size exceeds fixed maximum message size")
	ReplyRelayDenied    = R(550, "5.7.1", "Relay access denied")
	ReplyAuthRequired   = R(530, "5.7.0", "Authentication required")
	ReplyTooManyErrors  = R(421, "4.7.0", "Too many errors, closing connection")
	ReplyTimeout        = R(421, "4.4.2", "Idle timeout, closing connection")
	ReplyShuttingDown   = R(421, "4.3.2", "Service shutting down, closing connection")
	ReplyTooManyConns   = R(421, "4.7.0", "Too many connections, try again later")
	ReplyLocalError     = R(451, "4.3.0", "Requested action aborted: local error in processing")
)
