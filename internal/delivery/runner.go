package delivery

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"postgate/internal/metrics"
	"postgate/internal/queue"
	"postgate/internal/smtp"
)

// Runner delivers committed messages: recipients whose domain is local
// (isLocal, given the lower-cased domain, returns true) go to the
// Maildir; the others are left pending for remote delivery, which is
// not built yet.
type Runner struct {
	spool   *queue.Spool
	local   *Maildir
	isLocal func(domain string) bool
	log     *slog.Logger
	workers int

	// OnMessage, if set before Run, is called by a worker after it has
	// finished with a message: deliveries attempted and the envelope
	// updated, or the message removed (env then shows the final state).
	// env is nil when the message was already gone or unreadable, and err
	// reports a spool failure. It lets tests and metrics follow progress
	// without polling.
	OnMessage func(id string, env *queue.Envelope, err error)

	// RetryDelay gives the wait before the next attempt after a temporary
	// failure, from the number of attempts made so far. Nil means the
	// default: 5 minutes, doubling, at most 4 hours.
	RetryDelay func(attempts int) time.Duration

	// RescanEvery is how often the spool is scanned again for recipients
	// whose retry time has come (a temporary failure is retried only
	// then). Zero means one minute. The queue manager to come replaces
	// this with a schedule.
	RescanEvery time.Duration

	mu       sync.Mutex
	inFlight map[string]bool
	flush    chan struct{} // RetryNow's request, capacity 1
}

// NewRunner returns a Runner that uses at most workers goroutines (at
// least one) for deliveries.
func NewRunner(s *queue.Spool, local *Maildir, isLocal func(domain string) bool, log *slog.Logger, workers int) *Runner {
	if workers < 1 {
		workers = 1
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Runner{spool: s, local: local, isLocal: isLocal, log: log, workers: workers,
		inFlight: make(map[string]bool), flush: make(chan struct{}, 1)}
}

// RetryNow asks the running Runner to attempt every deferred local
// recipient at once, whatever its retry time (sendmail -q). It does not
// wait for the attempts.
func (r *Runner) RetryNow() {
	select {
	case r.flush <- struct{}{}:
	default: // a request is already pending
	}
}

// job is one message for a worker; force ignores retry times.
type job struct {
	id    string
	force bool
}

// Run delivers until ctx is cancelled or the spool is closed, then waits
// for the deliveries in progress and returns. It first processes every
// message already in the spool (those spooled before a crash or restart),
// then each id from the spool's Notify channel, rescanning the spool when
// Notify overflowed. Cancel Run and let it return before closing the
// spool.
func (r *Runner) Run(ctx context.Context) error {
	work := make(chan job)
	var wg sync.WaitGroup
	for range r.workers {
		wg.Go(func() {
			for j := range work {
				r.process(j.id, j.force)
				r.release(j.id)
			}
		})
	}
	defer func() {
		close(work)
		wg.Wait()
	}()

	// dispatch hands id to a worker unless one already has it; it reports
	// false when ctx ended first.
	dispatch := func(id string, force bool) bool {
		if !r.claim(id) {
			return true
		}
		select {
		case work <- job{id, force}:
			return true
		case <-ctx.Done():
			r.release(id)
			return false
		}
	}
	scan := func(force bool) (bool, error) {
		ids, err := r.spool.List()
		if err != nil {
			return true, err
		}
		for _, id := range ids {
			if !dispatch(id, force) {
				return false, nil
			}
		}
		return true, nil
	}

	if more, err := scan(false); err != nil {
		return fmt.Errorf("delivery: scanning spool: %w", err)
	} else if !more {
		return nil
	}
	notify, rescan := r.spool.Notify(), r.spool.Rescan()
	every := r.RescanEvery
	if every <= 0 {
		every = time.Minute
	}
	retry := time.NewTicker(every)
	defer retry.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-r.flush:
			if more, err := scan(true); err != nil {
				r.log.Error("delivery: rescanning spool for a queue run", "error", err)
			} else if !more {
				return nil
			}
		case <-retry.C:
			if more, err := scan(false); err != nil {
				r.log.Error("delivery: rescanning spool for retries", "error", err)
			} else if !more {
				return nil
			}
		case id, ok := <-notify:
			if !ok {
				return nil // spool closed
			}
			if !dispatch(id, false) {
				return nil
			}
		case <-rescan:
			more, err := scan(false)
			if err != nil {
				r.log.Error("delivery: rescanning spool", "error", err)
			}
			if !more {
				return nil
			}
		}
	}
}

