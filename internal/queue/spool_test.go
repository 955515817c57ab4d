package queue

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"
)

// openTest opens a spool in a fresh temporary directory and closes it at
// the end of the test.
func openTest(t *testing.T, opts Options) (*Spool, string) {
	t.Helper()
	dir := t.TempDir()
	s, err := Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, dir
}

// commitMsg spools content with env and returns the id.
func commitMsg(t testing.TB, s *Spool, content string, env *Envelope) string {
	t.Helper()
	w, err := s.Create()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	if _, err := io.WriteString(w, content); err != nil {
		t.Fatal(err)
	}
	id, err := w.Commit(env)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func readMsg(t *testing.T, s *Spool, id string) string {
	t.Helper()
	rc, err := s.OpenMessage(id)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// files lists every file below dir except the lock file, relative to dir.
func files(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && d.Name() != lockName {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func fullEnvelope() *Envelope {
	return &Envelope{
		From: "sender@example.net",
		Recipients: []Recipient{
			{Addr: "a@example.org", Notify: []string{"SUCCESS", "FAILURE"}, ORCPT: "rfc822;A@Example.org"},
			{Addr: "b@example.org", Notify: []string{"NEVER"}},
			{Addr: "c@example.com"},
		},
		Received:   time.Date(2025, 3, 4, 5, 6, 7, 8, time.UTC),
		ClientAddr: "192.0.2.7",
		Helo:       "client.example.net",
		AuthUser:   "alice",
		MailAuth:   "<>",
		Body:       "8BITMIME",
		SMTPUTF8:   true,
		Ret:        "HDRS",
		EnvID:      "QQ314159",
		DeliverBy: &DeliverBy{
			Deadline: time.Date(2025, 3, 5, 0, 0, 0, 0, time.UTC),
			Mode:     "R",
			Trace:    true,
		},
	}
}

func TestCommitReopenRoundTrip(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	content := "Subject: hi\r\n\r\nbody line\r\n"
	env := fullEnvelope()
	w, err := s.Create()
	if err != nil {
		t.Fatal(err)
	}
	preID := w.ID()
	io.WriteString(w, content)
	if w.Size() != int64(len(content)) {
		t.Errorf("Size = %d, want %d", w.Size(), len(content))
	}
	id, err := w.Commit(env)
	if err != nil {
		t.Fatal(err)
	}
	if id != preID || env.ID != id || !ValidID(id) {
		t.Errorf("id %q, ID() %q, env.ID %q", id, preID, env.ID)
	}
	if err := w.Abort(); err != nil {
		t.Errorf("Abort after Commit: %v", err)
	}
	if got := <-s.Notify(); got != id {
		t.Errorf("Notify gave %q, want %q", got, id)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s, err = Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if st := s.Stats(); st.Recovered != 1 || st.Discarded != 0 {
		t.Errorf("Stats after reopen = %+v, want Recovered 1, Discarded 0", st)
	}
	ids, err := s.List()
	if err != nil || !slices.Equal(ids, []string{id}) {
		t.Fatalf("List = %v, %v; want [%s]", ids, err, id)
	}
	got, err := s.Envelope(id)
	if err != nil {
		t.Fatal(err)
	}
	want := fullEnvelope()
	want.ID = id
	want.Size = int64(len(content))
	for i := range want.Recipients {
		want.Recipients[i].Status = StatusPending
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("envelope round trip:\n got %+v\nwant %+v", got, want)
	}
	if got := readMsg(t, s, id); got != content {
		t.Errorf("content = %q, want %q", got, content)
	}
}

func TestLargeMessageStreams(t *testing.T) {
	s, _ := openTest(t, Options{})
	// Several times the write buffer, written in odd-sized pieces.
	var want bytes.Buffer
	w, err := s.Create()
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; want.Len() < 5*writerBufSize; i++ {
		line := fmt.Sprintf("line %d %s\r\n", i, bytes.Repeat([]byte{'x'}, i%97))
		want.WriteString(line)
		if _, err := io.WriteString(w, line); err != nil {
			t.Fatal(err)
		}
	}
	id, err := w.Commit(&Envelope{Recipients: []Recipient{{Addr: "a@b"}}})
	if err != nil {
		t.Fatal(err)
	}
	env, err := s.Envelope(id)
	if err != nil {
		t.Fatal(err)
	}
	if env.Size != int64(want.Len()) {
		t.Errorf("Size = %d, want %d", env.Size, want.Len())
	}
	if got := readMsg(t, s, id); got != want.String() {
		t.Errorf("content differs (len %d, want %d)", len(got), want.Len())
	}
}

func TestAbortLeavesNothing(t *testing.T) {
	s, dir := openTest(t, Options{})
	w, err := s.Create()
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(w, "Subject: x\r\n\r\ny\r\n")
	if len(files(t, dir)) == 0 {
		t.Fatal("Create made no temporary file")
	}
	for i := 0; i < 2; i++ { // idempotent
		if err := w.Abort(); err != nil {
			t.Fatalf("Abort #%d: %v", i+1, err)
		}
	}
	if f := files(t, dir); len(f) != 0 {
		t.Errorf("files after Abort: %v", f)
	}
	if _, err := w.Write([]byte("more")); err == nil {
		t.Error("Write after Abort succeeded")
	}
	if _, err := w.Commit(&Envelope{}); err == nil {
		t.Error("Commit after Abort succeeded")
	}
	if ids, _ := s.List(); len(ids) != 0 {
		t.Errorf("List after Abort = %v", ids)
	}
}

func TestFailedCommitLeavesNothing(t *testing.T) {
	s, dir := openTest(t, Options{})
	w, err := s.Create()
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(w, "x\r\n")
	if _, err := w.Commit(nil); err == nil {
		t.Fatal("Commit(nil) succeeded")
	}
	if err := w.Abort(); err != nil {
		t.Errorf("Abort after failed Commit: %v", err)
	}
	if f := files(t, dir); len(f) != 0 {
		t.Errorf("files after failed Commit: %v", f)
	}
}

func TestCommitAfterCloseFails(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	w, err := s.Create()
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(w, "x\r\n")
	s.Close()
	if _, err := w.Commit(&Envelope{}); !errors.Is(err, ErrClosed) {
		t.Errorf("Commit after Close: %v, want ErrClosed", err)
	}
	if _, err := s.Create(); !errors.Is(err, ErrClosed) {
		t.Errorf("Create after Close: %v, want ErrClosed", err)
	}
	if f := files(t, dir); len(f) != 0 {
		t.Errorf("files after failed Commit: %v", f)
	}
}

func TestAbandonedWriterIsRecovered(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	kept := commitMsg(t, s, "kept\r\n", &Envelope{Recipients: []Recipient{{Addr: "a@b"}}})
	// A transaction that dies half-way: neither committed nor aborted.
	w, err := s.Create()
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(w, "half a message")
	w.bw.Flush()
	s.Close()
	// Also leftovers of crashes inside UpdateEnvelope (a half-written new
	// envelope in tmp/) and inside Remove (an envelope override whose
	// message file is already gone).
	for _, p := range []string{
		filepath.Join(dir, queueName, newID(time.Now())+envExt),
		filepath.Join(dir, tmpName, kept+".7.upd"),
	} {
		if err := os.WriteFile(p, []byte("{}"), 0o600); err != nil {
			t.Fatal(err)
		}
	}

	s, err = Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ids, err := s.List()
	if err != nil || !slices.Equal(ids, []string{kept}) {
		t.Errorf("List = %v, %v; want only %s", ids, err, kept)
	}
	want := []string{filepath.Join(queueName, kept+msgExt)}
	if got := files(t, dir); !slices.Equal(got, want) {
		t.Errorf("files after recovery = %v, want %v", got, want)
	}
	if st := s.Stats(); st.Recovered != 1 || st.Discarded != 3 {
		t.Errorf("Stats = %+v, want Recovered 1, Discarded 3", st)
	}
	if got := readMsg(t, s, kept); got != "kept\r\n" {
		t.Errorf("kept message reads %q", got)
	}
}

func TestSecondOpenIsRefused(t *testing.T) {
	_, dir := openTest(t, Options{})
	if s2, err := Open(dir, Options{}); err == nil {
		s2.Close()
		t.Fatal("second Open of a spool in use succeeded")
	}
}

func TestConcurrentCommits(t *testing.T) {
	const n = 100
	s, _ := openTest(t, Options{})
	var wg sync.WaitGroup
	ids := make([]string, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			w, err := s.Create()
			if err != nil {
				errs[i] = err
				return
			}
			defer w.Abort()
			fmt.Fprintf(w, "Subject: %d\r\n\r\n", i)
			ids[i], errs[i] = w.Commit(&Envelope{EnvID: fmt.Sprint(i), Recipients: []Recipient{{Addr: "a@b"}}})
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("commit %d: %v", i, err)
		}
	}
	listed, err := s.List()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(listed, slices.Sorted(slices.Values(ids))) {
		t.Fatalf("List has %d ids, want the %d committed", len(listed), n)
	}
	for i, id := range ids {
		env, err := s.Envelope(id)
		if err != nil || env.EnvID != fmt.Sprint(i) {
			t.Errorf("message %d: envelope %+v, %v", i, env, err)
		}
		if got, want := readMsg(t, s, id), fmt.Sprintf("Subject: %d\r\n\r\n", i); got != want {
			t.Errorf("message %d content %q, want %q", i, got, want)
		}
	}
	if st := s.Stats(); st.Commits != n || st.Syncs > n {
		t.Errorf("Stats = %+v", st)
	}
}

// TestGroupCommitBatches holds the committer in its first batch until
// every other commit is queued: they must then all share one fsync.
func TestGroupCommitBatches(t *testing.T) {
	const n = 100
	var enqueued sync.WaitGroup
	enqueued.Add(n)
	release := make(chan struct{})
	var once sync.Once
	var batches []int // sizes; written only by the committer goroutine
	opts := Options{
		testEnqueued: func() { enqueued.Done() },
		testBeforeBatch: func(size int) {
			batches = append(batches, size)
			once.Do(func() { <-release })
		},
	}
	s, _ := openTest(t, opts)
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			w, err := s.Create()
			if err != nil {
				errs[i] = err
				return
			}
			defer w.Abort()
			io.WriteString(w, "x\r\n")
			_, errs[i] = w.Commit(&Envelope{Recipients: []Recipient{{Addr: "a@b"}}})
		})
	}
	enqueued.Wait() // n-1 commits wait in the queue behind the first batch
	close(release)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("commit %d: %v", i, err)
		}
	}
	st := s.Stats()
	if st.Commits != n || st.Syncs >= st.Commits {
		t.Errorf("Stats = %+v: want %d commits sharing fewer syncs", st, n)
	}
	// The first batch holds the commits that were queued when the
	// committer woke; everything else was queued before it was released
	// and so forms the second batch.
	total := 0
	for _, b := range batches {
		total += b
	}
	if len(batches) > 2 || total != n || st.Syncs != uint64(len(batches)) {
		t.Errorf("batch sizes = %v, Syncs = %d; want at most 2 batches covering %d commits", batches, st.Syncs, n)
	}
}

