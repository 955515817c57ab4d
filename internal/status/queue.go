package status

import (
	"errors"
	"time"

	"postgate/internal/queue"
)

// Spool is what this package reads from the queue; *queue.Spool has it.
type Spool interface {
	List() ([]string, error)
	Envelope(id string) (*queue.Envelope, error)
}

// ListQueue reads every queued message's envelope, in arrival order.
// Messages removed while it runs are skipped.
func ListQueue(sp Spool) ([]QueueEntry, error) {
	ids, err := sp.List()
	if err != nil {
		return nil, err
	}
	out := make([]QueueEntry, 0, len(ids))
	for _, id := range ids {
		env, err := sp.Envelope(id)
		if errors.Is(err, queue.ErrNotFound) {
			continue // delivered and removed meanwhile
		}
		if err != nil {
			return nil, err
		}
		out = append(out, entryOf(env))
	}
	return out, nil
}

func entryOf(env *queue.Envelope) QueueEntry {
	e := QueueEntry{ID: env.ID, Received: env.Received, Size: env.Size, From: env.From, AuthUser: env.AuthUser}
	for _, r := range env.Recipients {
		e.Recipients = append(e.Recipients, QueueRecipient{Addr: r.Addr, Status: recipientStatus(r),
			Attempts: r.Attempts, LastError: r.LastError, NextAttempt: r.NextAttempt})
	}
	return e
}

// recipientStatus classifies a recipient: pending recipients that were
// tried already are "deferred".
func recipientStatus(r queue.Recipient) string {
	if r.Status == queue.StatusPending && r.Attempts > 0 {
		return StatusDeferred
	}
	return r.Status
}

// Summarize counts entries for the status report.
func Summarize(entries []QueueEntry, now time.Time) QueueSummary {
	s := QueueSummary{ByStatus: map[string]int{StatusPending: 0, StatusDeferred: 0, StatusDelivered: 0, StatusFailed: 0}}
	for _, e := range entries {
		s.Messages++
		s.Bytes += e.Size
		if s.Oldest.IsZero() || e.Received.Before(s.Oldest) {
			s.Oldest = e.Received
		}
		for _, r := range e.Recipients {
			s.Recipients++
			s.ByStatus[r.Status]++
		}
	}
	if !s.Oldest.IsZero() {
		s.OldestAgeSeconds = max(0, now.Sub(s.Oldest).Seconds())
	}
	return s
}

// QueueGauge returns a function for metrics.RegisterQueue: the number of
// queued messages and the age of the oldest. It lists the queue directory
// and reads only the oldest envelope (ids sort in arrival order), so a
// scrape stays cheap however long the queue is. now may be nil.
func QueueGauge(sp Spool, now func() time.Time) func() (int, time.Duration) {
	if now == nil {
		now = time.Now
	}
	return func() (int, time.Duration) {
		ids, err := sp.List()
		if err != nil || len(ids) == 0 {
			return 0, 0
		}
		for _, id := range ids {
			env, err := sp.Envelope(id)
			if err != nil {
				continue // removed meanwhile: the next one is the oldest
			}
			return len(ids), max(0, now().Sub(env.Received))
		}
		return len(ids), 0
	}
}

// *queue.Spool is the Spool the server passes.
var _ Spool = (*queue.Spool)(nil)
