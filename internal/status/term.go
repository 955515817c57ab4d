package status

import (
	"io"
	"os"
	"strings"
	"unicode/utf8"

	"golang.org/x/term"
)

// Style is an ANSI SGR parameter ("1" bold, "31" red, ...); "" is plain.
type Style string

// Styles used by postgate's human output.
const (
	Plain  Style = ""
	Bold   Style = "1"
	Dim    Style = "2"
	Red    Style = "31"
	Green  Style = "32"
	Yellow Style = "33"
)

// UseColor reports whether output to w should be coloured: only when w is
// a terminal, NO_COLOR is unset or empty (https://no-color.org) and TERM
// is not "dumb".
func UseColor(w io.Writer) bool {
	if os.Getenv("NO_COLOR") != "" || os.Getenv("TERM") == "dumb" {
		return false
	}
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// Paint wraps s in the style's escape sequence when color is true.
func Paint(s string, st Style, color bool) string {
	if !color || st == Plain || s == "" {
		return s
	}
	return "\x1b[" + string(st) + "m" + s + "\x1b[0m"
}

// Cell is one table cell.
type Cell struct {
	Text  string
	Style Style
}

// C returns a plain cell.
func C(text string) Cell { return Cell{Text: text} }

// Table renders aligned columns separated by two spaces. Widths are
// computed on the text, so colour does not disturb the alignment. Cell
// text is stripped of control characters.
type Table struct {
	Header []string     // printed in bold; nil for no header line
	Right  map[int]bool // columns aligned to the right (numbers)
	Indent string       // prefix of every line
	rows   [][]Cell
}

// Row adds a row.
func (t *Table) Row(cells ...Cell) { t.rows = append(t.rows, cells) }

// Len returns the number of rows added.
func (t *Table) Len() int { return len(t.rows) }

// Render writes the table; color enables styles.
func (t *Table) Render(w io.Writer, color bool) error {
	all := t.rows
	if t.Header != nil {
		h := make([]Cell, len(t.Header))
		for i, s := range t.Header {
			h[i] = Cell{Text: s, Style: Bold}
		}
		all = append([][]Cell{h}, all...)
	}
	var widths []int
	for _, r := range all {
		for i, c := range r {
			if i >= len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], utf8.RuneCountInString(sanitize(c.Text)))
		}
	}
	var b strings.Builder
	for _, r := range all {
		b.WriteString(t.Indent)
		for i, c := range r {
			text := sanitize(c.Text)
			pad := strings.Repeat(" ", widths[i]-utf8.RuneCountInString(text))
			last := i == len(r)-1
			switch {
			case t.Right[i]:
				b.WriteString(pad + Paint(text, c.Style, color))
			case last:
				b.WriteString(Paint(text, c.Style, color))
			default:
				b.WriteString(Paint(text, c.Style, color) + pad)
			}
			if !last {
				b.WriteString("  ")
			}
		}
		b.WriteString("\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}
