package sendmail

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/mail"
	"strings"
	"time"
)

// Identity is the local user running the command.
type Identity struct {
	Login    string // login name: the local part of the default sender
	FullName string // for a generated From: (the GECOS name), may be ""
}

// Submission is a message ready for the SMTP dialog.
type Submission struct {
	Sender     string   // envelope sender; "" is the null sender <>
	Recipients []string // validated mailboxes, without duplicates
	Data       []byte   // the message, CRLF line endings, not dot-stuffed
	EightBit   bool     // the message has octets above 127
	UTF8       bool     // an address needs SMTPUTF8
}

// Prepare turns standard input into a submission the way sendmail -bm
// does:
//   - recipients are the command-line addresses plus, with -t, those of
//     To, Cc and Bcc (or of Resent-To, Resent-Cc and Resent-Bcc when any
//     of those is present); names without a domain get "@"+domain;
//   - Bcc and Resent-Bcc fields are removed;
//   - From, Date and Message-ID are added when missing; From uses the
//     envelope sender (-f, else login@domain) and the full name (-F, else
//     the user's name);
//   - every address is checked as an RFC 5321 mailbox.
func Prepare(o *Options, raw []byte, id Identity, domain, hostname string, now time.Time) (*Submission, error) {
	msg := ParseMessage(raw)
	var rcpts []string
	for _, r := range o.Recipients {
		list, err := ParseAddressList(r)
		if err != nil {
			return nil, &dataError{fmt.Sprintf("recipient %q: %v", r, err)}
		}
		rcpts = append(rcpts, list...)
	}
	if o.ExtractRecipients {
		names := []string{"To", "Cc", "Bcc"}
		if msg.Has("Resent-To") || msg.Has("Resent-Cc") || msg.Has("Resent-Bcc") {
			names = []string{"Resent-To", "Resent-Cc", "Resent-Bcc"}
		}
		for _, n := range names {
			for _, v := range msg.Values(n) {
				list, err := ParseAddressList(v)
				if err != nil {
					return nil, &dataError{fmt.Sprintf("%s: %v", n, err)}
				}
				rcpts = append(rcpts, list...)
			}
		}
	}
	msg.Remove("Bcc", "Resent-Bcc")

	sub := &Submission{}
	seen := map[string]bool{}
	for _, r := range rcpts {
		q := Qualify(r, domain)
		if q == "" || seen[strings.ToLower(q)] {
			continue
		}
		seen[strings.ToLower(q)] = true
		u8, err := checkMailbox(q)
		if err != nil {
			return nil, &dataError{"recipient " + err.Error()}
		}
		sub.UTF8 = sub.UTF8 || u8
		sub.Recipients = append(sub.Recipients, q)
	}
	if len(sub.Recipients) == 0 {
		if o.ExtractRecipients {
			return nil, &UsageError{Msg: "no recipients: none on the command line and none in To, Cc or Bcc"}
		}
		return nil, &UsageError{Msg: "no recipients given (name them as arguments, or use -t to read them from the header)"}
	}

	own := Qualify(id.Login, domain)
	sub.Sender = own
	if o.SenderSet {
		sub.Sender = Qualify(o.Sender, domain)
	}
	if sub.Sender != "" {
		u8, err := checkMailbox(sub.Sender)
		if err != nil {
			return nil, &dataError{"sender " + err.Error()}
		}
		sub.UTF8 = sub.UTF8 || u8
	}

	if !msg.Has("From") {
		from := sub.Sender
		if from == "" {
			from = own
		}
		name := o.FullName
		if name == "" {
			name = id.FullName
		}
		msg.Add("From", (&mail.Address{Name: name, Address: from}).String())
	}
	if !msg.Has("Date") {
		msg.Add("Date", now.Format(time.RFC1123Z))
	}
	if !msg.Has("Message-ID") {
		msg.Add("Message-ID", messageID(now, hostname))
	}
	sub.Data = msg.Bytes()
	sub.EightBit = has8bit(sub.Data)
	return sub, nil
}

// messageID returns a new "<time.random@host>" Message-ID (RFC 5322 §3.6.4).
func messageID(now time.Time, host string) string {
	b := make([]byte, 8)
	rand.Read(b)
	return fmt.Sprintf("<%s.%s@%s>", now.UTC().Format("20060102150405"), hex.EncodeToString(b), host)
}

// dataError is a problem with the message or an address (EX_DATAERR).
type dataError struct{ msg string }

// Error returns the explanation.
func (e *dataError) Error() string { return e.msg }
