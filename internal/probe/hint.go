package probe

import (
	"errors"
	"fmt"
	"strings"

	"postgate/internal/sasl"
	"postgate/internal/smtp"
	"postgate/internal/smtpclient"
)

// diagnose sets each failed result's Reason and Hint. It runs after every
// mechanism was tried, because a failure means something else when the
// same password worked with another mechanism.
func diagnose(rep *Report) {
	var worked []string
	for _, r := range rep.Results {
		if r.Outcome == OK {
			worked = append(worked, r.Mechanism)
		}
	}
	startTLSOffered := hasKeyword(rep.EhloBeforeTLS, "STARTTLS")
	for i := range rep.Results {
		r := &rep.Results[i]
		switch r.Outcome {
		case OK, Skipped, Errored:
			continue
		case Refused:
			r.Reason = "bogus login refused: " + r.Reply
			continue
		case Accepted:
			r.Reason = "the server accepted a random user and password"
			r.Hint = "the server's " + r.Mechanism + " lets anyone in: disable it and check the server's SASL configuration"
			if errors.Is(r.err, smtpclient.ErrNoServerProof) {
				r.Hint += " (it did not even send the server proof the mechanism requires)"
			}
			continue
		}
		r.Reason, r.Hint = explain(rep, r, worked, startTLSOffered)
		r.Reason, r.Hint = clean(r.Reason), clean(r.Hint)
	}
}

func hasKeyword(lines []string, kw string) bool {
	for _, l := range lines {
		if k, _, _ := strings.Cut(l, " "); strings.EqualFold(k, kw) {
			return true
		}
	}
	return false
}

// explain returns the reason and the hint for a failed attempt.
func explain(rep *Report, r *Result, worked []string, startTLSOffered bool) (reason, hint string) {
	var se *smtp.Error
	var me *smtpclient.MechanismError
	var sa *sasl.Error
	switch {
	case errors.Is(r.err, smtpclient.ErrNoServerProof):
		return "the server accepted the login without proving it knows the password (no rspauth or v=)",
			"a server offering " + r.Mechanism + " must prove the password; this one is broken or an impostor"
	case errors.As(r.err, &me):
		reason = "client side: " + me.Err.Error()
		if r.Reply != "" {
			reason += "; server answered the cancellation with " + r.Reply
		}
		if errors.As(me.Err, &sa) {
			switch {
			case strings.Contains(sa.Reason, "channel binding"):
				hint = r.Mechanism + " needs TLS channel binding: use --starttls or --tls"
			case strings.Contains(sa.Reason, "signature mismatch"), strings.Contains(sa.Reason, "rspauth is wrong"):
				hint = "the server could not prove it knows the password: it holds a different secret for this user, or something between you and it answers in its name"
			case strings.Contains(sa.Reason, "server rejected"):
				hint = "the server rejected the exchange inside the mechanism"
			case sa.Kind == sasl.Malformed:
				hint = "the server's challenge does not follow the mechanism's specification"
			}
		}
		if hint == "" && strings.HasSuffix(r.Mechanism, "-PLUS") && !r.tls {
			hint = r.Mechanism + " needs TLS channel binding: use --starttls or --tls"
		}
		return reason, hint
	case errors.As(r.err, &se):
		// handled below
	case r.err != nil:
		return "connection: " + r.err.Error(), "the server closed or stalled the connection during AUTH"
	}

	reply := se.Reply
	reason = "server answered " + r.Reply
	plaintext := r.Mechanism == sasl.Plain || r.Mechanism == sasl.Login
	other := ""
	for _, w := range worked {
		if w != r.Mechanism {
			other = w
			break
		}
	}
	switch {
	case plaintext && !r.tls && reply.Code != 535:
		if startTLSOffered {
			hint = r.Mechanism + " refused before TLS: use --starttls"
		} else {
			hint = r.Mechanism + " refused without TLS: use --tls (port 465) or a server that offers STARTTLS"
		}
	case reply.Code == 504 || reply.Enhanced == "5.5.4":
		if r.Advertised() {
			hint = "advertised but refused as unknown: the server offers a mechanism its SASL layer cannot run"
		} else {
			hint = "not advertised, and the server does not accept it"
		}
	case reply.Code == 534 || reply.Enhanced == "5.7.9":
		hint = "the server's policy considers " + r.Mechanism + " too weak"
	case reply.Code == 538 || reply.Enhanced == "5.7.11":
		hint = r.Mechanism + " needs an encrypted connection: use --starttls or --tls"
	case reply.Code == 421:
		hint = "the server closed the connection: too many failures, or a lockout of your address or user"
	case reply.Code == 454 || reply.Code/100 == 4:
		hint = "temporary failure on the server (credential store, or a lockout after failures): try again later"
	case reply.Code == 535 || reply.Code/100 == 5:
		hint = wrongSecretHint(r, other)
	}
	if r.Mechanism == sasl.DigestMD5 {
		if d := digestFacts(r); d != "" {
			if hint != "" {
				hint = d + "; " + hint
			} else {
				hint = d
			}
		}
	}
	return reason, hint
}

