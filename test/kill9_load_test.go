package test

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestKill9UnderLoad: the server is killed with SIGKILL while eight
// sessions send as fast as it accepts. Every message it answered 250 to
// must be delivered after a restart on the same data directory (at least
// once: a message delivered just before the kill may be delivered again).
func TestKill9UnderLoad(t *testing.T) {
	t.Parallel()
	s := startServer(t, serverOpts{})
	const sessions, ackedBeforeKill = 8, 200

	var mu sync.Mutex
	var acked []string // markers answered 250
	kill := make(chan struct{})
	var once sync.Once
	var wg sync.WaitGroup
	for i := 0; i < sessions; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			for n := 0; ; n++ {
				marker := fmt.Sprintf("load-%d-%d-%d", os.Getpid(), i, n)
				if err := sendLoadMessage(s.addr["smtp"], marker); err != nil {
					return // the server was killed
				}
				mu.Lock()
				acked = append(acked, marker)
				if len(acked) >= ackedBeforeKill {
					once.Do(func() { close(kill) })
				}
				mu.Unlock()
			}
		}(i)
	}
	select {
	case <-kill:
	case <-time.After(60 * time.Second):
		t.Fatalf("only %d messages accepted in 60 s\n%s", len(acked), s.logTail())
	}
	s.kill()
	wg.Wait()
	mu.Lock()
	want := append([]string(nil), acked...)
	mu.Unlock()

	s.start()
	missing := waitForMarkers(s.maildirNew(alice), want, 30*time.Second)
	s.stop()
	if len(missing) > 0 {
		t.Fatalf("%d of %d messages answered 250 were not delivered after kill -9 and restart, e.g. %s\n%s",
			len(missing), len(want), missing[0], s.logTail())
	}
	t.Logf("%d messages answered 250 before SIGKILL; all delivered after restart", len(want))
}

// sendLoadMessage sends one message to alice on a fresh connection and
// returns nil only when the server answered 250 to the end of data.
func sendLoadMessage(addr, marker string) error {
	c, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	r := bufio.NewReader(c)
	read := func(code string) error {
		for {
			l, err := r.ReadString('\n')
			if err != nil {
				return err
			}
			if len(l) >= 4 && l[3] == '-' {
				continue
			}
			if !strings.HasPrefix(l, code) {
				return fmt.Errorf("got %q, want %s", l, code)
			}
			return nil
		}
	}
	if err := read("220"); err != nil {
		return err
	}
	fmt.Fprintf(c, "EHLO load.test\r\nMAIL FROM:<load@remote.test>\r\nRCPT TO:<%s>\r\nDATA\r\n", alice.Addr)
	for _, code := range []string{"250", "250", "250", "354"} {
		if err := read(code); err != nil {
			return err
		}
	}
	fmt.Fprintf(c, "%s.\r\n", messageText("load@remote.test", alice.Addr, marker))
	if err := read("250"); err != nil {
		return err
	}
	fmt.Fprint(c, "QUIT\r\n")
	return nil
}

var loadMarker = regexp.MustCompile(`load-\d+-\d+-\d+`)

// waitForMarkers waits (bounded) until every marker is in some message in
// dir and returns the ones still missing at the deadline.
func waitForMarkers(dir string, markers []string, limit time.Duration) []string {
	deadline := time.Now().Add(limit)
	seen := map[string]bool{}
	read := map[string]bool{} // files already scanned
	for {
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if read[e.Name()] {
				continue
			}
			b, err := os.ReadFile(filepath.Join(dir, e.Name()))
			if err != nil {
				continue
			}
			read[e.Name()] = true
			for _, m := range loadMarker.FindAllString(string(b), -1) {
				seen[m] = true
			}
		}
		var missing []string
		for _, m := range markers {
			if !seen[m] {
				missing = append(missing, m)
			}
		}
		if len(missing) == 0 || time.Now().After(deadline) {
			return missing
		}
		time.Sleep(20 * time.Millisecond) // polling an observable condition
	}
}
