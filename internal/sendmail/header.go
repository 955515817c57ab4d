package sendmail

import (
	"bytes"
	"strings"
)

// Field is one header field: its name and its raw lines (with CRLF),
// continuation lines included.
type Field struct {
	Name string
	Raw  []byte
}

// Value returns the unfolded field body, without the name, colon and
// surrounding white space.
func (f Field) Value() string {
	_, v, _ := bytes.Cut(f.Raw, []byte(":"))
	s := strings.ReplaceAll(string(v), "\r\n", "")
	return strings.TrimSpace(s)
}

// Message is a message split into its header fields and body.
type Message struct {
	Fields []Field
	Body   []byte // after the blank line (or after the first line that was not a header field)
}

// ParseMessage splits CRLF text into header fields and body. A leading
// Unix "From " line is dropped, as sendmail does. The header ends at the
// first empty line, or at the first line that is neither a field nor a
// continuation: that line starts the body (a blank line is put back when
// the message is rendered).
func ParseMessage(msg []byte) *Message {
	m := &Message{}
	rest := msg
	if bytes.HasPrefix(rest, []byte("From ")) {
		if i := bytes.Index(rest, []byte("\r\n")); i >= 0 {
			rest = rest[i+2:]
		} else {
			rest = nil
		}
	}
	for len(rest) > 0 {
		line, next := rest, []byte(nil)
		if i := bytes.Index(rest, []byte("\r\n")); i >= 0 {
			line, next = rest[:i], rest[i+2:]
		}
		raw := append(append([]byte(nil), line...), "\r\n"...)
		switch {
		case len(line) == 0:
			m.Body = next
			return m
		case (line[0] == ' ' || line[0] == '\t') && len(m.Fields) > 0:
			f := &m.Fields[len(m.Fields)-1]
			f.Raw = append(f.Raw, raw...)
		case fieldName(line) != "":
			m.Fields = append(m.Fields, Field{Name: fieldName(line), Raw: raw})
		default:
			m.Body = rest
			return m
		}
		rest = next
	}
	return m
}

// fieldName returns the name of a header line ("Subject" for
// "Subject: x"), or "" if the line does not start a field (RFC 5322
// §2.2: printable ASCII except colon, then a colon).
func fieldName(line []byte) string {
	i := bytes.IndexByte(line, ':')
	if i <= 0 {
		return ""
	}
	for _, c := range line[:i] {
		if c < 33 || c > 126 {
			return ""
		}
	}
	return string(line[:i])
}

// Has reports whether a field with this name (any case) exists.
func (m *Message) Has(name string) bool {
	for _, f := range m.Fields {
		if strings.EqualFold(f.Name, name) {
			return true
		}
	}
	return false
}

// Values returns the unfolded bodies of every field with this name.
func (m *Message) Values(name string) []string {
	var out []string
	for _, f := range m.Fields {
		if strings.EqualFold(f.Name, name) {
			out = append(out, f.Value())
		}
	}
	return out
}

// Remove deletes every field with one of these names (any case).
func (m *Message) Remove(names ...string) {
	kept := m.Fields[:0]
	for _, f := range m.Fields {
		drop := false
		for _, n := range names {
			if strings.EqualFold(f.Name, n) {
				drop = true
			}
		}
		if !drop {
			kept = append(kept, f)
		}
	}
	m.Fields = kept
}

// Add appends a field "Name: value" (value already encoded and folded).
func (m *Message) Add(name, value string) {
	m.Fields = append(m.Fields, Field{Name: name, Raw: []byte(name + ": " + value + "\r\n")})
}

// Bytes renders the message: the fields, a blank line, the body.
func (m *Message) Bytes() []byte {
	var b bytes.Buffer
	for _, f := range m.Fields {
		b.Write(f.Raw)
	}
	b.WriteString("\r\n")
	b.Write(m.Body)
	return b.Bytes()
}
