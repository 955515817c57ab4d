package smtpserver

import (
	"sort"
	"strings"

	"postgate/internal/smtp"
)

// helpTexts explain each command for HELP <command> (RFC 5321 §4.1.1.8).
var helpTexts = map[string]string{
	"HELO":     "HELO <domain>\nIdentify yourself (plain SMTP, no extensions).",
	"EHLO":     "EHLO <domain>\nIdentify yourself and list the service extensions.",
	"MAIL":     "MAIL FROM:<sender> [SIZE=n] [BODY=7BIT|8BITMIME|BINARYMIME] [SMTPUTF8]\n[RET=FULL|HDRS] [ENVID=id] [AUTH=<mailbox>|<>] [BY=seconds;R|N[T]]\nStart a mail transaction.",
	"RCPT":     "RCPT TO:<recipient> [NOTIFY=NEVER|SUCCESS,FAILURE,DELAY] [ORCPT=rfc822;addr]\nAdd a recipient.",
	"DATA":     "DATA\nSend the message, ended by a line holding a single dot.",
	"BDAT":     "BDAT <size> [LAST]\nSend the next <size> octets of the message (CHUNKING).",
	"RSET":     "RSET\nAbandon the current transaction.",
	"NOOP":     "NOOP\nDo nothing.",
	"QUIT":     "QUIT\nClose the connection.",
	"VRFY":     "VRFY <address>\nNot answered (252): users are not disclosed.",
	"EXPN":     "EXPN <list>\nNot answered (252): lists are not disclosed.",
	"HELP":     "HELP [command]\nShow this help.",
	"ETRN":     "ETRN [@|#]<node>\nAsk for queued mail for a node to be sent.",
	"STARTTLS": "STARTTLS\nStart TLS on this connection.",
	"AUTH":     "AUTH <mechanism> [initial-response]\nAuthenticate; see the EHLO AUTH line for mechanisms.",
}

func (s *session) cmdHelp(arg string) {
	if arg == "" {
		verbs := make([]string, 0, len(commands))
		for v := range commands {
			verbs = append(verbs, v)
		}
		sort.Strings(verbs)
		s.reply(smtp.R(214, "2.0.0", "postgate, "+s.srv.cfg.Hostname+"\nCommands: "+
			strings.Join(verbs, " ")+"\nFor more on a command: HELP <command>\nEnd of HELP info"))
		return
	}
	text, ok := helpTexts[strings.ToUpper(arg)]
	if !ok {
		s.reply(smtp.Rf(504, "5.5.1", "HELP topic %q unknown", smtp.Printable(arg)))
		return
	}
	s.reply(smtp.R(214, "2.0.0", text+"\nEnd of HELP info"))
}
