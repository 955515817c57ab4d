package sendmail

import (
	"bufio"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// fakeSMTP is a scripted SMTP server on a UNIX socket that records what
// clients send.
type fakeSMTP struct {
	path     string
	greeting string            // default "220 fake ESMTP"
	ehlo     []string          // extension lines; default a postgate-like set
	replies  map[string]string // reply by command prefix ("MAIL", "RCPT TO:<bad@x>", "DATA-END"); first match by longest prefix
	noQuit   bool              // close the connection instead of answering QUIT

	mu   sync.Mutex
	cmds []string // command lines, in order
	data []string // raw (still dot-stuffed) message data per DATA, without the final ".\r\n"
	done chan struct{}
}

func shortDir(t *testing.T) string {
	t.Helper()
	d, err := os.MkdirTemp("", "pgsm")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

// start listens and serves connections until the test ends.
func (f *fakeSMTP) start(t *testing.T) *fakeSMTP {
	t.Helper()
	if f.path == "" {
		f.path = filepath.Join(shortDir(t), "submit.sock")
	}
	ln, err := net.Listen("unix", f.path)
	if err != nil {
		t.Fatal(err)
	}
	f.done = make(chan struct{})
	var wg sync.WaitGroup
	go func() {
		defer close(f.done)
		for {
			c, err := ln.Accept()
			if err != nil {
				wg.Wait()
				return
			}
			wg.Add(1)
			go func() { defer wg.Done(); f.serve(c) }()
		}
	}()
	t.Cleanup(func() { ln.Close(); <-f.done })
	return f
}

func (f *fakeSMTP) reply(key, def string) string {
	best := ""
	for k := range f.replies {
		if strings.HasPrefix(key, k) && len(k) > len(best) {
			best = k
		}
	}
	if best != "" {
		return f.replies[best]
	}
	return def
}

func (f *fakeSMTP) serve(c net.Conn) {
	defer c.Close()
	r := bufio.NewReader(c)
	w := bufio.NewWriter(c)
	send := func(s string) { w.WriteString(s + "\r\n"); w.Flush() }
	g := f.greeting
	if g == "" {
		g = "220 fake ESMTP"
	}
	send(g)
	if !strings.HasPrefix(g, "220") {
		return
	}
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimRight(line, "\r\n")
		f.mu.Lock()
		f.cmds = append(f.cmds, line)
		f.mu.Unlock()
		verb := strings.ToUpper(strings.SplitN(line, " ", 2)[0])
		switch verb {
		case "EHLO":
			if rep := f.reply(line, ""); rep != "" {
				send(rep)
				continue
			}
			ext := f.ehlo
			if ext == nil {
				ext = []string{"ENHANCEDSTATUSCODES", "PIPELINING", "8BITMIME", "SIZE 1000000", "DSN", "SMTPUTF8"}
			}
			lines := append([]string{"fake Hello"}, ext...)
			for i, l := range lines {
				sep := "-"
				if i == len(lines)-1 {
					sep = " "
				}
				w.WriteString("250" + sep + l + "\r\n")
			}
			w.Flush()
		case "DATA":
			rep := f.reply(line, "354 go ahead")
			send(rep)
			if !strings.HasPrefix(rep, "354") {
				continue
			}
			var b strings.Builder
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
				b.WriteString(l)
			}
			f.mu.Lock()
			f.data = append(f.data, b.String())
			f.mu.Unlock()
			send(f.reply("DATA-END", "250 2.0.0 OK queued as 0123456789abcdef01234567"))
		case "QUIT":
			if f.noQuit {
				return
			}
			send("221 2.0.0 bye")
			return
		default:
			send(f.reply(line, "250 2.0.0 OK"))
		}
	}
}

// commands returns the recorded command lines.
func (f *fakeSMTP) commands() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.cmds...)
}

// messages returns the recorded message data.
func (f *fakeSMTP) messages() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.data...)
}
