package smtpserver

import (
	"encoding/base64"
	"errors"
	"log/slog"
	"strings"
	"time"

	"postgate/internal/auth"
	"postgate/internal/metrics"
	"postgate/internal/sasl"
	"postgate/internal/smtp"
)

// cmdAuth runs one SMTP AUTH exchange (RFC 4954). Client responses are
// never logged; failures are logged with the mechanism, the username as
// sent, the client address and the mechanism's precise reason.
func (s *session) cmdAuth(arg string) {
	mechName, initial, _ := strings.Cut(strings.TrimSpace(arg), " ")
	mechName = strings.ToUpper(mechName)
	initial = strings.TrimSpace(initial)
	switch {
	case !s.esmtp:
		s.reply(smtp.R(503, "5.5.1", "Send EHLO before AUTH"))
		return
	case s.listener == ListenerLocal:
		s.reply(smtp.R(503, "5.5.1", "AUTH is not used on the local socket: the peer's uid identifies the user"))
		return
	case s.authUser != "":
		s.reply(smtp.R(503, "5.5.1", "Already authenticated"))
		return
	case s.tx != nil:
		s.reply(smtp.R(503, "5.5.1", "AUTH not allowed during a mail transaction"))
		return
	case mechName == "":
		s.reply(smtp.R(501, "5.5.2", "Syntax: AUTH <mechanism> [initial-response]"))
		return
	}
	log := s.log.With("mech", mechName, "client", s.remoteIP.String())
	if err := s.srv.opt.Policy.Check(mechName, s.policySession()); err != nil {
		r := smtp.ReplyOf(err)
		log.Info("auth refused", "reason", r.Text)
		s.recordAuthFailure(mechName, "", r.Text)
		s.reply(r)
		return
	}
	lim := s.srv.opt.Limiter
	if locked, until := lim.Check(s.remoteIP, ""); locked {
		log.Warn("auth refused: client address locked out", "until", until.Format(time.RFC3339))
		s.recordAuthFailure(mechName, "", "client address locked out")
		s.reply(smtp.ReplyOf(auth.ErrLockedOut))
		return
	}
	start := time.Now()
	var resp []byte
	if initial != "" {
		if initial == "=" {
			resp = []byte{}
		} else {
			b, err := base64.StdEncoding.DecodeString(initial)
			if err != nil {
				s.authFailed(log, mechName, start, "", "bad base64 in initial response", smtp.R(501, "5.5.2", "Cannot decode base64 response"))
				return
			}
			resp = b
		}
	}
	mech, err := sasl.NewServer(mechName, s.saslInfo(), s.srv.opt.Users)
	if err != nil {
		s.reply(smtp.R(504, "5.5.4", "Unrecognized authentication mechanism"))
		return
	}
	for {
		challenge, done, err := mech.Next(resp)
		if err != nil {
			var se *sasl.Error
			user, reason, reply := "", err.Error(), smtp.R(535, "5.7.8", "Authentication credentials invalid")
			if errors.As(err, &se) {
				user = se.User
				switch se.Kind {
				case sasl.Malformed:
					reply = smtp.R(501, "5.5.2", "Malformed authentication response")
				case sasl.Temporary:
					reply = smtp.R(454, "4.7.0", "Temporary authentication failure")
				}
			}
			s.authFailed(log, mechName, start, user, reason, reply)
			return
		}
		if done {
			break
		}
		s.reply(smtp.R(334, "", base64.StdEncoding.EncodeToString(challenge)))
		if err := s.flush(); err != nil {
			s.quit = true
			return
		}
		if err := s.setReadDeadline(false); err != nil {
			s.quit = true
			return
		}
		line, err := readLine(s.r, maxAuthLine)
		if err != nil {
			if errors.Is(err, errLineTooLong) {
				s.authFailed(log, mechName, start, "", "response line too long", smtp.R(500, "5.5.6", "Authentication exchange line too long"))
				return
			}
			s.quit = true
			return
		}
		if s.trace {
			s.log.Info("trace <", "line", "<redacted SASL response>")
		}
		if string(line) == "*" {
			log.Info("auth cancelled by client")
			s.recordAuthFailure(mechName, "", "cancelled by client")
			s.reply(smtp.R(501, "5.0.0", "Authentication cancelled"))
			return
		}
		b, err := base64.StdEncoding.DecodeString(string(line))
		if err != nil {
			s.authFailed(log, mechName, start, "", "bad base64 in response", smtp.R(501, "5.5.2", "Cannot decode base64 response"))
			return
		}
		resp = b
	}
	res := mech.Result()
	if locked, _ := lim.Check(s.remoteIP, res.User); locked {
		s.authFailed(log, mechName, start, res.User, "user locked out after repeated failures", smtp.ReplyOf(auth.ErrLockedOut))
		return
	}
	lim.Success(s.remoteIP, res.User)
	s.authUser = res.User
	attrs := []any{"user", res.User}
	if res.Authz != "" {
		attrs = append(attrs, "authz", res.Authz)
	}
	if len(res.Notes) > 0 {
		attrs = append(attrs, "variants", strings.Join(res.Notes, "; "))
	}
	log.Info("auth succeeded", attrs...)
	metrics.AuthAttempt(mechName, true, "")
	s.reply(smtp.R(235, "2.7.0", "Authentication successful"))
}

// authFailed logs a failure, holds the reply back for the failure delay
// and closes the session after too many failures.
func (s *session) authFailed(log *slog.Logger, mech string, start time.Time, user, reason string, r smtp.Reply) {
	s.authFail++
	s.recordAuthFailure(mech, user, reason)
	key := user
	if c, err := s.srv.opt.Users.Canonical(user); err == nil {
		key = c
	}
	delay := s.srv.opt.Limiter.Failure(s.remoteIP, key)
	log.Warn("auth failed", "user", user, "reason", reason, "failures", s.authFail)
	auth.Hold(start, delay) // a fixed minimum duration for every failure
	s.reply(r)
	if s.authFail >= s.srv.opt.Limiter.MaxFailuresPerSession() {
		s.reply(smtp.R(421, "4.7.0", "Too many failed authentications, closing connection"))
		s.quit = true
	}
}

// recordAuthFailure counts a failure in the metrics and in the record
// `postgate status` shows. user is the name as the client sent it.
func (s *session) recordAuthFailure(mech, user, reason string) {
	metrics.AuthAttempt(mech, false, reason)
	if s.srv.opt.AuthFailures != nil {
		s.srv.opt.AuthFailures.Record(s.clientName(), mech, user, reason, time.Now())
	}
}

// saslInfo describes the connection to a server mechanism.
func (s *session) saslInfo() sasl.ServerInfo {
	info := sasl.ServerInfo{
		Service:         "smtp",
		Hostname:        s.srv.cfg.Hostname,
		Aliases:         s.srv.cfg.Aliases,
		LocalAddr:       s.localIP.String(),
		Realms:          s.srv.cfg.DigestRealms(),
		SCRAMIterations: s.srv.cfg.Auth.SCRAMIterations,
	}
	// Channel binding data tells SCRAM that -PLUS is offered here: a client
	// that then says "y" is being downgraded. Give it only when it is.
	for _, m := range s.srv.opt.Policy.Offered(s.policySession()) {
		if strings.HasSuffix(m, "-PLUS") {
			info.ChannelBindings = s.bindings
		}
	}
	if s.tls != nil && len(s.tls.VerifiedChains) > 0 {
		info.PeerCertificate = s.tls.PeerCertificates[0]
	}
	return info
}
