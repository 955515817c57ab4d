package delivery

import "io"

// crlfToLF copies to w with every CRLF turned into LF. A CR at the end of
// one Write is held back until the next shows whether an LF follows; a
// lone CR is kept. Close writes a held CR.
type crlfToLF struct {
	w       io.Writer
	heldCR  bool
	scratch []byte
}

func (c *crlfToLF) Write(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	out := c.scratch[:0]
	if c.heldCR {
		c.heldCR = false
		if p[0] != '\n' {
			out = append(out, '\r')
		}
	}
	for i, b := range p {
		if b == '\r' {
			if i == len(p)-1 {
				c.heldCR = true
				continue
			}
			if p[i+1] == '\n' {
				continue
			}
		}
		out = append(out, b)
	}
	c.scratch = out
	if _, err := c.w.Write(out); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Close flushes a held CR; it does not close w.
func (c *crlfToLF) Close() error {
	if c.heldCR {
		c.heldCR = false
		_, err := c.w.Write([]byte{'\r'})
		return err
	}
	return nil
}