func (r *Runner) claim(id string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.inFlight[id] {
		return false
	}
	r.inFlight[id] = true
	return true
}

func (r *Runner) release(id string) {
	r.mu.Lock()
	delete(r.inFlight, id)
	r.mu.Unlock()
}

// process attempts every due local recipient of one message (every
// pending one when force is set), records the outcomes and removes the
// message once every recipient is delivered.
func (r *Runner) process(id string, force bool) {
	env, err := r.spool.Envelope(id)
	if err != nil {
		if errors.Is(err, queue.ErrNotFound) {
			err = nil // delivered and removed since it was announced
		} else {
			r.log.Error("delivery: reading envelope", "id", id, "error", err)
		}
		r.done(id, nil, err)
		return
	}
	now := time.Now()
	changed := false
	for i := range env.Recipients {
		rc := &env.Recipients[i]
		if rc.Status != queue.StatusPending || (!force && rc.NextAttempt.After(now)) || !r.isLocal(domainOf(rc.Addr)) {
			continue
		}
		changed = true
		r.deliverOne(env, rc, now)
	}
	switch {
	case allDelivered(env):
		err = r.spool.Remove(id)
	case !env.Pending() && changed:
		// Some recipients failed permanently. Bounces (DSN) are not built
		// yet, so the message stays in the spool, held, rather than being
		// lost after its 250: the DSN work sends the report and removes it.
		r.log.Warn("message held: failed recipients await a delivery status notification", "id", id)
		err = r.spool.UpdateEnvelope(env)
	case changed:
		err = r.spool.UpdateEnvelope(env)
	}
	if err != nil {
		r.log.Error("delivery: recording outcome", "id", id, "error", err)
	}
	r.done(id, env, err)
}

// allDelivered reports that every recipient was delivered.
func allDelivered(env *queue.Envelope) bool {
	for _, rc := range env.Recipients {
		if rc.Status != queue.StatusDelivered {
			return false
		}
	}
	return true
}

// deliverOne delivers to one local recipient and updates its state.
func (r *Runner) deliverOne(env *queue.Envelope, rc *queue.Recipient, now time.Time) {
	rc.Attempts++
	msg, err := r.spool.OpenMessage(env.ID)
	if err == nil {
		err = r.local.Deliver(rc.Addr, env, msg)
		msg.Close()
	}
	if err == nil {
		rc.Status, rc.LastError, rc.NextAttempt = queue.StatusDelivered, "", time.Time{}
		metrics.Delivery(metrics.TransportMaildir, metrics.OutcomeDelivered)
		r.log.Info("delivered", "id", env.ID, "rcpt", rc.Addr, "result", "delivered", "transport", "maildir", "attempts", rc.Attempts)
		return
	}
	reply := smtp.ReplyOf(err)
	rc.LastError = fmt.Sprintf("%d %s %s", reply.Code, reply.Enhanced, reply.Text)
	if reply.Code >= 500 {
		rc.Status = queue.StatusFailed
		metrics.Delivery(metrics.TransportMaildir, metrics.OutcomeFailed)
		r.log.Warn("delivery failed", "id", env.ID, "rcpt", rc.Addr, "result", "failed", "reply", rc.LastError, "error", err, "attempts", rc.Attempts)
		return
	}
	delay := r.retryDelay(rc.Attempts)
	rc.NextAttempt = now.Add(delay)
	metrics.Delivery(metrics.TransportMaildir, metrics.OutcomeDeferred)
	r.log.Warn("delivery deferred", "id", env.ID, "rcpt", rc.Addr, "result", "deferred", "reply", rc.LastError, "error", err, "attempts", rc.Attempts, "retry_in", delay)
}

func (r *Runner) retryDelay(attempts int) time.Duration {
	if r.RetryDelay != nil {
		return r.RetryDelay(attempts)
	}
	d := 5 * time.Minute
	for i := 1; i < attempts && d < 4*time.Hour; i++ {
		d *= 2
	}
	return min(d, 4*time.Hour)
}

func (r *Runner) done(id string, env *queue.Envelope, err error) {
	if r.OnMessage != nil {
		r.OnMessage(id, env, err)
	}
}

// domainOf returns the lower-cased domain of an address (after the last
// "@"), or "" when there is none.
func domainOf(addr string) string {
	i := strings.LastIndexByte(addr, '@')
	if i < 0 {
		return ""
	}
	return strings.ToLower(addr[i+1:])
}
