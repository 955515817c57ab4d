package queue

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// Environment variables that turn the test binary into the crash-test
// child (see crashChild).
const (
	crashDirEnv  = "POSTGATE_QUEUE_CRASH_DIR"
	crashBaseEnv = "POSTGATE_QUEUE_CRASH_BASE"
)

func TestMain(m *testing.M) {
	if dir := os.Getenv(crashDirEnv); dir != "" {
		base, _ := strconv.Atoi(os.Getenv(crashBaseEnv))
		os.Exit(crashChild(dir, base))
	}
	os.Exit(m.Run())
}

// crashContent is the content of crash-test message number n.
func crashContent(n int) string {
	return fmt.Sprintf("Subject: message %d\r\n\r\n%s\r\n", n, strings.Repeat(strconv.Itoa(n), 100+n%700))
}

// crashChild commits messages from 4 goroutines until it is killed,
// printing "<id> <n>" only after each Commit has returned.
func crashChild(dir string, base int) int {
	s, err := Open(dir, Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	var (
		mu   sync.Mutex
		next = base
		wg   sync.WaitGroup
	)
	for range 4 {
		wg.Go(func() {
			for {
				mu.Lock()
				n := next
				next++
				mu.Unlock()
				if n >= base+100000 {
					return
				}
				w, err := s.Create()
				if err != nil {
					fmt.Fprintln(os.Stderr, err)
					os.Exit(2)
				}
				io.WriteString(w, crashContent(n))
				id, err := w.Commit(&Envelope{EnvID: strconv.Itoa(n), Recipients: []Recipient{{Addr: "a@example.org"}}})
				if err != nil {
					fmt.Fprintln(os.Stderr, err)
					os.Exit(2)
				}
				mu.Lock()
				fmt.Fprintf(os.Stdout, "%s %d\n", id, n)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return 0
}

// TestCrashDurability SIGKILLs a child process that is committing
// messages at a random point and checks that every message whose Commit
// had returned survived intact, and that nothing torn is listed. Each
// round reopens the directory the previous round's child was killed in.
func TestCrashDurability(t *testing.T) {
	dir := t.TempDir()
	const rounds = 4
	for round := range rounds {
		base := (round + 1) * 1000000
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), crashDirEnv+"="+dir, crashBaseEnv+"="+strconv.Itoa(base))
		cmd.Stderr = os.Stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		killAt := 1 + rand.IntN(200)
		acked := map[string]int{}
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			var id string
			var n int
			if _, err := fmt.Sscanf(sc.Text(), "%s %d", &id, &n); err != nil {
				t.Fatalf("child printed %q", sc.Text())
			}
			acked[id] = n
			if len(acked) == killAt {
				cmd.Process.Kill() // SIGKILL; lines already in the pipe are still read
			}
		}
		cmd.Wait() // reports the kill as an error; the state says more
		state := cmd.ProcessState
		if state == nil || state.Success() || len(acked) < killAt {
			t.Fatalf("round %d: child was not killed as planned (%v, %d acks, killAt %d)", round, state, len(acked), killAt)
		}

		s, err := Open(dir, Options{})
		if err != nil {
			t.Fatal(err)
		}
		ids, err := s.List()
		if err != nil {
			t.Fatal(err)
		}
		listed := map[string]bool{}
		for _, id := range ids {
			listed[id] = true
			env, err := s.Envelope(id)
			if err != nil {
				t.Fatalf("round %d: listed %s unreadable: %v", round, id, err)
			}
			n, _ := strconv.Atoi(env.EnvID)
			if want, ok := acked[id]; ok && want != n {
				t.Errorf("round %d: %s has EnvID %d, acknowledged as %d", round, id, n, want)
			}
			rc, err := s.OpenMessage(id)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(rc)
			rc.Close()
			if string(b) != crashContent(n) || env.Size != int64(len(b)) {
				t.Errorf("round %d: message %s (n=%d) is torn: %d octets, envelope size %d", round, id, n, len(b), env.Size)
			}
		}
		for id, n := range acked {
			if !listed[id] {
				t.Errorf("round %d: acknowledged message %s (n=%d) lost", round, id, n)
			}
		}
		t.Logf("round %d: killed after %d acks; %d listed; recovery discarded %d files", round, len(acked), len(ids), s.Stats().Discarded)
		s.Close()
	}
}
