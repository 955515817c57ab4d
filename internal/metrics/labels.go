package metrics

import (
	"strings"

	"postgate/internal/smtp"
)

// other is the label value for anything outside a fixed vocabulary.
const other = "other"

// listeners are the listener kinds (smtpserver.Listener*).
var listeners = []string{"smtp", "submission", "submissions", "local"}

// Stages of a transaction at which a message or recipient is refused.
const (
	StageConnect = "connect" // greeting refused (local user unknown, ...)
	StageMail    = "mail"    // MAIL FROM
	StageRcpt    = "rcpt"    // RCPT TO (counted per recipient)
	StageData    = "data"    // end of DATA or last BDAT
)

var stages = []string{StageConnect, StageMail, StageRcpt, StageData}

// Reasons a message or recipient is refused (the reason label of
// postgate_messages_rejected_total).
const (
	RejectRelayDenied   = "relay_denied"        // 550 5.7.1 relay access denied
	RejectAuthRequired  = "auth_required"       // 530 5.7.0
	RejectSenderDenied  = "sender_denied"       // 553 5.7.1 sender not owned by the user / local trust model
	RejectUnknownUser   = "unknown_recipient"   // 550 5.1.1
	RejectBadAddress    = "bad_address"         // 501/553 5.1.x address syntax
	RejectTooBig        = "too_big"             // 552 5.3.4
	RejectTooManyRcpts  = "too_many_recipients" // 452/552 5.5.3
	RejectBadLineEnding = "bad_line_ending"     // bare CR or LF in DATA
	RejectSyntax        = "syntax"              // 5.5.x parameters, sequence
	RejectContent       = "content"             // 5.6.x (SMTPUTF8, 8-bit, headers)
	RejectTemporary     = "temporary"           // 4xx local error
	RejectShuttingDown  = "shutting_down"       // 421 4.3.2
	RejectAuthLockedOut = "locked_out"          // too many failures
	RejectOther         = other                 // anything else
)

var rejectReasons = []string{RejectRelayDenied, RejectAuthRequired, RejectSenderDenied, RejectUnknownUser,
	RejectBadAddress, RejectTooBig, RejectTooManyRcpts, RejectBadLineEnding, RejectSyntax, RejectContent,
	RejectTemporary, RejectShuttingDown, RejectAuthLockedOut}

// RejectReasonOf classifies a refusal reply by its code and enhanced
// status code, for call sites that have the reply but no reason constant.
// It is a best effort: prefer the constants where the cause is known.
func RejectReasonOf(r smtp.Reply) string {
	e := r.Enhanced
	switch {
	case r.Code == 421 && e == "4.3.2":
		return RejectShuttingDown
	case r.Code == 530:
		return RejectAuthRequired
	case r.Code == 552 && e == "5.3.4":
		return RejectTooBig
	case e == "5.5.3" || e == "4.5.3":
		return RejectTooManyRcpts
	case e == "5.1.1":
		return RejectUnknownUser
	case strings.HasPrefix(e, "5.1.") || strings.HasPrefix(e, "4.1."):
		return RejectBadAddress
	case e == "5.7.1" && strings.Contains(strings.ToLower(r.Text), "relay"):
		return RejectRelayDenied
	case e == "5.7.1":
		return RejectSenderDenied
	case strings.HasPrefix(e, "5.6."):
		return RejectContent
	case strings.HasPrefix(e, "5.5."):
		return RejectSyntax
	case r.Code >= 400 && r.Code < 500:
		return RejectTemporary
	}
	return RejectOther
}

// Delivery transports.
const (
	TransportMaildir = "maildir" // local delivery into a Maildir
	TransportSMTP    = "smtp"    // remote delivery over SMTP
)

var transports = []string{TransportMaildir, TransportSMTP}

// Delivery outcomes for one recipient and one attempt.
const (
	OutcomeDelivered = "delivered" // done
	OutcomeDeferred  = "deferred"  // temporary failure, will be retried
	OutcomeFailed    = "failed"    // permanent failure, bounced
)

var outcomes = []string{OutcomeDelivered, OutcomeDeferred, OutcomeFailed}

// mechanisms are the SASL mechanisms that may appear as a label value.
var mechanisms = []string{"PLAIN", "LOGIN", "CRAM-MD5", "DIGEST-MD5", "SCRAM-SHA-1", "SCRAM-SHA-1-PLUS",
	"SCRAM-SHA-256", "SCRAM-SHA-256-PLUS", "EXTERNAL", "XOAUTH2", "OAUTHBEARER", "GSSAPI", "NTLM"}

// MechanismLabel returns the label value for a mechanism name as a client
// sent it: the upper-cased name if it is a known mechanism, else "other".
func MechanismLabel(mech string) string { return oneOf(strings.ToUpper(mech), mechanisms) }

// oneOf returns v if it is in set, else "other".
func oneOf(v string, set []string) string {
	for _, s := range set {
		if v == s {
			return v
		}
	}
	return other
}
