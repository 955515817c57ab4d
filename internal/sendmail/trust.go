package sendmail

import (
	"fmt"
	"os"
	"os/user"
	"slices"
	"strconv"
	"strings"

	"postgate/internal/smtp"
)

// Trust is the local submission trust model, applied by the server to
// each MAIL FROM on the local socket using the peer's uid:
//
//   - root (uid 0), the server's own user, and the users listed in
//     TrustedUsers (login names or numeric uids) may use any envelope
//     sender, including the null sender <>;
//   - every other user's envelope sender is forced to login@Domain,
//     whatever they asked for with -f (the message is still accepted: a
//     cron job or a PHP site keeps working, and its bounces come back to
//     the account that really sent it).
//
// The From: header is not changed: like any SMTP client, a local user can
// write any header, and the Received: line names the uid.
type Trust struct {
	// TrustedUsers may set any envelope sender (config: sendmail.trusted_users).
	TrustedUsers []string
	// Domain qualifies login names (config: the user default domain).
	Domain string
	// ServerUID is the server's own uid, always trusted; the zero value
	// means os.Geteuid() at the time of the call.
	ServerUID *uint32
	// LookupLogin returns the login name of a uid; nil uses os/user.
	LookupLogin func(uid uint32) (string, error)
}

// AllowedSender returns the envelope sender to record for a local
// submission by uid that asked for requested ("" is the null sender). It
// has the signature of smtpserver.LocalSenderFunc. The result differs from
// requested when the sender was forced; "" means the null sender. An
// error (uid without a login name, or a login that is not a valid local
// part) refuses the transaction.
func (t *Trust) AllowedSender(uid uint32, requested string) (string, error) {
	login, lerr := t.login(uid)
	if t.Trusted(uid, login) {
		if requested == "" {
			return "", nil
		}
		return Qualify(requested, t.Domain), nil
	}
	if lerr != nil {
		return "", fmt.Errorf("uid %d has no user name; cannot choose a sender for it", uid)
	}
	own := smtp.Address{Local: login, Domain: t.Domain}.String()
	if _, err := smtp.ParseMailbox(own, true); err != nil {
		return "", fmt.Errorf("user name %q does not make a valid address", login)
	}
	return own, nil
}

// Trusted reports whether uid (with login name login, "" if unknown) may
// choose its envelope sender.
func (t *Trust) Trusted(uid uint32, login string) bool {
	server := uint32(os.Geteuid())
	if t.ServerUID != nil {
		server = *t.ServerUID
	}
	if uid == 0 || uid == server {
		return true
	}
	return slices.Contains(t.TrustedUsers, strconv.FormatUint(uint64(uid), 10)) ||
		login != "" && slices.Contains(t.TrustedUsers, login)
}

func (t *Trust) login(uid uint32) (string, error) {
	if t.LookupLogin != nil {
		return t.LookupLogin(uid)
	}
	u, err := user.LookupId(strconv.FormatUint(uint64(uid), 10))
	if err != nil {
		return "", err
	}
	return u.Username, nil
}

// CurrentIdentity returns the login and full name of the user running the
// command (the GECOS name up to its first comma).
func CurrentIdentity() (Identity, error) {
	u, err := user.Current()
	if err != nil {
		return Identity{}, err
	}
	name, _, _ := strings.Cut(u.Name, ",")
	return Identity{Login: u.Username, FullName: strings.TrimSpace(name)}, nil
}
