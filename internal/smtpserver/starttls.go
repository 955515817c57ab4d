package smtpserver

import (
	"crypto/tls"
	"time"

	"postgate/internal/metrics"
	"postgate/internal/smtp"
	"postgate/internal/tlsconf"
)

// cmdStartTLS upgrades the connection (RFC 3207). Input the client
// pipelined after STARTTLS is discarded before the handshake
// (CVE-2011-0411) and all session state is forgotten after it.
func (s *session) cmdStartTLS(arg string) {
	switch {
	case arg != "":
		s.reply(smtp.R(501, "5.5.4", "STARTTLS takes no arguments"))
		return
	case s.tls != nil:
		s.reply(smtp.R(503, "5.5.1", "TLS already active"))
		return
	case s.srv.opt.TLS == nil || s.listener == ListenerLocal:
		s.reply(smtp.R(454, "4.7.0", "TLS not available"))
		return
	}
	// RFC 3207 does not require EHLO first (gsasl --starttls sends STARTTLS
	// right after the greeting), and EHLO must be repeated after TLS anyway.
	if n := s.r.Buffered(); n > 0 {
		s.log.Warn("discarding input pipelined after STARTTLS", "octets", n)
		s.r.Discard(n)
	}
	s.reply(smtp.R(220, "2.0.0", "Ready to start TLS"))
	if err := s.flush(); err != nil {
		s.quit = true
		return
	}
	if err := s.handshake(); err != nil {
		s.log.Info("TLS handshake failed", "err", err)
		s.quit = true
		return
	}
	s.abortTx()
	s.helo, s.esmtp, s.authUser = "", false, ""
}

// handshake runs the TLS server handshake on the connection and records
// its state and channel bindings.
func (s *session) handshake() error {
	tc := tls.Server(s.conn, s.srv.opt.TLS)
	// A handshake gets the idle timeout, at most a minute.
	limit, _ := s.cfgLimits()
	tc.SetDeadline(time.Now().Add(min(limit, time.Minute)))
	if err := tc.Handshake(); err != nil {
		metrics.TLSFailed(s.listener)
		return err
	}
	tc.SetDeadline(time.Time{})
	st := tc.ConnectionState()
	metrics.TLSEstablished(st.Version)
	s.tls = &st
	s.bindings = tlsconf.ChannelBindings(&st)
	s.setConn(tc)
	s.log.Info("TLS established", "version", tls.VersionName(st.Version),
		"cipher", tls.CipherSuiteName(st.CipherSuite), "client_cert", len(st.VerifiedChains) > 0)
	return nil
}