func TestUpdateEnvelope(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	id := commitMsg(t, s, "m\r\n", fullEnvelope())
	env, err := s.Envelope(id)
	if err != nil {
		t.Fatal(err)
	}
	next := time.Date(2025, 3, 4, 6, 0, 0, 0, time.UTC)
	env.Recipients[0].Status = StatusDelivered
	env.Recipients[0].Attempts = 1
	env.Recipients[1].Status = StatusFailed
	env.Recipients[1].Attempts = 1
	env.Recipients[1].LastError = "550 5.1.1 no such user"
	env.Recipients[2].Attempts = 3
	env.Recipients[2].LastError = "451 4.4.1 timeout"
	env.Recipients[2].NextAttempt = next
	if err := s.UpdateEnvelope(env); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, err := s.Envelope(id)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, env) {
		t.Errorf("after update:\n got %+v\nwant %+v", got, env)
	}
	if !got.Pending() {
		t.Error("Pending() = false with a pending recipient")
	}
	if f := files(t, dir); len(f) != 2 {
		t.Errorf("files after update = %v, want the message's two", f)
	}
	if st := s.Stats(); st.Discarded != 0 {
		t.Errorf("update left %d files for recovery", st.Discarded)
	}
}

func TestRemove(t *testing.T) {
	s, dir := openTest(t, Options{})
	a := commitMsg(t, s, "a\r\n", &Envelope{Recipients: []Recipient{{Addr: "a@b"}}})
	b := commitMsg(t, s, "b\r\n", &Envelope{Recipients: []Recipient{{Addr: "a@b"}}})
	// An updated message leaves two files; Remove deletes both.
	env, err := s.Envelope(a)
	if err != nil {
		t.Fatal(err)
	}
	env.Recipients[0].Status = StatusDelivered
	if err := s.UpdateEnvelope(env); err != nil {
		t.Fatal(err)
	}
	if err := s.Remove(a); err != nil {
		t.Fatal(err)
	}
	if ids, _ := s.List(); !slices.Equal(ids, []string{b}) {
		t.Errorf("List = %v, want [%s]", ids, b)
	}
	if _, err := s.Envelope(a); !errors.Is(err, ErrNotFound) {
		t.Errorf("Envelope of removed: %v, want ErrNotFound", err)
	}
	if _, err := s.OpenMessage(a); !errors.Is(err, ErrNotFound) {
		t.Errorf("OpenMessage of removed: %v, want ErrNotFound", err)
	}
	if err := s.Remove(a); !errors.Is(err, ErrNotFound) {
		t.Errorf("second Remove: %v, want ErrNotFound", err)
	}
	if err := s.UpdateEnvelope(&Envelope{ID: a}); !errors.Is(err, ErrNotFound) {
		t.Errorf("UpdateEnvelope of removed: %v, want ErrNotFound", err)
	}
	if got := files(t, dir); !slices.Equal(got, []string{filepath.Join(queueName, b+msgExt)}) {
		t.Errorf("files left = %v, want message b's", got)
	}
	if st := s.Stats(); st.Removes != 1 {
		t.Errorf("Removes = %d, want 1", st.Removes)
	}
}

