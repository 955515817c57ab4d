package smtpserver

import (
	"bufio"
	"errors"
	"io"
	"strconv"
	"strings"

	"postgate/internal/metrics"
	"postgate/internal/queue"
	"postgate/internal/smtp"
)

// cmdData receives the message text (RFC 5321 §4.1.1.4). 250 is sent only
// after the spool reports the message durable.
func (s *session) cmdData(arg string) {
	switch {
	case arg != "":
		s.reply(smtp.R(501, "5.5.4", "DATA takes no arguments"))
		return
	case s.tx == nil:
		s.reply(smtp.R(503, "5.5.1", "Need MAIL before DATA"))
		return
	case len(s.tx.rcpts) == 0:
		s.reply(smtp.R(503, "5.5.1", "Need RCPT before DATA"))
		return
	case s.tx.usedBDAT:
		s.reply(smtp.R(503, "5.5.1", "DATA not allowed after BDAT"))
		return
	case s.tx.params.Body == "BINARYMIME":
		s.reply(smtp.R(503, "5.5.1", "BODY=BINARYMIME requires BDAT"))
		return
	}
	if s.r.Buffered() > 0 {
		// RFC 2920 §3.1: DATA ends a pipelined group; text sent before 354
		// came from a client that did not wait. Refuse it and resynchronise.
		s.r.Discard(s.r.Buffered())
		s.abortTx()
		s.reply(smtp.R(554, "5.5.0", "Message text sent before the 354 reply"))
		return
	}
	if !s.setBusy(true) {
		s.reply(smtp.ReplyShuttingDown)
		s.quit = true
		return
	}
	defer s.setBusy(false)
	w, err := s.srv.opt.Spool.Create()
	if err != nil {
		s.log.Error("spool create failed", "err", err)
		s.reply(smtp.ReplyLocalError)
		s.abortTx()
		return
	}
	s.reply(smtp.R(354, "", "Start mail input; end with <CRLF>.<CRLF>"))
	if err := s.flush(); err != nil {
		w.Abort()
		return
	}
	if err := s.setReadDeadline(true); err != nil {
		w.Abort()
		return
	}
	bw := bufio.NewWriterSize(w, 32<<10)
	bw.WriteString(s.receivedHeader(w.ID()))
	_, err = readData(s.r, bw, s.srv.cfg.Limits.MaxMessageSize)
	if err == nil {
		err = bw.Flush()
	}
	s.finishMessage(w, err)
}

// cmdBdat receives one chunk (RFC 3030). The chunk is read in full even
// when it will be refused, so the session stays in step.
func (s *session) cmdBdat(arg string) {
	f := strings.Fields(arg)
	if len(f) == 0 || len(f) > 2 || (len(f) == 2 && !strings.EqualFold(f[1], "LAST")) {
		s.reply(smtp.R(501, "5.5.4", "Syntax: BDAT <size> [LAST]"))
		return
	}
	size, err := strconv.ParseInt(f[0], 10, 64)
	if err != nil || size < 0 {
		s.reply(smtp.R(501, "5.5.4", "BDAT size must be a non-negative number"))
		return
	}
	last := len(f) == 2
	if s.tx == nil || len(s.tx.rcpts) == 0 {
		// The chunk must still be consumed: the client has sent it.
		s.discardChunk(size)
		s.reply(smtp.R(503, "5.5.1", "Need MAIL and RCPT before BDAT"))
		return
	}
	if !s.setBusy(true) {
		s.reply(smtp.ReplyShuttingDown)
		s.quit = true
		return
	}
	defer s.setBusy(false)
	tx := s.tx
	if !tx.usedBDAT {
		tx.usedBDAT = true
		w, err := s.srv.opt.Spool.Create()
		if err != nil {
			s.log.Error("spool create failed", "err", err)
			tx.chunkErr = smtp.Wrap(smtp.ReplyLocalError, err)
		} else {
			tx.chunk = w
			_, tx.chunkErr = io.WriteString(w, s.receivedHeader(w.ID()))
		}
	}
	if err := s.setReadDeadline(true); err != nil {
		return
	}
	limit := s.srv.cfg.Limits.MaxMessageSize
	switch {
	case tx.chunkErr != nil:
		s.discardChunk(size)
	case tx.bdatSize+size > limit:
		s.discardChunk(size)
		tx.chunkErr = errTooBig
	default:
		tx.bdatSize += size
		if _, err := io.CopyN(tx.chunk, s.r, size); err != nil {
			s.quit = true
			s.abortTx()
			return
		}
	}
	if !last {
		if tx.chunkErr != nil {
			// Refuse now; the client may RSET. Further chunks are consumed.
			s.reply(replyForDataErr(tx.chunkErr))
			return
		}
		s.reply(smtp.Rf(250, "2.0.0", "%d octets received", size))
		return
	}
	w := tx.chunk
	tx.chunk = nil
	s.finishMessage(w, tx.chunkErr)
}