// wrongSecretHint explains a credentials refusal: a wrong password when
// nothing worked, otherwise a secret the server lacks for this mechanism.
func wrongSecretHint(r *Result, other string) string {
	if other == "" {
		return "wrong user name or password (no mechanism accepted them)"
	}
	works := "the password is right (" + other + " worked)"
	switch {
	case r.Mechanism == sasl.DigestMD5:
		return works + ", so the server has no DIGEST-MD5 secret for this user in that realm, or rejects the digest-uri: try HOST as the server's own name, or set the user's password again on the server"
	case r.Mechanism == sasl.CRAMMD5:
		return works + ", so the server holds no CRAM-MD5 secret for this user (the password is stored only as a one-way hash, or was set before CRAM-MD5 was enabled)"
	case strings.HasSuffix(r.Mechanism, "-PLUS"):
		return works + ", so the server rejects the channel binding (" + bindingName(r) + ") or has no SCRAM keys for this user"
	case strings.HasPrefix(r.Mechanism, "SCRAM-"):
		return works + ", so the server has no usable " + r.Mechanism + " secret for this user (the password is stored in a form SCRAM cannot use, was set before " + r.Mechanism + " was enabled, or was normalised differently)"
	}
	return works + ", but not with " + r.Mechanism + ": the server applies a per-mechanism policy"
}

func bindingName(r *Result) string {
	for _, s := range r.Transcript {
		if s.Dir == "C" && strings.Contains(s.Text, "p=tls-exporter") {
			return "tls-exporter"
		}
		if s.Dir == "C" && strings.Contains(s.Text, "p=tls-unique") {
			return "tls-unique"
		}
	}
	return "channel binding"
}

// digestFacts states what DIGEST-MD5 depends on: the realms the server
// offered and the digest-uri sent, e.g. "server realm is
// mail.example.com; digest-uri sent smtp/10.0.0.5".
func digestFacts(r *Result) string {
	var realms []string
	var uri, realmSent string
	for _, s := range r.Transcript {
		text := strings.TrimPrefix(s.Text, "AUTH DIGEST-MD5")
		for _, d := range smtpclient.Directives(text) {
			switch {
			case s.Dir == "S" && d.Name == "realm":
				realms = append(realms, d.Value)
			case s.Dir == "C" && d.Name == "digest-uri":
				uri = d.Value
			case s.Dir == "C" && d.Name == "realm":
				realmSent = d.Value
			}
		}
	}
	var parts []string
	switch len(realms) {
	case 0:
		if uri != "" {
			parts = append(parts, "server offered no realm")
		}
	case 1:
		parts = append(parts, "server realm is "+realms[0])
	default:
		parts = append(parts, fmt.Sprintf("server realms are %s (sent %s)", strings.Join(realms, ", "), realmSent))
	}
	if uri != "" {
		parts = append(parts, "digest-uri sent "+uri)
	}
	return strings.Join(parts, "; ")
}

// recommend picks the most secure mechanism that worked and the
// advertised ones a client would choose and fail on.
func recommend(rep *Report) Recommendation {
	var rec Recommendation
	for _, r := range rep.Results {
		if r.Outcome == OK && rec.Best == "" {
			rec.Best = r.Mechanism // Results are strongest first
		}
	}
	for _, r := range rep.Results {
		if r.Advertised() && (r.Outcome == Failed || r.Outcome == Errored) {
			rec.WouldFail = append(rec.WouldFail, r.Mechanism)
		}
	}
	switch {
	case !rep.Credentials:
		accepted := 0
		for _, r := range rep.Results {
			if r.Outcome == Accepted {
				accepted++
				rec.Lines = append(rec.Lines, "DANGER: "+r.Mechanism+" accepted a random user and password")
			}
		}
		if accepted == 0 {
			rec.Lines = append(rec.Lines, "a bogus login was refused by every mechanism tried; give --user to test real credentials")
		}
	case rec.Best != "":
		rec.Lines = append(rec.Lines, "use "+rec.Best+": the most secure mechanism that worked")
	default:
		rec.Lines = append(rec.Lines, "no mechanism worked with these credentials")
	}
	for _, m := range rec.WouldFail {
		if rec.Best != "" && strength(m) < strength(rec.Best) {
			rec.Lines = append(rec.Lines, fmt.Sprintf("%s is advertised and stronger than %s but fails: a client that supports it picks it and does not fall back; fix it on the server or configure clients to use %s",
				m, rec.Best, rec.Best))
		} else {
			rec.Lines = append(rec.Lines, m+" is advertised but fails: clients that pick it cannot log in")
		}
	}
	return rec
}
