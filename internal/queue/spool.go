package queue

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"postgate/internal/fsutil"
)

// Names inside the spool directory. See docs/spool.md.
const (
	lockName  = "lock"  // flock(2)ed while a Spool has the directory open
	tmpName   = "tmp"   // files being written; all deleted at Open
	queueName = "queue" // committed messages: <id>.msg, and <id>.env once updated
	msgExt    = ".msg"  // content and envelope at commit (format.go); its rename into queue/ is the commit point
	envExt    = ".env"  // envelope rewritten by UpdateEnvelope; overrides the copy in <id>.msg
)

// Errors returned by the spool.
var (
	// ErrClosed is returned by operations on a closed Spool.
	ErrClosed = errors.New("queue: spool closed")
	// ErrNotFound is returned (wrapped) for an id that is not a committed
	// message. Test with errors.Is.
	ErrNotFound = errors.New("queue: no such message")
	// ErrBadID is returned for a string that is not a spool message id.
	ErrBadID = errors.New("queue: malformed message id")
)

// Options tune a Spool. The zero value is ready to use.
type Options struct {
	// NotifyBuffer is the capacity of the Notify channel (default 1024).
	// When it is full, ids are dropped and Rescan is signalled instead.
	NotifyBuffer int
	// MaxBatch caps how many operations one group commit takes (default
	// 1024).
	MaxBatch int
	// OnSync, when set, is told how long each fsync of a message file or
	// of the queue directory took (for the fsync latency metric).
	OnSync func(time.Duration)

	// Test hooks (set only by this package's tests).
	testBeforeBatch func(n int) // called by the committer before each batch
	testEnqueued    func()      // called after an operation reaches the committer's queue
}

// Stats counts what the spool did since Open.
type Stats struct {
	Commits   uint64 // messages committed (Commit returned nil)
	Updates   uint64 // envelopes rewritten by UpdateEnvelope
	Removes   uint64 // messages removed
	Syncs     uint64 // group-commit batches, each made durable by one fsync of the queue directory
	FileSyncs uint64 // fdatasync calls on message and envelope files
	Dropped   uint64 // Notify sends dropped because the channel was full (Rescan was signalled)
	Recovered int    // committed messages found by Open
	Discarded int    // leftover temporary or incomplete files deleted by Open
}

// Spool is the on-disk queue under one directory. Its methods are safe
// for concurrent use.
type Spool struct {
	dir, tmpDir, qDir string
	opts              Options
	lock              *os.File

	mu     sync.RWMutex // held for reading while sending on ops, for writing by Close
	closed bool
	ops    chan *op
	done   chan struct{} // closed when the committer has exited

	notify chan string
	rescan chan struct{}

	committingMu sync.Mutex
	committing   map[string]bool // renamed into queue/ but not yet made durable

	commits, updates, removes, syncs, fileSyncs, dropped atomic.Uint64
	recovered, discarded                                 int
	updSeq                                               atomic.Uint64
}

// Open opens (creating if needed) the spool under dir, locks it against
// other processes, deletes leftovers of interrupted transactions (see
// docs/spool.md, "Recovery") and starts the committer goroutine.
func Open(dir string, opts Options) (*Spool, error) {
	if opts.NotifyBuffer <= 0 {
		opts.NotifyBuffer = 1024
	}
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = 1024
	}
	s := &Spool{
		dir:        dir,
		tmpDir:     filepath.Join(dir, tmpName),
		qDir:       filepath.Join(dir, queueName),
		opts:       opts,
		ops:        make(chan *op, opts.MaxBatch),
		done:       make(chan struct{}),
		notify:     make(chan string, opts.NotifyBuffer),
		rescan:     make(chan struct{}, 1),
		committing: make(map[string]bool),
	}
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("queue: %w", err)
		}
		if err := fsutil.SyncDir(filepath.Dir(dir)); err != nil {
			return nil, fmt.Errorf("queue: %w", err)
		}
	}
	for _, d := range []string{s.tmpDir, s.qDir} {
		if err := os.Mkdir(d, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("queue: %w", err)
		}
	}
	// Make the subdirectories' own entries durable before anything is
	// committed into them.
	if err := fsutil.SyncDir(dir); err != nil {
		return nil, fmt.Errorf("queue: %w", err)
	}
	lock, err := lockDir(filepath.Join(dir, lockName))
	if err != nil {
		return nil, err
	}
	s.lock = lock
	if err := s.recover(); err != nil {
		lock.Close()
		return nil, err
	}
	go s.runCommitter()
	return s, nil
}

