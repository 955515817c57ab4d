package queue

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"postgate/internal/fsutil"
)

// opKind says what a committer operation does in queue/.
type opKind int

const (
	opCommit opKind = iota // rename tmp/<id>.msg into queue/
	opUpdate               // rename a new envelope to queue/<id>.env
	opRemove               // unlink queue/<id>.msg then queue/<id>.env
)

// op is one change to queue/ that the committer applies and makes durable.
// Its file in tmp/ is already fdatasync'ed when it is submitted.
type op struct {
	kind opKind
	id   string
	tmp  string     // opUpdate: the new envelope in tmp/
	err  error      // set by the committer
	done chan error // receives err once the batch is durable (or failed)
}

// submit hands o to the committer and waits until it is durable.
func (s *Spool) submit(o *op) error {
	o.done = make(chan error, 1)
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return ErrClosed
	}
	s.ops <- o
	s.mu.RUnlock()
	if h := s.opts.testEnqueued; h != nil {
		h()
	}
	return <-o.done
}

// runCommitter is the group-commit loop. It takes one operation, then
// every operation that queued up meanwhile (those submitted while the
// previous batch's fsync ran), applies them all and fsyncs queue/ once.
func (s *Spool) runCommitter() {
	defer close(s.done)
	batch := make([]*op, 0, s.opts.MaxBatch)
	for {
		first, ok := <-s.ops
		if !ok {
			return
		}
		batch = append(batch[:0], first)
	gather:
		for len(batch) < s.opts.MaxBatch {
			select {
			case o, ok := <-s.ops:
				if !ok {
					break gather
				}
				batch = append(batch, o)
			default:
				break gather
			}
		}
		s.runBatch(batch)
		clear(batch)
	}
}

func (s *Spool) runBatch(batch []*op) {
	if h := s.opts.testBeforeBatch; h != nil {
		h(len(batch))
	}
	applied := false
	for _, o := range batch {
		o.err = s.apply(o)
		if o.err == nil {
			applied = true
		}
	}
	if applied {
		s.syncs.Add(1)
		if err := s.timed(func() error { return fsutil.SyncDir(s.qDir) }); err != nil {
			err = fmt.Errorf("queue: making batch durable: %w", err)
			for _, o := range batch {
				if o.err == nil {
					o.err = err
					if o.kind == opCommit {
						s.undoCommit(o.id)
					}
				}
			}
		}
	}
	s.committingMu.Lock()
	for _, o := range batch {
		delete(s.committing, o.id)
	}
	s.committingMu.Unlock()
	for _, o := range batch {
		if o.err == nil {
			switch o.kind {
			case opCommit:
				s.commits.Add(1)
				s.announce(o.id)
			case opUpdate:
				s.updates.Add(1)
			case opRemove:
				s.removes.Add(1)
			}
		}
		o.done <- o.err
	}
}

// apply performs one operation's renames or unlinks (not yet durable).
func (s *Spool) apply(o *op) error {
	qMsg := filepath.Join(s.qDir, o.id+msgExt)
	qEnv := filepath.Join(s.qDir, o.id+envExt)
	switch o.kind {
	case opCommit:
		s.committingMu.Lock()
		s.committing[o.id] = true // hidden from readers until durable
		s.committingMu.Unlock()
		// The commit point: once this name exists the message exists.
		if err := os.Rename(filepath.Join(s.tmpDir, o.id+msgExt), qMsg); err != nil {
			return fmt.Errorf("queue: commit %s: %w", o.id, err)
		}
		return nil
	case opUpdate:
		// Serialised with removals by the committer, so the message cannot
		// vanish between this check and the rename.
		if _, err := os.Lstat(qMsg); err != nil {
			os.Remove(o.tmp)
			return notFound(o.id, err)
		}
		if err := os.Rename(o.tmp, qEnv); err != nil {
			os.Remove(o.tmp)
			return fmt.Errorf("queue: update %s: %w", o.id, err)
		}
		return nil
	case opRemove:
		if err := os.Remove(qMsg); err != nil {
			return notFound(o.id, err)
		}
		if err := os.Remove(qEnv); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("queue: remove %s: %w", o.id, err)
		}
		return nil
	}
	return fmt.Errorf("queue: unknown operation %d", o.kind)
}

// undoCommit takes back a commit whose batch could not be made durable:
// the client is told the message was not accepted, so it must not be
// delivered either.
func (s *Spool) undoCommit(id string) {
	os.Remove(filepath.Join(s.qDir, id+msgExt))
}