func TestBadIDsRefused(t *testing.T) {
	s, _ := openTest(t, Options{})
	for _, id := range []string{
		"", "../queue", "../../etc/passwd", "0123456789abcdef0123456",
		"0123456789abcdef012345678", "0123456789ABCDEF01234567", "0123456789abcdef0123456/",
	} {
		if _, err := s.Envelope(id); !errors.Is(err, ErrBadID) {
			t.Errorf("Envelope(%q): %v, want ErrBadID", id, err)
		}
		if _, err := s.OpenMessage(id); !errors.Is(err, ErrBadID) {
			t.Errorf("OpenMessage(%q): %v, want ErrBadID", id, err)
		}
		if err := s.Remove(id); !errors.Is(err, ErrBadID) {
			t.Errorf("Remove(%q): %v, want ErrBadID", id, err)
		}
		if err := s.UpdateEnvelope(&Envelope{ID: id}); !errors.Is(err, ErrBadID) {
			t.Errorf("UpdateEnvelope(%q): %v, want ErrBadID", id, err)
		}
	}
}

func TestIDsSortByTime(t *testing.T) {
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct{ earlier, later time.Time }{
		{t0, t0.Add(time.Nanosecond)},
		{t0, t0.Add(time.Hour)},
		{t0, t0.AddDate(30, 0, 0)},
	}
	for _, tc := range tests {
		a, b := newID(tc.earlier), newID(tc.later)
		if !(a < b) || !ValidID(a) || !ValidID(b) {
			t.Errorf("ids %q (%v) and %q (%v) do not sort by time", a, tc.earlier, b, tc.later)
		}
	}
}