// recover deletes every file in tmp/ and every envelope override in
// queue/ whose message file is gone (left by a crash inside Remove).
func (s *Spool) recover() error {
	tmp, err := os.ReadDir(s.tmpDir)
	if err != nil {
		return fmt.Errorf("queue: recovery: %w", err)
	}
	for _, e := range tmp {
		if err := os.RemoveAll(filepath.Join(s.tmpDir, e.Name())); err != nil {
			return fmt.Errorf("queue: recovery: %w", err)
		}
		s.discarded++
	}
	entries, err := os.ReadDir(s.qDir)
	if err != nil {
		return fmt.Errorf("queue: recovery: %w", err)
	}
	msgs := make(map[string]bool)
	var envs []string
	for _, e := range entries {
		id, ext, ok := splitName(e.Name())
		switch {
		case !ok:
			// not ours; leave it for an operator
		case ext == msgExt:
			msgs[id] = true
			s.recovered++
		default:
			envs = append(envs, id)
		}
	}
	removedEnv := false
	for _, id := range envs {
		if msgs[id] {
			continue
		}
		if err := os.Remove(filepath.Join(s.qDir, id+envExt)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("queue: recovery: %w", err)
		}
		s.discarded++
		removedEnv = true
	}
	if removedEnv {
		if err := fsutil.SyncDir(s.qDir); err != nil {
			return fmt.Errorf("queue: recovery: %w", err)
		}
	}
	return nil
}

// splitName splits "<id>.msg" or "<id>.env".
func splitName(name string) (id, ext string, ok bool) {
	ext = filepath.Ext(name)
	id = strings.TrimSuffix(name, ext)
	if (ext != msgExt && ext != envExt) || !ValidID(id) {
		return "", "", false
	}
	return id, ext, true
}

// Close waits for the committer to finish the operations it has taken,
// fails later ones with ErrClosed, closes the Notify channel and releases
// the directory lock. Writers still open keep their temporary files until
// the next Open deletes them.
func (s *Spool) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.ops)
	s.mu.Unlock()
	<-s.done
	close(s.notify)
	return s.lock.Close()
}

// Stats returns the spool's counters.
func (s *Spool) Stats() Stats {
	return Stats{
		Commits:   s.commits.Load(),
		Updates:   s.updates.Load(),
		Removes:   s.removes.Load(),
		Syncs:     s.syncs.Load(),
		FileSyncs: s.fileSyncs.Load(),
		Dropped:   s.dropped.Load(),
		Recovered: s.recovered,
		Discarded: s.discarded,
	}
}

// Notify returns a channel that receives the id of each message once its
// commit is durable. It is buffered (Options.NotifyBuffer); when it is
// full, ids are dropped and Rescan is signalled, so a reader that falls
// behind must rescan List. It is closed by Close.
func (s *Spool) Notify() <-chan string { return s.notify }

// Rescan returns a channel that is signalled (capacity 1) when Notify
// dropped ids because its buffer was full. The reader should then call
// List and process what it has not seen.
func (s *Spool) Rescan() <-chan struct{} { return s.rescan }

func (s *Spool) announce(id string) {
	select {
	case s.notify <- id:
	default:
		s.dropped.Add(1)
		select {
		case s.rescan <- struct{}{}:
		default:
		}
	}
}

func (s *Spool) isCommitting(id string) bool {
	s.committingMu.Lock()
	defer s.committingMu.Unlock()
	return s.committing[id]
}

// List returns the ids of committed messages in id (that is, arrival)
// order.
func (s *Spool) List() ([]string, error) {
	entries, err := os.ReadDir(s.qDir)
	if err != nil {
		return nil, fmt.Errorf("queue: %w", err)
	}
	var ids []string
	for _, e := range entries {
		id, ext, ok := splitName(e.Name())
		if ok && ext == msgExt && !s.isCommitting(id) {
			ids = append(ids, id)
		}
	}
	return ids, nil
}

