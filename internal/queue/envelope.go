package queue

import (
	"encoding/json"
	"fmt"
	"time"
)

// Recipient states. A recipient starts StatusPending; delivery moves it to
// StatusDelivered or StatusFailed.
const (
	StatusPending   = "pending"
	StatusDelivered = "delivered"
	StatusFailed    = "failed"
)

// Envelope is what SMTP learned about a message besides its content.
type Envelope struct {
	ID         string      `json:"id"`                    // assigned by the spool, unique, sortable by time, safe as a file name
	From       string      `json:"from"`                  // reverse-path without <>, "" for the null sender
	Recipients []Recipient `json:"recipients"`            // in RCPT order
	Received   time.Time   `json:"received"`              // when the message was accepted
	ClientAddr string      `json:"client_addr,omitempty"` // IP of the SMTP client, "" for local submission
	Helo       string      `json:"helo,omitempty"`        // EHLO/HELO argument
	AuthUser   string      `json:"auth_user,omitempty"`   // authenticated user, "" if none
	MailAuth   string      `json:"mail_auth,omitempty"`   // MAIL FROM AUTH= value (RFC 4954 §5), "" or "<>" if not trusted
	Body       string      `json:"body,omitempty"`        // "7BIT", "8BITMIME", "BINARYMIME"
	SMTPUTF8   bool        `json:"smtputf8,omitempty"`    // RFC 6531
	Size       int64       `json:"size"`                  // message size in octets as spooled (set by Commit)
	Ret        string      `json:"ret,omitempty"`         // DSN RET (RFC 3461): "FULL", "HDRS" or ""
	EnvID      string      `json:"envid,omitempty"`       // decoded DSN ENVID, "" if none
	DeliverBy  *DeliverBy  `json:"deliver_by,omitempty"`  // RFC 2852, nil if not requested
}

// Recipient is one forward-path of a message with its delivery state.
type Recipient struct {
	Addr   string   `json:"addr"`             // forward-path without <>
	Notify []string `json:"notify,omitempty"` // "NEVER" or any of "SUCCESS","FAILURE","DELAY"; nil if not given
	ORCPT  string   `json:"orcpt,omitempty"`  // "rfc822;addr" decoded, "" if none

	// Delivery state, maintained by the queue's users.
	Status      string    `json:"status"`                // StatusPending, StatusDelivered, StatusFailed
	Attempts    int       `json:"attempts,omitempty"`    // delivery attempts made so far
	LastError   string    `json:"last_error,omitempty"`  // reply or error text of the last failed attempt
	NextAttempt time.Time `json:"next_attempt,omitzero"` // earliest time of the next attempt; zero means now
}

// DeliverBy is the RFC 2852 BY= parameter, resolved to an absolute time.
type DeliverBy struct {
	Deadline time.Time `json:"deadline"`
	Mode     string    `json:"mode"` // "R" (return) or "N" (notify)
	Trace    bool      `json:"trace,omitempty"`
}

// Pending reports whether any recipient is still StatusPending.
func (e *Envelope) Pending() bool {
	for _, r := range e.Recipients {
		if r.Status == StatusPending {
			return true
		}
	}
	return false
}

// envelopeVersion is the version of the on-disk envelope encoding. Readers
// refuse versions they do not know rather than guess.
const envelopeVersion = 1

// envelopeFile is the on-disk form: the envelope with a version field.
type envelopeFile struct {
	Version int `json:"version"`
	*Envelope
}

func encodeEnvelope(env *Envelope) ([]byte, error) {
	b, err := json.Marshal(envelopeFile{Version: envelopeVersion, Envelope: env})
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

func decodeEnvelope(b []byte) (*Envelope, error) {
	f := envelopeFile{Envelope: new(Envelope)}
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("queue: decoding envelope: %w", err)
	}
	if f.Version != envelopeVersion {
		return nil, fmt.Errorf("queue: envelope version %d not supported (want %d)", f.Version, envelopeVersion)
	}
	return f.Envelope, nil
}
