package smtp

import (
	"strconv"
	"strings"
	"time"
)

// MailParams are the ESMTP parameters of MAIL FROM.
type MailParams struct {
	Size     int64  // SIZE= (RFC 1870), 0 if absent
	Body     string // "7BIT", "8BITMIME" or "BINARYMIME" (RFC 6152, RFC 3030); "" if absent
	SMTPUTF8 bool   // RFC 6531
	Ret      string // "FULL" or "HDRS" (RFC 3461)
	EnvID    string // decoded ENVID (RFC 3461)
	Auth     string // decoded AUTH= (RFC 4954 §5): "<>" or a mailbox
	HasAuth  bool
	By       *By // DELIVERBY (RFC 2852)
}

// By is the DELIVERBY BY= parameter.
type By struct {
	Seconds int64 // may be zero or negative with mode N (RFC 2852 §4)
	Mode    byte  // 'R' (return if not delivered in time) or 'N' (notify)
	Trace   bool
}

// Deadline returns the delivery deadline relative to t.
func (b *By) Deadline(t time.Time) time.Time { return t.Add(time.Duration(b.Seconds) * time.Second) }

// RcptParams are the ESMTP parameters of RCPT TO.
type RcptParams struct {
	Notify []string // "NEVER" alone or some of "SUCCESS", "FAILURE", "DELAY"
	ORCPT  string   // "addr-type;decoded-address"
}

// ParamError is a bad parameter; it carries the reply.
func paramErr(code int, enh, text string) *Error { return Errorf(code, enh, "%s", text) }

// splitParams splits "K=V K2" into keys (upper-cased) and values.
func splitParams(s string) ([][2]string, *Error) {
	var out [][2]string
	seen := map[string]bool{}
	for _, f := range strings.Fields(s) {
		k, v, hasV := strings.Cut(f, "=")
		k = strings.ToUpper(k)
		if k == "" || (hasV && v == "") {
			return nil, paramErr(501, "5.5.4", "Malformed parameter "+Printable(f))
		}
		if seen[k] {
			return nil, paramErr(501, "5.5.4", "Duplicate parameter "+k)
		}
		seen[k] = true
		out = append(out, [2]string{k, v})
	}
	return out, nil
}

// Printable shortens client text to 64 octets and replaces control
// characters, so that it can be echoed in a reply or a header.
func Printable(s string) string {
	if len(s) > 64 {
		s = s[:64] + "..."
	}
	return strings.Map(func(r rune) rune {
		if r < 32 || r == 127 {
			return '?'
		}
		return r
	}, s)
}

// ParseMailParams parses MAIL parameters. It checks syntax only; limits
// (SIZE against the maximum, BY against the minimum) are the server's.
func ParseMailParams(s string) (MailParams, *Error) {
	var p MailParams
	kvs, err := splitParams(s)
	if err != nil {
		return p, err
	}
	for _, kv := range kvs {
		k, v := kv[0], kv[1]
		switch k {
		case "SIZE":
			n, e := strconv.ParseInt(v, 10, 64)
			if e != nil || n < 0 {
				return p, paramErr(501, "5.5.4", "Malformed SIZE parameter")
			}
			p.Size = n
		case "BODY":
			switch u := strings.ToUpper(v); u {
			case "7BIT", "8BITMIME", "BINARYMIME":
				p.Body = u
			default:
				return p, paramErr(501, "5.5.4", "BODY must be 7BIT, 8BITMIME or BINARYMIME")
			}
		case "SMTPUTF8":
			if v != "" {
				return p, paramErr(501, "5.5.4", "SMTPUTF8 takes no value")
			}
			p.SMTPUTF8 = true
		case "RET":
			switch u := strings.ToUpper(v); u {
			case "FULL", "HDRS":
				p.Ret = u
			default:
				return p, paramErr(501, "5.5.4", "RET must be FULL or HDRS")
			}
		case "ENVID":
			d, e := DecodeXtext(v)
			if e != nil || len(d) > 100 {
				return p, paramErr(501, "5.5.4", "Malformed ENVID (xtext, at most 100 characters)")
			}
			p.EnvID = d
		case "AUTH":
			d, e := DecodeXtext(v)
			if e != nil {
				return p, paramErr(501, "5.5.4", "Malformed AUTH parameter")
			}
			if d != "<>" {
				if _, e := ParseMailbox(d, true); e != nil {
					return p, paramErr(501, "5.5.4", "AUTH parameter must be <> or a mailbox")
				}
			}
			p.Auth, p.HasAuth = d, true
		case "BY":
			b, e := parseBy(v)
			if e != nil {
				return p, e
			}
			p.By = b
		default:
			return p, paramErr(555, "5.5.4", "Unsupported MAIL parameter "+Printable(k))
		}
	}
	return p, nil
}

// parseBy parses RFC 2852 "by-time;by-mode[by-trace]".
func parseBy(v string) (*By, *Error) {
	bad := paramErr(501, "5.5.4", "BY must be <seconds>;R or <seconds>;N, optionally followed by T")
	t, mode, ok := strings.Cut(v, ";")
	if !ok || t == "" || len(t) > 10 {
		return nil, bad
	}
	n, e := strconv.ParseInt(t, 10, 64)
	if e != nil {
		return nil, bad
	}
	m := strings.ToUpper(mode)
	b := &By{Seconds: n}
	switch m {
	case "R", "N":
	case "RT", "NT":
		b.Trace = true
	default:
		return nil, bad
	}
	b.Mode = m[0]
	if b.Mode == 'R' && n <= 0 { // RFC 2852 §4: only N may carry an expired by-time
		return nil, paramErr(501, "5.5.4", "BY with mode R needs a positive time")
	}
	if n > 999999999 || n < -999999999 { // by-time is at most 9 digits
		return nil, bad
	}
	return b, nil
}

// ParseRcptParams parses RCPT parameters.
func ParseRcptParams(s string) (RcptParams, *Error) {
	var p RcptParams
	kvs, err := splitParams(s)
	if err != nil {
		return p, err
	}
	for _, kv := range kvs {
		k, v := kv[0], kv[1]
		switch k {
		case "NOTIFY":
			vals := strings.Split(strings.ToUpper(v), ",")
			for _, n := range vals {
				switch n {
				case "NEVER":
					if len(vals) != 1 {
						return p, paramErr(501, "5.5.4", "NOTIFY=NEVER cannot be combined")
					}
				case "SUCCESS", "FAILURE", "DELAY":
				default:
					return p, paramErr(501, "5.5.4", "NOTIFY must be NEVER or SUCCESS,FAILURE,DELAY")
				}
			}
			p.Notify = vals
		case "ORCPT":
			typ, addr, ok := strings.Cut(v, ";")
			if !ok || typ == "" || addr == "" {
				return p, paramErr(501, "5.5.4", "ORCPT must be addr-type;xtext")
			}
			d, e := DecodeXtext(addr)
			if e != nil {
				return p, paramErr(501, "5.5.4", "Malformed ORCPT address (xtext)")
			}
			p.ORCPT = strings.ToLower(typ) + ";" + d
		default:
			return p, paramErr(555, "5.5.4", "Unsupported RCPT parameter "+Printable(k))
		}
	}
	return p, nil
}
