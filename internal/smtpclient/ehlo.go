package smtpclient

import (
	"errors"
	"slices"
	"strings"
)

// Extension is one EHLO keyword with its parameters as the server sent
// them (the rest of the line, "" when none).
type Extension struct {
	Keyword string
	Params  string
}

// Extensions is the parsed EHLO (or LHLO) reply.
type Extensions struct {
	// Domain is the first word of the reply's first line: the server's
	// name for itself.
	Domain string
	// Greeting is the first line of the reply in full.
	Greeting string
	// List is every extension in the order the server sent them, keywords
	// upper-cased (RFC 5321 §2.4: keywords are case-insensitive).
	List []Extension
	// AuthMechanisms lists the mechanisms of the "AUTH" line, upper-cased,
	// in the server's order.
	AuthMechanisms []string
	// OldAuthMechanisms lists the mechanisms of the pre-RFC "AUTH=" line
	// some servers add for old clients (Postfix's broken_sasl_auth_clients).
	OldAuthMechanisms []string
}

// Has reports whether the server announced keyword.
func (e *Extensions) Has(keyword string) bool {
	_, ok := e.Params(keyword)
	return ok
}

// Params returns the parameters of keyword and whether it was announced.
func (e *Extensions) Params(keyword string) (string, bool) {
	if e == nil {
		return "", false
	}
	keyword = strings.ToUpper(keyword)
	for _, x := range e.List {
		if x.Keyword == keyword {
			return x.Params, true
		}
	}
	return "", false
}

// Mechanisms returns the AUTH mechanisms, or those of the old "AUTH=" line
// when there is no AUTH line.
func (e *Extensions) Mechanisms() []string {
	if e == nil {
		return nil
	}
	if len(e.AuthMechanisms) > 0 {
		return e.AuthMechanisms
	}
	return e.OldAuthMechanisms
}

// OffersMechanism reports whether mech is among Mechanisms().
func (e *Extensions) OffersMechanism(mech string) bool {
	return slices.Contains(e.Mechanisms(), strings.ToUpper(mech))
}

// parseEhlo parses the text of a 250 reply to EHLO.
func parseEhlo(text string) *Extensions {
	lines := strings.Split(text, "\n")
	e := &Extensions{Greeting: lines[0]}
	e.Domain, _, _ = strings.Cut(lines[0], " ")
	for _, l := range lines[1:] {
		l = strings.TrimSpace(l)
		if l == "" {
			continue
		}
		kw, params, _ := strings.Cut(l, " ")
		kw = strings.ToUpper(kw)
		params = strings.TrimSpace(params)
		if old, ok := strings.CutPrefix(kw, "AUTH="); ok {
			// "AUTH=LOGIN PLAIN": the first mechanism is glued to the keyword.
			e.OldAuthMechanisms = appendMechs(e.OldAuthMechanisms, old+" "+params)
			e.List = append(e.List, Extension{Keyword: "AUTH=", Params: strings.TrimSpace(old + " " + params)})
			continue
		}
		if kw == "AUTH" {
			e.AuthMechanisms = appendMechs(e.AuthMechanisms, params)
		}
		e.List = append(e.List, Extension{Keyword: kw, Params: params})
	}
	return e
}

func appendMechs(dst []string, list string) []string {
	for _, m := range strings.Fields(strings.ToUpper(list)) {
		if !slices.Contains(dst, m) {
			dst = append(dst, m)
		}
	}
	return dst
}

// Ehlo sends EHLO name (LHLO in LMTP mode) and returns the extensions.
// They are also kept for Extensions. After STARTTLS the caller must send
// EHLO again (RFC 3207 §4.2).
func (c *Client) Ehlo(name string) (*Extensions, error) {
	verb := "EHLO"
	if c.opt.LMTP {
		verb = "LHLO"
	}
	r, err := c.Cmd(250, "%s %s", verb, name)
	if err != nil {
		return nil, err
	}
	c.ext = parseEhlo(r.Text)
	return c.ext, nil
}

// Helo sends HELO name, for servers that do not speak ESMTP. It is an
// error in LMTP mode.
func (c *Client) Helo(name string) error {
	if c.opt.LMTP {
		return errors.New("smtpclient: HELO is not LMTP")
	}
	_, err := c.Cmd(250, "HELO %s", name)
	if err == nil {
		c.ext = &Extensions{}
	}
	return err
}

// Extensions returns the extensions of the last successful EHLO, nil
// before one (and after STARTTLS, which forgets them).
func (c *Client) Extensions() *Extensions { return c.ext }

// requireExt returns an error matching ErrNotOffered when keyword was
// not announced.
func (c *Client) requireExt(keyword string) error {
	if !c.ext.Has(keyword) {
		return &notOffered{keyword}
	}
	return nil
}

type notOffered struct{ keyword string }

func (e *notOffered) Error() string { return "server does not offer " + e.keyword }

// ErrNotOffered matches (errors.Is) the error returned when a command
// needs an extension the server did not announce.
var ErrNotOffered = errors.New("extension not offered")

func (e *notOffered) Is(target error) bool { return target == ErrNotOffered }
