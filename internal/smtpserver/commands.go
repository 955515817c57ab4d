package smtpserver

import (
	"context"
	"fmt"
	"strings"
	"time"

	"postgate/internal/queue"
	"postgate/internal/smtp"
)

// handler runs one command; arg is the text after the verb, trimmed.
type handler func(s *session, arg string)

// commands is the command table. Each handler queues its own replies.
var commands map[string]handler

func init() {
	commands = map[string]handler{
		"HELO":     (*session).cmdHelo,
		"EHLO":     (*session).cmdEhlo,
		"MAIL":     (*session).cmdMail,
		"RCPT":     (*session).cmdRcpt,
		"DATA":     (*session).cmdData,
		"BDAT":     (*session).cmdBdat,
		"RSET":     (*session).cmdRset,
		"NOOP":     (*session).cmdNoop,
		"QUIT":     (*session).cmdQuit,
		"VRFY":     (*session).cmdVrfy,
		"EXPN":     (*session).cmdVrfy,
		"HELP":     (*session).cmdHelp,
		"ETRN":     (*session).cmdEtrn,
		"STARTTLS": (*session).cmdStartTLS,
		"AUTH":     (*session).cmdAuth,
	}
}

func (s *session) cmdHelo(arg string) {
	if arg == "" {
		s.reply(smtp.R(501, "5.5.2", "HELO requires a domain name"))
		return
	}
	s.abortTx()
	s.helo, s.esmtp = arg, false
	s.reply(smtp.R(250, "", s.helloLine()))
}

func (s *session) cmdEhlo(arg string) {
	if arg == "" {
		s.reply(smtp.R(501, "5.5.2", "EHLO requires a domain name or address literal"))
		return
	}
	s.abortTx()
	s.helo, s.esmtp = arg, true
	s.reply(smtp.R(250, "", strings.Join(s.ehloLines(), "\n")))
}

func (s *session) cmdRset(arg string) {
	if arg != "" {
		s.reply(smtp.R(501, "5.5.4", "RSET takes no arguments"))
		return
	}
	s.abortTx()
	s.reply(smtp.R(250, "2.0.0", "Reset state"))
}

func (s *session) cmdNoop(string) { s.reply(smtp.ReplyOK) }

func (s *session) cmdQuit(string) {
	s.reply(smtp.Rf(221, "2.0.0", "%s closing connection", s.srv.cfg.Hostname))
	s.quit = true
}

// cmdVrfy answers VRFY and EXPN without disclosing whether users exist
// (RFC 5321 §3.5.3 allows 252).
func (s *session) cmdVrfy(string) {
	s.reply(smtp.R(252, "2.5.0", "Cannot verify user; send a message and delivery will be attempted"))
}

// needHelo answers 503 when no HELO/EHLO has been given.
func (s *session) needHelo() bool {
	if s.helo == "" {
		s.reply(smtp.R(503, "5.5.1", "Send HELO or EHLO first"))
		return false
	}
	return true
}

// needAuth reports whether the listener requires AUTH before MAIL and the
// session is not authenticated.
func (s *session) needAuth() bool {
	return (s.listener == ListenerSubmission || s.listener == ListenerSubmissions) && s.authUser == ""
}