func (s *session) discardChunk(size int64) {
	if _, err := io.CopyN(io.Discard, s.r, size); err != nil {
		s.quit = true
	}
}

// finishMessage commits or aborts the spooled message and replies.
func (s *session) finishMessage(w *queue.Writer, err error) {
	tx := s.tx
	s.tx = nil
	if err != nil {
		if w != nil {
			w.Abort()
		}
		if errors.Is(err, errBareLFDot) {
			s.log.Warn("message refused: data ended with bare LF, closing", "from", tx.from.String())
			s.reply(smtp.R(421, "4.5.0", "Bare LF ends a line: only <CRLF>.<CRLF> ends data (RFC 5321 2.3.8); closing"))
			s.quit = true
			return
		}
		if isNetErr(err) {
			s.quit = true
			return
		}
		s.log.Info("message refused", "from", tx.from.String(), "reason", err.Error())
		s.reply(replyForDataErr(err))
		return
	}
	env := s.envelope(tx, w.Size())
	id, err := w.Commit(env)
	if err != nil {
		w.Abort()
		s.log.Error("spool commit failed", "err", err)
		s.reply(smtp.ReplyLocalError)
		return
	}
	metrics.MessageAccepted(s.listener, env.Size)
	s.log.Info("message accepted", "id", id, "from", env.From, "rcpts", len(env.Recipients), "size", env.Size)
	s.reply(smtp.Rf(250, "2.0.0", "OK queued as %s", id))
	if s.srv.closing.Load() {
		s.reply(smtp.ReplyShuttingDown)
		s.quit = true
	}
}

// clientAddr is the client IP for the envelope, "" for local submission.
func (s *session) clientAddr() string {
	if s.listener == ListenerLocal {
		return ""
	}
	return s.remoteIP.String()
}

// replyForDataErr maps a data-phase failure to its reply.
func replyForDataErr(err error) smtp.Reply {
	switch {
	case errors.Is(err, errTooBig):
		return smtp.ReplyTooBig
	case errors.Is(err, errBareEOL):
		return smtp.R(554, "5.6.0", "Message refused: bare CR or LF in message text; lines must end with <CRLF>")
	}
	return smtp.ReplyOf(err)
}

// isNetErr reports a failure of the client connection (not of the spool).
func isNetErr(err error) bool {
	var we interface{ Timeout() bool }
	return errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) || errors.As(err, &we)
}

// envelope builds the spool envelope of a finished transaction.
func (s *session) envelope(tx *transaction, size int64) *queue.Envelope {
	env := &queue.Envelope{
		From:       tx.from.String(),
		Recipients: tx.rcpts,
		Received:   s.now(),
		ClientAddr: s.clientAddr(),
		Helo:       s.helo,
		AuthUser:   s.authUser,
		MailAuth:   tx.mailAuth,
		Body:       tx.params.Body,
		SMTPUTF8:   tx.params.SMTPUTF8,
		Size:       size,
		Ret:        tx.params.Ret,
		EnvID:      tx.params.EnvID,
	}
	if env.Body == "" {
		env.Body = "7BIT"
	}
	if by := tx.params.By; by != nil {
		env.DeliverBy = &queue.DeliverBy{Deadline: by.Deadline(env.Received), Mode: string(by.Mode), Trace: by.Trace}
	}
	return env
}