func (s *Spool) path(id, ext string) (string, error) {
	if !ValidID(id) {
		return "", fmt.Errorf("%w: %q", ErrBadID, id)
	}
	return filepath.Join(s.qDir, id+ext), nil
}

func notFound(id string, err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("queue: message %s: %w", id, ErrNotFound)
	}
	return fmt.Errorf("queue: message %s: %w", id, err)
}

// Envelope reads the current envelope of a committed message: the
// override written by UpdateEnvelope if there is one, else the copy made
// at commit.
func (s *Spool) Envelope(id string) (*Envelope, error) {
	envPath, err := s.path(id, envExt)
	if err != nil {
		return nil, err
	}
	if s.isCommitting(id) {
		return nil, notFound(id, fs.ErrNotExist)
	}
	b, err := os.ReadFile(envPath)
	if errors.Is(err, fs.ErrNotExist) {
		f, oerr := os.Open(filepath.Join(s.qDir, id+msgExt))
		if oerr != nil {
			return nil, notFound(id, oerr)
		}
		_, b, err = readLayout(f)
		f.Close()
	}
	if err != nil {
		return nil, fmt.Errorf("queue: message %s: %w", id, err)
	}
	env, err := decodeEnvelope(b)
	if err != nil {
		return nil, fmt.Errorf("queue: message %s: %w", id, err)
	}
	if env.ID != id {
		return nil, fmt.Errorf("queue: message %s: envelope names id %q", id, env.ID)
	}
	return env, nil
}

// OpenMessage opens the content of a committed message (header and body
// as received, without the envelope) for reading. The returned value also
// implements io.ReaderAt and io.Seeker.
func (s *Spool) OpenMessage(id string) (io.ReadCloser, error) {
	p, err := s.path(id, msgExt)
	if err != nil {
		return nil, err
	}
	if s.isCommitting(id) {
		return nil, notFound(id, fs.ErrNotExist)
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, notFound(id, err)
	}
	n, _, err := readLayout(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("queue: message %s: %w", id, err)
	}
	return &messageReader{SectionReader: io.NewSectionReader(f, 0, n), f: f}, nil
}

// UpdateEnvelope durably replaces the envelope of committed message
// env.ID: the new envelope is written to tmp/ and fdatasync'ed, then
// renamed to queue/<id>.env (replacing any earlier update) and the queue
// directory is fsync'ed, sharing that fsync with concurrent commits. A
// crash leaves either the old or the new envelope, never a mix.
func (s *Spool) UpdateEnvelope(env *Envelope) error {
	if _, err := s.path(env.ID, envExt); err != nil {
		return err
	}
	b, err := encodeEnvelope(env)
	if err != nil {
		return fmt.Errorf("queue: message %s: %w", env.ID, err)
	}
	tmp := filepath.Join(s.tmpDir, fmt.Sprintf("%s.%d.upd", env.ID, s.updSeq.Add(1)))
	if err := s.writeSynced(tmp, b); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("queue: message %s: %w", env.ID, err)
	}
	if err := s.submit(&op{kind: opUpdate, id: env.ID, tmp: tmp}); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

// Remove deletes a committed message (the message file first, so a crash
// half-way leaves only an envelope override, which recovery deletes) and
// makes the removal durable, so a message whose delivery is finished does
// not come back after a crash.
func (s *Spool) Remove(id string) error {
	if _, err := s.path(id, envExt); err != nil {
		return err
	}
	return s.submit(&op{kind: opRemove, id: id})
}

// writeSynced creates path exclusively, writes b and fdatasyncs it.
func (s *Spool) writeSynced(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	s.fileSyncs.Add(1)
	if err := s.timed(func() error { return syncData(f) }); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// syncDir fsyncs a directory so that the entries created, renamed or
// removed in it are durable.
// timed runs one fsync and reports its duration to Options.OnSync.
func (s *Spool) timed(sync func() error) error {
	if s.opts.OnSync == nil {
		return sync()
	}
	start := time.Now()
	err := sync()
	s.opts.OnSync(time.Since(start))
	return err
}
