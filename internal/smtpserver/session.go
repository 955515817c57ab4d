package smtpserver

import (
	"bufio"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"strings"
	"sync"
	"time"

	"postgate/internal/auth"
	"postgate/internal/metrics"
	"postgate/internal/peercred"
	"postgate/internal/queue"
	"postgate/internal/smtp"
)

// session is one SMTP connection.
type session struct {
	srv      *Server
	listener string
	conn     net.Conn
	r        *bufio.Reader
	w        *bufio.Writer
	log      *slog.Logger
	id       string
	remoteIP netip.Addr
	localIP  netip.Addr
	trace    bool
	localUID uint32 // peer uid on the local listener
	local    bool

	tls      *tls.ConnectionState
	bindings map[string][]byte

	helo     string
	esmtp    bool
	authUser string
	authFail int
	errors   int
	quit     bool
	verb     string // the command being answered, for the rejection metric
	tx       *transaction

	mu   sync.Mutex // guards busy against Server.Shutdown
	busy bool       // reading message data: shutdown waits for it
}

// transaction is the state between MAIL and the end of data.
type transaction struct {
	from     smtp.Address
	params   smtp.MailParams
	mailAuth string
	rcpts    []queue.Recipient
	// BDAT (RFC 3030) state across chunks.
	chunk    *queue.Writer
	chunkErr error
	bdatSize int64
	usedBDAT bool
}

func newSession(srv *Server, c net.Conn, kind string) *session {
	id := fmt.Sprintf("%x%04x", srv.opt.Now().Unix()&0xffffff, srv.seq.Add(1)&0xffff)
	s := &session{srv: srv, listener: kind, conn: c, id: id,
		remoteIP: addrOf(c.RemoteAddr()), localIP: addrOf(c.LocalAddr())}
	s.trace = inPrefixes(srv.traced, s.remoteIP)
	s.log = srv.log.With("sid", id)
	if kind == ListenerLocal {
		s.localUID, s.local = peercred.UID(c)
	}
	s.setConn(c)
	return s
}

func (s *session) setConn(c net.Conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.conn = c
	s.r = bufio.NewReaderSize(c, 64<<10)
	s.w = bufio.NewWriterSize(c, 8<<10)
}

func (s *session) cfgLimits() (cmd, data time.Duration) {
	l := s.srv.cfg.Limits
	return l.CommandTimeout.Duration, l.DataTimeout.Duration
}

// run serves the connection until QUIT, an error or shutdown.
func (s *session) run() {
	defer func() { s.conn.Close() }() // the TLS connection after STARTTLS
	defer s.abortTx()
	s.log.Info("connect", "client", s.clientName(), "listener", s.listener)
	if s.listener == ListenerLocal && !s.local {
		s.reply(smtp.R(554, "5.7.0", "Cannot identify the local user; local submission refused"))
		s.w.Flush()
		return
	}
	if s.listener == ListenerSubmissions {
		if err := s.handshake(); err != nil {
			s.log.Info("TLS handshake failed", "err", err)
			return
		}
	}
	s.reply(smtp.Rf(220, "", "%s ESMTP postgate ready", s.srv.cfg.Hostname))
	for !s.quit {
		if err := s.command(); err != nil {
			s.endOnError(err)
			break
		}
	}
	s.w.Flush()
	s.log.Info("disconnect", "errors", s.errors, "auth_failures", s.authFail)
}

// command reads and runs one command.
func (s *session) command() error {
	if err := s.setReadDeadline(false); err != nil {
		return err
	}
	if !lineBuffered(s.r) {
		if err := s.w.Flush(); err != nil {
			return err
		}
	}
	line, err := readLine(s.r, maxAuthLine)
	switch {
	case errors.Is(err, errLineTooLong):
		s.reply(smtp.ReplyLineTooLong)
		return nil
	case errors.Is(err, errNUL):
		s.reply(smtp.R(500, "5.5.2", "NUL byte in command"))
		return nil
	case err != nil:
		return err
	}
	verb, arg, _ := strings.Cut(string(line), " ")
	verb = strings.ToUpper(verb)
	if s.trace {
		s.log.Info("trace <", "line", redactCommand(verb, string(line)))
	}
	if len(line) > maxCommandLine-2 && verb != "AUTH" {
		s.reply(smtp.ReplyLineTooLong)
		return nil
	}
	s.verb = verb
	h, ok := commands[verb]
	if !ok {
		s.reply(smtp.ReplyUnknownCommand)
		return nil
	}
	h(s, strings.TrimSpace(arg))
	return nil
}

