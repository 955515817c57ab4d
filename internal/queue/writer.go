package queue

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// writerBufSize is the write buffer in front of the message file; the
// message itself is never held in memory.
const writerBufSize = 64 << 10

// Writer state.
const (
	writerOpen = iota
	writerCommitted
	writerDone // aborted, or Commit failed and cleaned up
)

var errWriterDone = errors.New("queue: writer already committed or aborted")

// Writer receives the content of one new message. A Writer is used by one
// goroutine; it must end with Commit or Abort (Abort after a successful
// Commit is a no-op, so `defer w.Abort()` is the intended use).
type Writer struct {
	s     *Spool
	id    string
	tmp   string // tmp/<id>.msg
	f     *os.File
	bw    *bufio.Writer
	size  int64
	state int
	err   error // first write error, sticky
}

// Create starts a new message in tmp/. The caller writes the content
// (header and body with CRLF line endings as received, after any trace
// header it adds) and then calls Commit or Abort.
func (s *Spool) Create() (*Writer, error) {
	s.mu.RLock()
	closed := s.closed
	s.mu.RUnlock()
	if closed {
		return nil, ErrClosed
	}
	id := newID(time.Now())
	w := &Writer{s: s, id: id, tmp: filepath.Join(s.tmpDir, id+msgExt)}
	f, err := os.OpenFile(w.tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("queue: %w", err)
	}
	w.f = f
	w.bw = bufio.NewWriterSize(f, writerBufSize)
	return w, nil
}

// ID returns the id the message will have once committed, so the caller
// can name it in its Received header and logs before Commit.
func (w *Writer) ID() string { return w.id }

// Write appends message content.
func (w *Writer) Write(p []byte) (int, error) {
	if w.state != writerOpen {
		return 0, errWriterDone
	}
	if w.err != nil {
		return 0, w.err
	}
	n, err := w.bw.Write(p)
	w.size += int64(n)
	if err != nil {
		w.err = fmt.Errorf("queue: writing message %s: %w", w.id, err)
		return n, w.err
	}
	return n, nil
}

// Size returns the number of octets written so far.
func (w *Writer) Size() int64 { return w.size }

// Commit makes message and envelope durable. It sets env.ID and env.Size,
// sets env.Received to now if it is zero and the Status of recipients
// without one to StatusPending. When it returns nil the message is on
// stable storage and will survive kill -9 and power loss. It is safe to
// call from many goroutines at once (each with its own Writer): concurrent
// commits share the directory fsync (group commit). On error nothing of
// the message is left in the spool.
func (w *Writer) Commit(env *Envelope) (string, error) {
	if w.state != writerOpen {
		return "", errWriterDone
	}
	if err := w.seal(env); err != nil {
		w.cleanup()
		return "", err
	}
	if err := w.s.submit(&op{kind: opCommit, id: w.id}); err != nil {
		w.cleanup()
		return "", err
	}
	w.state = writerCommitted
	return w.id, nil
}

// seal appends envelope and trailer to the content, fdatasyncs the file
// and closes it, leaving it complete in tmp/.
func (w *Writer) seal(env *Envelope) error {
	if env == nil {
		return errors.New("queue: Commit with nil envelope")
	}
	if w.err != nil {
		return w.err
	}
	env.ID = w.id
	env.Size = w.size
	if env.Received.IsZero() {
		env.Received = time.Now()
	}
	for i := range env.Recipients {
		if env.Recipients[i].Status == "" {
			env.Recipients[i].Status = StatusPending
		}
	}
	b, err := encodeEnvelope(env)
	if err != nil {
		return fmt.Errorf("queue: message %s: %w", w.id, err)
	}
	w.bw.Write(b)
	w.bw.Write(encodeTrailer(w.size, b))
	if err := w.bw.Flush(); err != nil {
		return fmt.Errorf("queue: writing message %s: %w", w.id, err)
	}
	w.s.fileSyncs.Add(1)
	err = w.s.timed(func() error { return syncData(w.f) })
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	w.f = nil
	if err != nil {
		return fmt.Errorf("queue: message %s: %w", w.id, err)
	}
	return nil
}

// Abort removes everything written for the message. It is idempotent and
// safe after Commit failed; after a successful Commit it does nothing.
func (w *Writer) Abort() error {
	if w.state != writerOpen {
		return nil
	}
	return w.cleanup()
}

// cleanup closes and deletes the temporary file and ends the writer.
func (w *Writer) cleanup() error {
	w.state = writerDone
	if w.f != nil {
		w.f.Close()
		w.f = nil
	}
	if err := os.Remove(w.tmp); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}
