package test

import (
	"strings"
	"testing"
)

// smtplibScript sends one message with Python's smtplib. Arguments: mode
// (starttls, ssl or plain), host, port, user, password, mechanism ("auto"
// lets login() choose: CRAM-MD5, then PLAIN, then LOGIN, as advertised),
// from, to, marker. Exit status 3 and "AUTH-FAILED <code>" on an
// authentication failure. The debug output (stderr) shows the exchange.
const smtplibScript = `
import smtplib, ssl, sys
from email.message import EmailMessage
mode, host, port, user, pw, mech, frm, to, marker = sys.argv[1:]
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
if mode == "ssl":
    s = smtplib.SMTP_SSL(host, int(port), context=ctx, timeout=30)
else:
    s = smtplib.SMTP(host, int(port), timeout=30)
s.set_debuglevel(1)
s.ehlo()
if mode == "starttls":
    s.starttls(context=ctx)
    s.ehlo()
print("AUTH-ADVERTISED", s.esmtp_features.get("auth"), flush=True)
try:
    if mech == "auto":
        s.login(user, pw)
    else:
        s.user, s.password = user, pw
        s.auth(mech, getattr(s, "auth_" + mech.lower().replace("-", "_")))
except smtplib.SMTPAuthenticationError as e:
    print("AUTH-FAILED", e.smtp_code, e.smtp_error.decode(), flush=True)
    sys.exit(3)
m = EmailMessage()
m["From"] = frm
m["To"] = to
m["Subject"] = "e2e " + marker
m.set_content("Body of " + marker)
s.send_message(m)
s.quit()
print("SENT", flush=True)
`

func smtplibSend(t *testing.T, mode, addr, password, mech, marker string) clientRun {
	t.Helper()
	host, port, _ := strings.Cut(addr, ":")
	return runClient(t, "python3", "", "-c", smtplibScript, mode, host, port, alice.Addr, password, mech,
		alice.Addr, bob.Addr, marker)
}

// TestPythonSmtplib: Python's smtplib, with starttls() on submission and
// SMTP_SSL on submissions. login() picks CRAM-MD5 (first in its
// preference and offered here); explicit auth() calls exercise PLAIN, and
// LOGIN with the initial response Python sends ("AUTH LOGIN <user>").
// send_message delivers; a wrong password raises SMTPAuthenticationError
// with 535.
func TestPythonSmtplib(t *testing.T) {
	t.Parallel()
	s := startServer(t, serverOpts{})
	tests := []struct {
		name, mode, listener, mech string
		sent                       string // the AUTH command smtplib must send
	}{
		{"login STARTTLS", "starttls", "submission", "auto", "AUTH CRAM-MD5"},
		{"login SMTP_SSL", "ssl", "submissions", "auto", "AUTH CRAM-MD5"},
		{"PLAIN STARTTLS", "starttls", "submission", "PLAIN", "AUTH PLAIN "},
		{"LOGIN SMTP_SSL", "ssl", "submissions", "LOGIN", "AUTH LOGIN "},
		{"CRAM-MD5 without TLS", "plain", "submission", "CRAM-MD5", "AUTH CRAM-MD5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			marker := newMarker(t)
			r := smtplibSend(t, tt.mode, s.addr[tt.listener], alice.Password, tt.mech, marker)
			r.mustSucceed(t, tt.sent, "reply: retcode (235)", "SENT")
			s.waitForMail(bob, marker)

			bad := smtplibSend(t, tt.mode, s.addr[tt.listener], wrongPassword, tt.mech, newMarker(t))
			bad.mustFail(t, "reply: retcode (535)", "AUTH-FAILED 535")
			if bad.Code != 3 {
				t.Errorf("exit status %d, want 3 (SMTPAuthenticationError)", bad.Code)
			}
		})
	}
}
