package sendmail

import (
	"fmt"
	"io"
	"strings"

	"postgate/internal/status"
)

// RenderQueue writes the queue in the layout of Postfix's mailq, which
// scripts already parse: one block per message (id, size, arrival time,
// sender), then each recipient not yet delivered, preceded by the reason
// of its last failure in parentheses; a summary line at the end, or
// "Mail queue is empty". Deferred ids are marked with no suffix, failed
// recipients with "(failed: ...)".
func RenderQueue(w io.Writer, entries []status.QueueEntry, color bool) error {
	var b strings.Builder
	if len(entries) == 0 {
		b.WriteString("Mail queue is empty\n")
		_, err := io.WriteString(w, b.String())
		return err
	}
	const idW, sizeW, timeW = 24, 8, 20
	fmt.Fprintf(&b, "%s\n", status.Paint(fmt.Sprintf("%-*s %*s %-*s %s", idW, "-Queue ID-", sizeW, "--Size--",
		timeW, "----Arrival Time----", "-Sender/Recipient-------"), status.Bold, color))
	indent := strings.Repeat(" ", idW+1+sizeW+1+timeW+1)
	var total int64
	for _, e := range entries {
		total += e.Size
		from := e.From
		if from == "" {
			from = "MAILER-DAEMON"
		}
		fmt.Fprintf(&b, "%-*s %*d %-*s %s\n", idW, e.ID, sizeW, e.Size, timeW,
			e.Received.Local().Format("Mon Jan _2 15:04:05"), sanitizeLine(from))
		for _, r := range e.Recipients {
			switch r.Status {
			case status.StatusDelivered:
				continue
			case status.StatusFailed:
				fmt.Fprintf(&b, "%s%s\n", indent, status.Paint("(failed: "+sanitizeLine(r.LastError)+")", status.Red, color))
			case status.StatusDeferred:
				if r.LastError != "" {
					fmt.Fprintf(&b, "%s%s\n", indent, status.Paint("("+sanitizeLine(r.LastError)+")", status.Yellow, color))
				}
			}
			fmt.Fprintf(&b, "%s%s\n", indent, sanitizeLine(r.Addr))
		}
		b.WriteString("\n")
	}
	kb := (total + 1023) / 1024
	req := "Requests"
	if len(entries) == 1 {
		req = "Request"
	}
	fmt.Fprintf(&b, "-- %d Kbytes in %d %s.\n", kb, len(entries), req)
	_, err := io.WriteString(w, b.String())
	return err
}

// sanitizeLine replaces control characters so queue data cannot drive
// the terminal.
func sanitizeLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return '?'
		}
		return r
	}, s)
}