func TestEnvelopeVersionChecked(t *testing.T) {
	tests := []struct {
		in string
		ok bool
	}{
		{`{"version":1,"id":"x","recipients":[]}`, true},
		{`{"version":2,"id":"x"}`, false},
		{`{"id":"x"}`, false},
		{`not json`, false},
	}
	for _, tc := range tests {
		_, err := decodeEnvelope([]byte(tc.in))
		if (err == nil) != tc.ok {
			t.Errorf("decodeEnvelope(%s): err %v, want ok=%v", tc.in, err, tc.ok)
		}
	}
}

func TestNotifyOverflowSignalsRescan(t *testing.T) {
	s, _ := openTest(t, Options{NotifyBuffer: 1})
	a := commitMsg(t, s, "a\r\n", &Envelope{})
	commitMsg(t, s, "b\r\n", &Envelope{})
	if got := <-s.Notify(); got != a {
		t.Errorf("Notify = %q, want %q", got, a)
	}
	select {
	case <-s.Rescan():
	default:
		t.Error("dropped notification did not signal Rescan")
	}
	if st := s.Stats(); st.Dropped != 1 {
		t.Errorf("Dropped = %d, want 1", st.Dropped)
	}
}

func TestDamagedMessageFileIsReported(t *testing.T) {
	tests := []struct {
		name   string
		damage func(b []byte) []byte
	}{
		{"truncated", func(b []byte) []byte { return b[:len(b)-1] }},
		{"too short", func(b []byte) []byte { return b[:10] }},
		{"envelope bit flip", func(b []byte) []byte { b[len(b)-trailerLen-5] ^= 1; return b }},
		{"bad magic", func(b []byte) []byte { b[len(b)-2] = 'X'; return b }},
		{"length mismatch", func(b []byte) []byte { return append([]byte("x"), b...) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, dir := openTest(t, Options{})
			id := commitMsg(t, s, "Subject: x\r\n\r\nbody\r\n", fullEnvelope())
			p := filepath.Join(dir, queueName, id+msgExt)
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, tc.damage(b), 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Envelope(id); err == nil {
				t.Error("Envelope of damaged file succeeded")
			}
			if rc, err := s.OpenMessage(id); err == nil {
				rc.Close()
				t.Error("OpenMessage of damaged file succeeded")
			}
		})
	}
}