func (s *session) cmdMail(arg string) {
	if !s.needHelo() {
		return
	}
	if s.tx != nil {
		s.reply(smtp.R(503, "5.5.1", "Nested MAIL command"))
		return
	}
	if s.needAuth() {
		s.reply(smtp.ReplyAuthRequired)
		return
	}
	rest, ok := cutPrefixFold(arg, "FROM:")
	if !ok {
		s.reply(smtp.R(501, "5.5.2", "Syntax: MAIL FROM:<address> [parameters]"))
		return
	}
	from, params, err := smtp.ParsePath(strings.TrimLeft(rest, " "), true, true)
	if err != nil {
		s.reply(smtp.Rf(501, "5.1.7", "Bad sender address syntax: %v", err))
		return
	}
	if params != "" && !s.esmtp {
		s.reply(smtp.R(555, "5.5.4", "MAIL parameters need EHLO"))
		return
	}
	p, perr := smtp.ParseMailParams(params)
	if perr != nil {
		s.reply(perr.Reply)
		return
	}
	if !p.SMTPUTF8 && !isASCII(from.String()) {
		s.reply(smtp.R(553, "5.6.7", "Non-ASCII sender address requires SMTPUTF8"))
		return
	}
	lim := s.srv.cfg.Limits
	if p.Size > lim.MaxMessageSize {
		s.reply(smtp.Rf(552, "5.3.4", "Message size %d exceeds fixed maximum message size %d", p.Size, lim.MaxMessageSize))
		return
	}
	if p.By != nil && p.By.Mode == 'R' && p.By.Seconds < int64(lim.DeliverByMin) {
		s.reply(smtp.Rf(501, "5.5.4", "BY time %d is below the minimum of %d seconds", p.By.Seconds, lim.DeliverByMin))
		return
	}
	senderOK := smtp.ReplySenderOK
	if s.local {
		sender, err := s.localSender(from)
		if err != nil {
			s.log.Info("local sender refused", "uid", s.localUID, "from", from.String(), "reason", err.Error())
			s.reply(smtp.Rf(553, "5.7.1", "%s", smtp.Printable(err.Error())))
			return
		}
		if sender != from {
			s.log.Info("local sender rewritten", "uid", s.localUID, "from", from.String(), "to", sender.String())
			senderOK = smtp.Rf(250, "2.1.0", "Sender <%s> OK (rewritten: uid %d may not use <%s>)", sender, s.localUID, smtp.Printable(from.String()))
		}
		from = sender
	} else if s.authUser != "" && s.srv.cfg.Auth.SenderPolicy == "own" && !from.IsNull() {
		ok, err := s.srv.opt.Users.MaySend(context.Background(), s.authUser, from.String())
		if err != nil {
			s.log.Error("sender check failed", "err", err)
			s.reply(smtp.R(451, "4.3.0", "Temporary failure checking sender"))
			return
		}
		if !ok {
			s.log.Info("sender refused", "from", from.String(), "user", s.authUser)
			s.reply(smtp.Rf(553, "5.7.1", "Sender address <%s> not owned by user %s", from.String(), s.authUser))
			return
		}
	}
	s.tx = &transaction{from: from, params: p, mailAuth: s.trustedMailAuth(p)}
	s.reply(senderOK)
}

// localSender applies the local trust model to a sendmail submission.
func (s *session) localSender(from smtp.Address) (smtp.Address, error) {
	if s.srv.opt.LocalSender == nil {
		return from, fmt.Errorf("local submission is not configured")
	}
	got, err := s.srv.opt.LocalSender(s.localUID, from.String())
	if err != nil {
		return from, err
	}
	if got == "" {
		return smtp.Address{}, nil
	}
	return smtp.ParseMailbox(got, true)
}

// trustedMailAuth returns the MAIL FROM AUTH= value to keep (RFC 4954 §5):
// from an unauthenticated session it is "<>"; from an authenticated one the
// value is kept when the user may send as it, else replaced by the user.
func (s *session) trustedMailAuth(p smtp.MailParams) string {
	if !p.HasAuth {
		if s.authUser != "" {
			return s.authUser
		}
		return ""
	}
	if s.authUser == "" || !s.srv.opt.Policy.TrustMailAuth(true) {
		return "<>"
	}
	if p.Auth == "<>" {
		return p.Auth
	}
	if ok, err := s.srv.opt.Users.MaySend(context.Background(), s.authUser, p.Auth); err == nil && ok {
		return p.Auth
	}
	return s.authUser
}

