// Package loadgen is postgate's own load generator: many concurrent SMTP
// sessions sending messages as fast as the server accepts them, measuring
// the time from the end of data to the 250 reply (the durable-accept
// latency) and the accepted messages per second. It speaks plain SMTP with
// PIPELINING so the client is never the bottleneck.
package loadgen

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"sort"
	"strings"
	"sync"
	"time"
)

// Options describe one run.
type Options struct {
	Addr       string        // server address, host:port
	Conns      int           // concurrent sessions
	Messages   int           // messages in all
	PerSession int           // messages per session before QUIT and reconnect (0: all on one session)
	Size       int           // message body size in octets
	From, To   string        // envelope addresses
	Timeout    time.Duration // per-reply timeout
}

// Result summarises a run.
type Result struct {
	Sent      int
	Failed    int
	Elapsed   time.Duration
	Latencies []time.Duration // end of data to 250, sorted
	// Setup holds, per message, the time from sending MAIL, RCPT and DATA
	// to the 354, sorted: a server that does its per-message work (or
	// flow control) before the 354 shows it here, not in Latencies.
	Setup    []time.Duration
	FirstErr string
}

// Rate is accepted messages per second.
func (r Result) Rate() float64 { return float64(r.Sent) / r.Elapsed.Seconds() }

// Percentile returns the p-th percentile (0..100) of the accept latency.
func (r Result) Percentile(p float64) time.Duration { return percentile(r.Latencies, p) }

// SetupPercentile returns the p-th percentile of the MAIL-to-354 time.
func (r Result) SetupPercentile(p float64) time.Duration { return percentile(r.Setup, p) }

func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[int(float64(len(sorted)-1)*p/100)]
}

// Run sends opt.Messages messages over opt.Conns sessions.
func Run(ctx context.Context, opt Options) Result {
	if opt.Timeout == 0 {
		opt.Timeout = 30 * time.Second
	}
	body := makeBody(opt.Size)
	jobs := make(chan int, opt.Messages)
	for i := 0; i < opt.Messages; i++ {
		jobs <- i
	}
	close(jobs)
	var mu sync.Mutex
	var res Result
	var wg sync.WaitGroup
	start := time.Now()
	for c := 0; c < opt.Conns; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lats, setup, failed, err := worker(ctx, opt, body, jobs)
			mu.Lock()
			defer mu.Unlock()
			res.Latencies = append(res.Latencies, lats...)
			res.Setup = append(res.Setup, setup...)
			res.Failed += failed
			if err != nil && res.FirstErr == "" {
				res.FirstErr = err.Error()
			}
		}()
	}
	wg.Wait()
	res.Elapsed = time.Since(start)
	res.Sent = len(res.Latencies)
	sort.Slice(res.Latencies, func(i, j int) bool { return res.Latencies[i] < res.Latencies[j] })
	sort.Slice(res.Setup, func(i, j int) bool { return res.Setup[i] < res.Setup[j] })
	return res
}

func makeBody(size int) string {
	var b strings.Builder
	b.WriteString("Subject: postgate load\r\nFrom: load@example.test\r\n\r\n")
	line := strings.Repeat("0123456789abcdef", 4) + "\r\n" // 66 octets
	for b.Len() < size {
		b.WriteString(line)
	}
	return b.String()
}

// worker runs sessions until the jobs run out. A failed message counts as
// failed and the session is restarted.
func worker(ctx context.Context, opt Options, body string, jobs <-chan int) (lats, setup []time.Duration, failed int, firstErr error) {
	for {
		s, err := dialSession(ctx, opt)
		if err != nil {
			n := drain(jobs)
			return lats, setup, failed + n, err
		}
		n := 0
		for range jobs {
			st, d, err := s.send(opt, body)
			if err != nil {
				failed++
				if firstErr == nil {
					firstErr = err
				}
				s.conn.Close()
				break
			}
			lats, setup = append(lats, d), append(setup, st)
			n++
			if opt.PerSession > 0 && n >= opt.PerSession {
				break
			}
		}
		s.quit()
		if len(jobs) == 0 {
			return lats, setup, failed, firstErr
		}
	}
}

func drain(jobs <-chan int) int {
	n := 0
	for range jobs {
		n++
	}
	return n
}

type session struct {
	conn net.Conn
	r    *bufio.Reader
	w    *bufio.Writer
	opt  Options
}

func dialSession(ctx context.Context, opt Options) (*session, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", opt.Addr)
	if err != nil {
		return nil, err
	}
	s := &session{conn: c, r: bufio.NewReader(c), w: bufio.NewWriter(c), opt: opt}
	if err := s.expect("220"); err != nil {
		c.Close()
		return nil, err
	}
	s.w.WriteString("EHLO loadgen.example.test\r\n")
	if err := s.flushExpect("250"); err != nil {
		c.Close()
		return nil, err
	}
	return s, nil
}

// send pipelines MAIL, RCPT and DATA, then the body; it times the 354
// (setup) and the final reply (accept).
func (s *session) send(opt Options, body string) (setup, accept time.Duration, err error) {
	fmt.Fprintf(s.w, "MAIL FROM:<%s>\r\nRCPT TO:<%s>\r\nDATA\r\n", opt.From, opt.To)
	begin := time.Now()
	if err := s.flushExpect("250"); err != nil {
		return 0, 0, err
	}
	for _, want := range []string{"250", "354"} {
		if err := s.expect(want); err != nil {
			return 0, 0, err
		}
	}
	setup = time.Since(begin)
	s.w.WriteString(body)
	s.w.WriteString(".\r\n")
	start := time.Now()
	if err := s.flushExpect("250"); err != nil {
		return 0, 0, err
	}
	return setup, time.Since(start), nil
}

func (s *session) quit() {
	s.w.WriteString("QUIT\r\n")
	s.w.Flush()
	s.conn.Close()
}

func (s *session) flushExpect(code string) error {
	if err := s.w.Flush(); err != nil {
		return err
	}
	return s.expect(code)
}

// expect reads one (multi-line) reply and checks its code.
func (s *session) expect(code string) error {
	s.conn.SetReadDeadline(time.Now().Add(s.opt.Timeout))
	for {
		line, err := s.r.ReadString('\n')
		if err != nil {
			return err
		}
		if len(line) < 4 {
			return fmt.Errorf("short reply %q", line)
		}
		if line[3] == '-' {
			continue
		}
		if !strings.HasPrefix(line, code) {
			return fmt.Errorf("want %s, got %q", code, strings.TrimSpace(line))
		}
		return nil
	}
}
