package sendmail

import (
	"strings"

	"postgate/internal/smtp"
)

// Exit codes from sysexits.h, as sendmail uses them.
const (
	ExOK          = 0  // success
	ExUsage       = 64 // command line usage error
	ExDataErr     = 65 // data format error: bad address or header, message refused
	ExNoInput     = 66 // cannot open input
	ExNoUser      = 67 // addressee unknown
	ExNoHost      = 68 // host name unknown
	ExUnavailable = 69 // service unavailable: refused permanently, feature missing
	ExSoftware    = 70 // internal software error
	ExOSErr       = 71 // system error (cannot find the current user)
	ExCantCreat   = 73 // cannot create a file (install-links)
	ExIOErr       = 74 // input/output error reading the message
	ExTempFail    = 75 // temporary failure: try again later; the message was NOT queued
	ExProtocol    = 76 // remote error in protocol
	ExNoPerm      = 77 // permission denied
	ExConfig      = 78 // configuration error
)

// Stage names the SMTP command a reply answers, for the exit-code mapping.
type Stage int

// Stages of the client dialog.
const (
	StageGreeting Stage = iota
	StageHelo
	StageMail
	StageRcpt
	StageData
)

// ExitCode maps a negative SMTP reply to a sysexits code:
//   - any 4xx: EX_TEMPFAIL (75)
//   - x.1.1 bad mailbox, x.1.6 moved, x.1.10 null MX on RCPT: EX_NOUSER (67)
//   - x.1.2 bad destination system: EX_NOHOST (68)
//   - x.1.x other address syntax / status, 501 on MAIL or RCPT: EX_DATAERR (65)
//   - x.7.x security or policy (relay, sender not allowed): EX_NOPERM (77)
//   - 5xx to the end of data (size, content): EX_DATAERR (65)
//   - other 5xx to RCPT: EX_NOUSER (67)
//   - anything else 5xx: EX_UNAVAILABLE (69)
func ExitCode(stage Stage, r smtp.Reply) int {
	if r.Positive() {
		return ExOK
	}
	if r.Temporary() {
		return ExTempFail
	}
	if r.Code < 500 || r.Code > 599 {
		return ExProtocol
	}
	e := r.Enhanced
	_, subject, _ := strings.Cut(e, ".")
	switch {
	case subject == "1.1" || subject == "1.6" || subject == "1.10":
		if stage == StageRcpt {
			return ExNoUser
		}
		return ExDataErr
	case subject == "1.2":
		return ExNoHost
	case strings.HasPrefix(subject, "1."):
		return ExDataErr
	case strings.HasPrefix(subject, "7."):
		return ExNoPerm
	case r.Code == 501 && (stage == StageMail || stage == StageRcpt):
		return ExDataErr
	case stage == StageData:
		return ExDataErr
	case stage == StageRcpt:
		return ExNoUser
	}
	return ExUnavailable
}

// worse returns the more definitive of two exit codes: a permanent
// failure wins over a temporary one, and any failure over success.
func worse(a, b int) int {
	switch {
	case a == ExOK:
		return b
	case b == ExOK:
		return a
	case a == ExTempFail:
		return b
	}
	return a
}