func (s *session) cmdRcpt(arg string) {
	if s.tx == nil {
		s.reply(smtp.R(503, "5.5.1", "Need MAIL before RCPT"))
		return
	}
	if s.tx.usedBDAT {
		s.reply(smtp.R(503, "5.5.1", "RCPT after BDAT"))
		return
	}
	rest, ok := cutPrefixFold(arg, "TO:")
	if !ok {
		s.reply(smtp.R(501, "5.5.2", "Syntax: RCPT TO:<address> [parameters]"))
		return
	}
	rest = strings.TrimLeft(rest, " ")
	to, params, err := smtp.ParsePath(rest, false, true)
	if err != nil {
		if pm, ok := cutPrefixFold(rest, "<postmaster>"); ok { // RFC 5321 §4.5.1
			to, params, err = smtp.Address{Local: "postmaster", Domain: s.srv.cfg.UserDefaultDomain()}, strings.TrimLeft(pm, " "), nil
		}
	}
	if err != nil {
		s.reply(smtp.Rf(501, "5.1.3", "Bad recipient address syntax: %v", err))
		return
	}
	if params != "" && !s.esmtp {
		s.reply(smtp.R(555, "5.5.4", "RCPT parameters need EHLO"))
		return
	}
	p, perr := smtp.ParseRcptParams(params)
	if perr != nil {
		s.reply(perr.Reply)
		return
	}
	if !s.tx.params.SMTPUTF8 && !isASCII(to.String()) {
		s.reply(smtp.R(553, "5.6.7", "Non-ASCII recipient address requires SMTPUTF8"))
		return
	}
	if len(s.tx.rcpts) >= s.srv.cfg.Limits.MaxRecipients {
		s.reply(smtp.R(452, "4.5.3", "Too many recipients"))
		return
	}
	if r := s.checkRecipient(to); r.Code != 0 {
		s.reply(r)
		return
	}
	s.tx.rcpts = append(s.tx.rcpts, queue.Recipient{Addr: to.String(), Notify: p.Notify, ORCPT: p.ORCPT, Status: "pending"})
	s.reply(smtp.ReplyRecipientOK)
}

// checkRecipient applies relay control and local mailbox existence. It
// returns the zero Reply when the recipient is acceptable.
func (s *session) checkRecipient(to smtp.Address) smtp.Reply {
	domain := strings.ToLower(strings.TrimSuffix(to.Domain, "."))
	if !s.srv.cfg.IsLocalDomain(domain) {
		if s.authUser != "" || s.local || s.srv.isTrusted(s.remoteIP) {
			return smtp.Reply{}
		}
		s.log.Info("relay denied", "rcpt", to.String())
		return smtp.ReplyRelayDenied
	}
	if strings.EqualFold(to.Local, "postmaster") {
		return smtp.Reply{}
	}
	ok, err := s.srv.opt.Users.Exists(context.Background(), to.Local+"@"+domain)
	if err != nil {
		s.log.Error("recipient lookup failed", "err", err)
		return smtp.R(451, "4.3.0", "Temporary failure looking up recipient")
	}
	if !ok {
		s.log.Info("unknown local recipient", "rcpt", to.String())
		return smtp.Rf(550, "5.1.1", "<%s>: Recipient address rejected: no such user", to.String())
	}
	return smtp.Reply{}
}

func (s *session) cmdEtrn(arg string) {
	if !s.needHelo() {
		return
	}
	if s.tx != nil {
		s.reply(smtp.R(503, "5.5.1", "ETRN not allowed during a mail transaction"))
		return
	}
	node := strings.TrimPrefix(strings.TrimPrefix(arg, "@"), "#")
	if node == "" || strings.ContainsAny(arg, " \t") {
		s.reply(smtp.R(501, "5.5.2", "Syntax: ETRN [@|#]node"))
		return
	}
	// Remote delivery and the queue manager are not built yet: nothing can
	// be started for a node (RFC 1985 §5: 458 unable to queue for node).
	s.reply(smtp.Rf(458, "4.3.0", "Unable to queue messages for node %s", smtp.Printable(node)))
}

func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix) {
		return s[len(prefix):], true
	}
	return s, false
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// now is the server's clock.
func (s *session) now() time.Time { return s.srv.opt.Now() }
