package probe

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"
)

// ANSI colours, used only when the caller asks (a terminal, no NO_COLOR).
const (
	ansiReset  = "\x1b[0m"
	ansiBold   = "\x1b[1m"
	ansiRed    = "\x1b[31m"
	ansiGreen  = "\x1b[32m"
	ansiYellow = "\x1b[33m"
)

// TableHeader names the columns of the results table.
var TableHeader = []string{"MECHANISM", "BEFORE TLS", "AFTER TLS", "RESULT", "ROUND TRIPS", "TIME", "REASON"}

// Rows returns the results table as text cells, one row per mechanism.
func (r *Report) Rows() [][]string {
	var rows [][]string
	for _, res := range r.Results {
		rt, tm := "-", "-"
		if res.RoundTrips > 0 {
			rt = fmt.Sprint(res.RoundTrips)
			tm = formatDuration(res.Duration)
		}
		rows = append(rows, []string{res.Mechanism, yesNo(res.OfferedBeforeTLS), yesNo(res.OfferedAfterTLS),
			string(res.Outcome), rt, tm, shortReason(res)})
	}
	return rows
}

func shortReason(res Result) string {
	switch res.Outcome {
	case OK:
		if res.ServerVerified {
			return "server proved the password too"
		}
		return ""
	case Refused:
		return res.Reply
	}
	return res.Reason
}

func yesNo(b *bool) string {
	switch {
	case b == nil:
		return "-"
	case *b:
		return "yes"
	}
	return "no"
}

func formatDuration(d time.Duration) string {
	if d < time.Second {
		return fmt.Sprintf("%dms", d.Milliseconds())
	}
	return fmt.Sprintf("%.1fs", d.Seconds())
}

// WriteText writes the human-readable report; color adds ANSI colours.
func (r *Report) WriteText(w io.Writer, color bool) error {
	paint := func(code, s string) string {
		if !color || code == "" {
			return s
		}
		return code + s + ansiReset
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s (%s)\n", paint(ansiBold, "postgate probe"), r.Address, modeText(r.Mode))
	if r.Greeting != "" {
		fmt.Fprintf(&b, "  greeting          220 %s\n", oneLine(r.Greeting))
	}
	if r.EhloBeforeTLS != nil {
		fmt.Fprintf(&b, "  EHLO before TLS   %s\n", strings.Join(r.EhloBeforeTLS, ", "))
	}
	if r.EhloAfterTLS != nil {
		fmt.Fprintf(&b, "  EHLO after TLS    %s\n", strings.Join(r.EhloAfterTLS, ", "))
	}
	if t := r.TLS; t != nil {
		fmt.Fprintf(&b, "  TLS               %s, %s", t.Version, t.Cipher)
		if t.ChannelBinding != "" {
			fmt.Fprintf(&b, ", channel binding %s", t.ChannelBinding)
		}
		b.WriteString("\n")
		fmt.Fprintf(&b, "  certificate       %s; names %s; expires %s\n", t.Subject,
			strings.Join(t.Names, " "), t.NotAfter.UTC().Format("2006-01-02"))
		if t.Verified {
			fmt.Fprintf(&b, "  verifies for %s: %s\n", r.Host, paint(ansiGreen, "yes"))
		} else {
			fmt.Fprintf(&b, "  verifies for %s: %s (%s); probed anyway\n", r.Host, paint(ansiRed, "NO"), t.VerifyError)
		}
	}
	if r.Credentials {
		fmt.Fprintf(&b, "  credentials       user %s\n", r.User)
	} else {
		b.WriteString("  credentials       none: checking that a bogus login is refused\n")
	}
	if r.Error != "" {
		fmt.Fprintf(&b, "\n%s %s\n", paint(ansiRed, "error:"), r.Error)
		_, err := io.WriteString(w, b.String())
		return err
	}
	b.WriteString("\n")
	if len(r.Results) == 0 {
		b.WriteString("The server advertises no AUTH mechanism.\n")
	} else {
		writeTable(&b, TableHeader, r.Rows(), func(row []string, col int) string {
			if col != 3 {
				return ""
			}
			switch Outcome(row[3]) {
			case OK, Refused:
				return ansiGreen
			case Failed, Accepted, Errored:
				return ansiRed
			case Skipped:
				return ansiYellow
			}
			return ""
		}, paint)
	}
	for _, res := range r.Results {
		if res.Outcome != Failed && res.Outcome != Accepted && res.Outcome != Errored {
			continue
		}
		fmt.Fprintf(&b, "\n%s %s\n", paint(ansiBold, res.Mechanism), res.Outcome)
		if res.Reason != "" {
			fmt.Fprintf(&b, "  reason: %s\n", res.Reason)
		}
		for _, s := range res.Transcript {
			text := s.Text
			if text == "" {
				text = "(empty)"
			}
			if s.Code != 0 {
				text = fmt.Sprintf("%d %s", s.Code, text)
			}
			fmt.Fprintf(&b, "  %s: %s\n", s.Dir, text)
		}
		if res.Hint != "" {
			fmt.Fprintf(&b, "  hint: %s\n", paint(ansiYellow, res.Hint))
		}
	}
	b.WriteString("\n" + paint(ansiBold, "Recommendation") + "\n")
	for _, l := range r.Recommendation.Lines {
		fmt.Fprintf(&b, "  %s\n", l)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// writeTable writes aligned columns; colour codes are added after the
// padding so they do not disturb the alignment.
func writeTable(b *strings.Builder, header []string, rows [][]string, colour func([]string, int) string, paint func(string, string) string) {
	widths := make([]int, len(header))
	for _, row := range append([][]string{header}, rows...) {
		for i, cell := range row {
			widths[i] = max(widths[i], utf8.RuneCountInString(cell))
		}
	}
	line := func(row []string, head bool) {
		for i, cell := range row {
			pad := cell
			if i < len(row)-1 {
				pad += strings.Repeat(" ", widths[i]-utf8.RuneCountInString(cell)+2)
			}
			code := ""
			if head {
				code = ansiBold
			} else {
				code = colour(row, i)
			}
			if code != "" {
				pad = paint(code, cell) + pad[len(cell):]
			}
			b.WriteString(pad)
		}
		b.WriteString("\n")
	}
	line(header, true)
	for _, row := range rows {
		line(row, false)
	}
}

func modeText(m Mode) string {
	switch m {
	case ModeTLS:
		return "implicit TLS"
	case ModeStartTLS:
		return "STARTTLS"
	case ModePlain:
		return "no TLS"
	}
	return "STARTTLS if offered"
}

func oneLine(s string) string { return strings.ReplaceAll(s, "\n", " / ") }

// WriteJSON writes the report as one indented JSON document.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}