// setReadDeadline arms the idle timeout, for reading and for writing (a
// client that stops reading its replies is cut off too). It refuses to
// wait for a new command once the server is shutting down.
func (s *session) setReadDeadline(data bool) error {
	cmd, dt := s.cfgLimits()
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.busy && s.srv.closing.Load() {
		return errShutdown
	}
	d := cmd
	if data {
		d = dt
	}
	return s.conn.SetDeadline(time.Now().Add(d))
}

var errShutdown = errors.New("server shutting down")

// setBusy marks the session as reading message data; shutdown lets it
// finish. It returns false when the server is already shutting down.
func (s *session) setBusy(b bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if b && s.srv.closing.Load() {
		return false
	}
	s.busy = b
	return true
}

// clientName names the client for logs: its IP, or "local uid N".
func (s *session) clientName() string {
	if s.listener == ListenerLocal {
		return fmt.Sprintf("local uid %d", s.localUID)
	}
	return s.remoteIP.String()
}

// forceClose closes the connection (end of the shutdown grace period).
func (s *session) forceClose() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.conn.Close()
}

// interruptIfIdle wakes a session blocked waiting for a command.
func (s *session) interruptIfIdle() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.busy {
		s.conn.SetReadDeadline(time.Now())
	}
}

// endOnError sends the reply that ends the session for a read error.
func (s *session) endOnError(err error) {
	// The idle deadline covered writes too: give the last reply its own.
	s.conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	var ne net.Error
	switch {
	case errors.Is(err, errShutdown) || s.srv.closing.Load() && errors.As(err, &ne) && ne.Timeout():
		s.reply(smtp.ReplyShuttingDown)
	case errors.As(err, &ne) && ne.Timeout():
		s.log.Info("idle timeout")
		s.reply(smtp.ReplyTimeout)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed), errors.Is(err, os.ErrDeadlineExceeded):
		s.log.Info("connection closed by client")
	default:
		s.log.Info("connection error", "err", err)
	}
}

// reply queues a reply; it is flushed before the next blocking read.
// Client errors (5xx other than authentication failures) are counted and
// end the session with 421 when there are too many.
func (s *session) reply(r smtp.Reply) {
	if r.Code >= 400 {
		if stage := rejectStage(s.verb); stage != "" {
			metrics.MessageRejected(stage, metrics.RejectReasonOf(r))
		}
	}
	for _, l := range r.Lines() {
		s.w.WriteString(l)
		s.w.WriteString("\r\n")
		if s.trace {
			s.log.Info("trace >", "line", l)
		}
	}
	if r.Code >= 500 && r.Code != 535 && r.Code != 534 && r.Code != 538 {
		s.errors++
		if s.errors >= s.srv.cfg.Limits.MaxErrors {
			s.log.Warn("too many errors, closing", "errors", s.errors)
			for _, l := range smtp.ReplyTooManyErrors.Lines() {
				s.w.WriteString(l + "\r\n")
			}
			s.quit = true
		}
	}
}

// rejectStage names the transaction stage a refusal of verb belongs to.
func rejectStage(verb string) string {
	switch verb {
	case "MAIL":
		return metrics.StageMail
	case "RCPT":
		return metrics.StageRcpt
	case "DATA", "BDAT":
		return metrics.StageData
	}
	return ""
}

// flush sends queued replies now.
func (s *session) flush() error { return s.w.Flush() }

// policySession describes the session for the auth policy.
func (s *session) policySession() auth.Session {
	return auth.Session{
		Listener:       s.listener,
		TLS:            s.tls != nil,
		ChannelBinding: len(s.bindings) > 0,
		ClientCert:     s.tls != nil && len(s.tls.VerifiedChains) > 0,
		ClientIP:       s.remoteIP,
		Helo:           s.helo,
	}
}

// abortTx forgets the transaction (RSET, EHLO, STARTTLS, end of data).
func (s *session) abortTx() {
	if s.tx != nil && s.tx.chunk != nil {
		s.tx.chunk.Abort()
	}
	s.tx = nil
}

// redactCommand hides credentials for the trace: the payload of AUTH,
// and any line that is not a known command, since a client that pipelined
// its SASL responses behind a refused AUTH sends them as "commands".
func redactCommand(verb, line string) string {
	if _, known := commands[verb]; !known {
		return fmt.Sprintf("<unrecognised command, %d octets>", len(line))
	}
	if verb != "AUTH" {
		return line
	}
	f := strings.Fields(line)
	if len(f) > 2 {
		return f[0] + " " + f[1] + " <redacted>"
	}
	return line
}
