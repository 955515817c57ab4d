package status

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// maxAuthGroups is the most failure groups the human status shows.
const maxAuthGroups = 20

// RenderStatus writes the human form of a snapshot: server line,
// listeners, queue, recent authentication failures.
func RenderStatus(w io.Writer, s *Snapshot, color bool) error {
	var b strings.Builder
	up := time.Duration(s.UptimeSeconds * float64(time.Second))
	fmt.Fprintf(&b, "%s %s  pid %d  up %s (since %s)\n", Paint("postgate", Bold, color), sanitize(s.Hostname),
		s.PID, Duration(up), s.Started.Local().Format("2006-01-02 15:04:05 -0700"))

	b.WriteString("\n")
	lt := Table{Header: []string{"LISTENER", "ADDRESS"}}
	for _, l := range s.Listeners {
		lt.Row(C(l.Name), C(l.Address))
	}
	if lt.Len() == 0 {
		b.WriteString("no listeners\n")
	} else {
		lt.Render(&b, color)
	}

	b.WriteString("\n" + Paint("QUEUE", Bold, color) + "\n")
	q := s.Queue
	if q.Error != "" {
		fmt.Fprintf(&b, "  %s\n", Paint("cannot read the spool: "+sanitize(q.Error), Red, color))
	}
	qt := Table{Indent: "  "}
	msgs := strconv.Itoa(q.Messages)
	if q.Messages > 0 {
		msgs += " (" + Bytes(q.Bytes) + ")"
	}
	qt.Row(C("messages"), C(msgs))
	if q.Messages > 0 {
		age := time.Duration(q.OldestAgeSeconds * float64(time.Second))
		qt.Row(C("oldest"), C(Duration(age)+" ago"))
	}
	qt.Render(&b, color)
	if q.Recipients > 0 {
		var parts []string
		for _, st := range []struct {
			name  string
			style Style
		}{{StatusPending, Plain}, {StatusDeferred, Yellow}, {StatusFailed, Red}, {StatusDelivered, Green}} {
			n := q.ByStatus[st.name]
			style := st.style
			if n == 0 {
				style = Plain
			}
			parts = append(parts, Paint(fmt.Sprintf("%s %d", st.name, n), style, color))
		}
		fmt.Fprintf(&b, "  recipients: %s\n", strings.Join(parts, ", "))
	}

	a := s.AuthFailures
	fmt.Fprintf(&b, "\n%s (%d since start, last %d kept)\n", Paint("RECENT AUTH FAILURES", Bold, color), a.Total, a.Window)
	if len(a.Groups) == 0 {
		b.WriteString("  none\n")
	} else {
		at := Table{Header: []string{"CLIENT", "REASON", "COUNT", "LAST", "MECHANISMS", "USERS"}, Indent: "  ",
			Right: map[int]bool{2: true}}
		for i, g := range a.Groups {
			if i == maxAuthGroups {
				fmt.Fprintf(&b, "  … and %d more groups (--json shows all)\n", len(a.Groups)-i)
				break
			}
			at.Row(C(g.Client), Cell{Text: g.Reason, Style: Red}, C(strconv.Itoa(g.Count)),
				C(Duration(s.Now.Sub(g.Last))+" ago"), C(strings.Join(g.Mechanisms, ",")), C(userList(g)))
		}
		at.Render(&b, color)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// userList shows the distinct user names of a group, "-" for none.
func userList(g AuthFailureGroup) string {
	if g.UserCount == 0 {
		return "-"
	}
	s := strings.Join(g.Users, ",")
	if more := g.UserCount - len(g.Users); more > 0 {
		s += fmt.Sprintf(" +%d", more)
	}
	return s
}

// Duration renders d compactly: "45s", "12m", "3h12m", "2d4h".
func Duration(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d/time.Second))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d/time.Minute))
	case d < 24*time.Hour:
		h, m := int(d/time.Hour), int(d%time.Hour/time.Minute)
		if m == 0 {
			return fmt.Sprintf("%dh", h)
		}
		return fmt.Sprintf("%dh%dm", h, m)
	}
	days, h := int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour)
	if h == 0 {
		return fmt.Sprintf("%dd", days)
	}
	return fmt.Sprintf("%dd%dh", days, h)
}

// Bytes renders a size: "512 B", "12.3 kB", "4.5 MB" (powers of 1000).
func Bytes(n int64) string {
	switch {
	case n < 1000:
		return fmt.Sprintf("%d B", n)
	case n < 1000*1000:
		return fmt.Sprintf("%.1f kB", float64(n)/1e3)
	case n < 1000*1000*1000:
		return fmt.Sprintf("%.1f MB", float64(n)/1e6)
	}
	return fmt.Sprintf("%.1f GB", float64(n)/1e9)
}
