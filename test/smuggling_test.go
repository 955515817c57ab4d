package test

import (
	"strings"
	"testing"
)

// TestBareLineEndingsRefused sends, over a raw connection, message text
// in which a bare LF or bare CR forms a fake end of data followed by a
// second, smuggled transaction (the 2023 SMTP smuggling attacks). For
// each variant the server must never accept anything: no 250 after the
// 354, the smuggled MAIL is never answered as a command, and the reply
// is the one documented for the variant:
//   - "<LF>.<LF>" (the client believes data ended): 421 4.5.0 and close;
//   - any other bare CR or LF: the whole text up to the real
//     "<CRLF>.<CRLF>" is one refused message, 554 5.6.0, and the session
//     continues.
func TestBareLineEndingsRefused(t *testing.T) {
	t.Parallel()
	s := startServer(t, serverOpts{})
	smuggle := "MAIL FROM:<evil@remote.test>\r\nRCPT TO:<" + bob.Addr + ">\r\nDATA\r\nSubject: smuggled\r\n\r\nsmuggled\r\n"
	tests := []struct {
		name     string
		fakeEnd  string
		code     int
		enhanced string
		// afterQuit: the session stays open and QUIT sent after the
		// payload is answered.
		afterQuit bool
	}{
		{"LF.LF", "\n.\n", 421, "4.5.0", false},
		{"CRLF.LF", "\r\n.\n", 554, "5.6.0", true},
		{"LF.CRLF", "\n.\r\n", 554, "5.6.0", true},
		{"CR.CR", "\r.\r", 554, "5.6.0", true},
		{"CR.CRLF", "\r.\r\n", 554, "5.6.0", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := dialRaw(t, s.addr["smtp"], false)
			c.expect("EHLO client.remote.test", 250, "")
			c.expect("MAIL FROM:<sender@remote.test>", 250, "2.1.0")
			c.expect("RCPT TO:<"+bob.Addr+">", 250, "2.1.5")
			c.expect("DATA", 354, "")
			payload := "Subject: outer\r\n\r\nhello" + tt.fakeEnd + smuggle + ".\r\n"
			if tt.afterQuit {
				payload += "QUIT\r\n"
			}
			c.send(payload)
			replies := c.readAll()
			if len(replies) == 0 {
				t.Fatalf("no reply after the message text")
			}
			for _, r := range replies {
				if r.Code == 250 || r.Code == 354 {
					t.Errorf("reply %v: the smuggled transaction was processed (all replies: %v)", r, replies)
				}
			}
			first := replies[0]
			if first.Code != tt.code || !strings.HasPrefix(first.Text, tt.enhanced) {
				t.Errorf("reply to the message text: %v, want %d %s", first, tt.code, tt.enhanced)
			}
			if tt.afterQuit {
				if last := replies[len(replies)-1]; len(replies) != 2 || last.Code != 221 {
					t.Errorf("replies %v, want the refusal then 221 to QUIT", replies)
				}
			} else if len(replies) != 1 {
				t.Errorf("replies %v, want only the refusal before the server closes", replies)
			}
		})
	}
}
