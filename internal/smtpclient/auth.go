package smtpclient

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"postgate/internal/sasl"
	"postgate/internal/smtp"
)

// AuthStep is one message of an AUTH exchange as recorded in a transcript.
type AuthStep struct {
	// Dir is "C" for the client, "S" for the server.
	Dir string `json:"dir"`
	// Code is the server's reply code (334, 235, 535...); 0 for the client.
	Code int `json:"code,omitempty"`
	// Text is, for a 334 challenge, the decoded challenge; for another
	// server reply, its enhanced code and text; for the client, the
	// decoded response with its secrets replaced by Redacted ("" for an
	// empty response, "*" for a cancellation). The AUTH command itself is
	// recorded as "AUTH MECH" followed by the redacted initial response.
	Text string `json:"text"`
}

// AuthResult describes an AUTH exchange, successful or not.
type AuthResult struct {
	// Mechanism is the mechanism used.
	Mechanism string `json:"mechanism"`
	// Reply is the server's final reply (235 on success); zero when the
	// exchange broke off before one.
	Reply smtp.Reply `json:"reply"`
	// Transcript is the exchange, secrets redacted.
	Transcript []AuthStep `json:"transcript"`
	// RoundTrips counts the lines the client sent (the AUTH command and
	// each response), each of which waits for a server reply.
	RoundTrips int `json:"round_trips"`
	// Duration is the time from the AUTH command to the final reply.
	Duration time.Duration `json:"duration_ns"`
	// ServerVerified reports that the mechanism checked the server's
	// proof of the password (DIGEST-MD5 rspauth, SCRAM v=).
	ServerVerified bool `json:"server_verified"`
}

// ErrNoServerProof is returned when the server accepted a mechanism that
// promises mutual authentication without proving that it knows the
// password: it may be an impostor that accepts anything.
var ErrNoServerProof = errors.New("server accepted without proving knowledge of the password (no rspauth or v=)")

// MechanismError is a failure of the client side of the mechanism (the
// server's challenge did not parse, its proof was wrong, channel binding
// data was missing). The exchange was cancelled with "*".
type MechanismError struct {
	Mechanism string
	// Err is usually a *sasl.Error.
	Err error
	// Reply is the server's answer to the cancellation, if one came.
	Reply smtp.Reply
}

func (e *MechanismError) Error() string { return e.Mechanism + ": " + e.Err.Error() }

func (e *MechanismError) Unwrap() error { return e.Err }

// mutual lists the mechanisms whose server must prove the password.
func mutual(mech string) bool {
	return mech == sasl.DigestMD5 || strings.HasPrefix(mech, "SCRAM-")
}

// Auth runs an RFC 4954 exchange driven by m. The mechanism's initial
// response, when it has one, goes on the AUTH line ("=" when empty); each
// 334 challenge is decoded and answered; a final 334 with the server's
// proof is verified by m, which then gives the empty response. The result
// is returned with a transcript whether or not the exchange succeeded.
// A refusal is an *smtp.Error, a failure on the client side a
// *MechanismError, a missing server proof ErrNoServerProof.
func (c *Client) Auth(m sasl.Client) (*AuthResult, error) {
	start := time.Now()
	mech, initial, err := m.Start()
	res := &AuthResult{Mechanism: mech}
	defer func() { res.Duration = time.Since(start) }()
	if err != nil {
		return res, &MechanismError{Mechanism: mech, Err: err}
	}
	c.authMech = mech
	defer func() { c.authMech = "" }()

	line, shown := "AUTH "+mech, "AUTH "+mech
	if initial != nil {
		enc := "="
		if len(initial) > 0 {
			enc = base64.StdEncoding.EncodeToString(initial)
		}
		line += " " + enc
		shown += " " + redactClient(mech, initial)
	}
	res.Transcript = append(res.Transcript, AuthStep{Dir: "C", Text: shown})
	res.RoundTrips++
	r, err := c.cmdTraced(0, line, shown)
	for err == nil {
		if r.Code != 334 {
			res.Reply = r
			res.Transcript = append(res.Transcript, AuthStep{Dir: "S", Code: r.Code, Text: replyText(r)})
			break
		}
		challenge, derr := base64.StdEncoding.DecodeString(strings.TrimSpace(r.Text))
		if derr != nil {
			res.Transcript = append(res.Transcript, AuthStep{Dir: "S", Code: 334, Text: printable(r.Text)})
			return res, c.cancelAuth(res, mech, fmt.Errorf("challenge is not base64: %w", derr))
		}
		res.Transcript = append(res.Transcript, AuthStep{Dir: "S", Code: 334, Text: redactServer(mech, challenge)})
		final := isServerFinal(mech, challenge)
		resp, merr := m.Next(challenge)
		if merr != nil {
			return res, c.cancelAuth(res, mech, merr)
		}
		if final {
			res.ServerVerified = true
		}
		enc, redacted := base64.StdEncoding.EncodeToString(resp), redactClient(mech, resp)
		res.Transcript = append(res.Transcript, AuthStep{Dir: "C", Text: redacted})
		res.RoundTrips++
		r, err = c.cmdTraced(0, enc, redacted)
	}
	if err != nil {
		return res, err
	}
	if r.Code != 235 {
		return res, &smtp.Error{Reply: r}
	}
	if mutual(mech) && !res.ServerVerified {
		return res, ErrNoServerProof
	}
	return res, nil
}

// cancelAuth sends "*" (RFC 4954 §4) after a client-side failure and
// reads the server's reply.
func (c *Client) cancelAuth(res *AuthResult, mech string, cause error) error {
	merr := &MechanismError{Mechanism: mech, Err: cause}
	res.Transcript = append(res.Transcript, AuthStep{Dir: "C", Text: "*"})
	res.RoundTrips++
	r, err := c.cmdTraced(0, "*", "*")
	if err == nil {
		merr.Reply = r
		res.Reply = r
		res.Transcript = append(res.Transcript, AuthStep{Dir: "S", Code: r.Code, Text: replyText(r)})
	}
	return merr
}

// isServerFinal recognises the server's proof message.
func isServerFinal(mech string, challenge []byte) bool {
	s := string(challenge)
	switch {
	case mech == sasl.DigestMD5:
		for _, d := range Directives(s) {
			if d.Name == "rspauth" {
				return true
			}
		}
	case strings.HasPrefix(mech, "SCRAM-"):
		return strings.HasPrefix(s, "v=") || strings.HasPrefix(s, "e=")
	}
	return false
}

// replyText renders a reply's enhanced code and text on one line.
func replyText(r smtp.Reply) string {
	t := strings.ReplaceAll(r.Text, "\n", " / ")
	if r.Enhanced != "" {
		t = r.Enhanced + " " + t
	}
	return printable(t)
}
