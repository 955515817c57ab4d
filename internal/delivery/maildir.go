package delivery

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"postgate/internal/fsutil"
	"postgate/internal/queue"
	"postgate/internal/smtp"
)

// Maildir delivers into <Root>/<domain>/<local-part>/{tmp,new,cur}.
type Maildir struct {
	Root     string // the mail root, e.g. data_dir/mail
	Hostname string // this host's name, used in Maildir file names
}

// Replies for Maildir failures. The reply text is what a DSN will show,
// so it names no path; the cause is wrapped in the error for the log.
var (
	replyBadMailbox = smtp.R(550, "5.1.1", "Mailbox name not allowed")
	replyBadDomain  = smtp.R(550, "5.1.2", "Destination domain name not allowed")
	replyBadAddress = smtp.R(550, "5.1.3", "Malformed recipient address")
	replyDiskFull   = smtp.R(452, "4.3.1", "Insufficient system storage")
	replyQuota      = smtp.R(452, "4.2.2", "Mailbox full")
	replyLocalError = smtp.R(451, "4.3.0", "Local error in delivery to mailbox")
)

// Mailbox returns the directory of rcpt's Maildir, or a permanent
// *smtp.Error when the address cannot name a safe path.
func (m *Maildir) Mailbox(rcpt string) (string, error) {
	addr, err := smtp.ParseMailbox(rcpt, true)
	if err != nil {
		return "", smtp.Wrap(replyBadAddress, err)
	}
	domain := strings.ToLower(addr.Domain)
	if err := checkPathElem(domain); err != nil {
		return "", smtp.Wrap(replyBadDomain, err)
	}
	if err := checkPathElem(addr.Local); err != nil {
		return "", smtp.Wrap(replyBadMailbox, err)
	}
	return filepath.Join(m.Root, domain, addr.Local), nil
}

// checkPathElem refuses a string that would not stay one plain directory
// entry: empty, ".", "..", a leading "." (hidden, and Maildir++ folders),
// "/" or NUL. All other bytes are kept.
func checkPathElem(s string) error {
	switch {
	case s == "":
		return errors.New("empty name")
	case strings.HasPrefix(s, "."):
		return fmt.Errorf("name %q starts with a dot", s)
	case strings.ContainsAny(s, "/\x00"):
		return fmt.Errorf("name %q contains '/' or NUL", s)
	}
	return nil
}

// Deliver stores msg for rcpt: it writes a Return-Path and Delivered-To
// header and the message to tmp/<unique>, fsyncs it, links it into
// new/<unique> and fsyncs new/. Line endings become LF as is usual for
// Maildir, except for BODY=BINARYMIME messages, which are stored exactly
// as received (CRLF). Errors are *smtp.Error: 5.1.x when the address
// cannot be a mailbox, 4.x.x for storage trouble.
func (m *Maildir) Deliver(rcpt string, env *queue.Envelope, msg io.Reader) error {
	box, err := m.Mailbox(rcpt)
	if err != nil {
		return err
	}
	for _, sub := range []string{"tmp", "new", "cur"} {
		if err := mkdirDurable(m.Root, filepath.Join(box, sub)); err != nil {
			return storageError(err)
		}
	}
	name := m.uniqueName()
	tmp := filepath.Join(box, "tmp", name)
	if err := writeMessage(tmp, rcpt, env, msg); err != nil {
		os.Remove(tmp)
		return storageError(err)
	}
	defer os.Remove(tmp) // after the link it is only a second name
	newDir := filepath.Join(box, "new")
	if err := os.Link(tmp, filepath.Join(newDir, name)); err != nil {
		return storageError(err)
	}
	if err := fsutil.SyncDir(newDir); err != nil {
		return storageError(err)
	}
	return nil
}

// writeMessage creates path and writes the delivered form of the message.
func writeMessage(path, rcpt string, env *queue.Envelope, msg io.Reader) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	bw := bufio.NewWriterSize(f, 64<<10)
	eol := "\n"
	var body io.Writer = &crlfToLF{w: bw}
	if env.Body == "BINARYMIME" {
		eol, body = "\r\n", bw
	}
	// RFC 5321 §4.4: final delivery records the reverse-path.
	// Both values were checked by the SMTP server; dropping CR and LF here
	// keeps a bad envelope from ever injecting a header.
	noEOL := strings.NewReplacer("\r", "", "\n", "")
	fmt.Fprintf(bw, "Return-Path: <%s>%s", noEOL.Replace(env.From), eol)
	fmt.Fprintf(bw, "Delivered-To: %s%s", noEOL.Replace(rcpt), eol)
	if _, err := io.Copy(body, msg); err != nil {
		return err
	}
	if c, ok := body.(*crlfToLF); ok {
		if err := c.Close(); err != nil {
			return err
		}
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	return f.Close()
}

// storageError maps a file-system error to the reply it becomes.
func storageError(err error) error {
	switch {
	case errors.Is(err, syscall.ENOSPC):
		return smtp.Wrap(replyDiskFull, err)
	case errors.Is(err, syscall.EDQUOT):
		return smtp.Wrap(replyQuota, err)
	}
	return smtp.Wrap(replyLocalError, err)
}

var (
	deliverySeq atomic.Uint64
	pid         = os.Getpid()
)

// uniqueName returns a Maildir file name "<seconds>.<unique>.<host>"
// where <unique> is M<microseconds>P<pid>Q<sequence>R<random>, as the
// Maildir specification recommends, and "/" and ":" in the host name are
// written as \057 and \072.
func (m *Maildir) uniqueName() string {
	now := time.Now()
	var r [8]byte
	rand.Read(r[:])
	host := m.Hostname
	if host == "" {
		host = "localhost"
	}
	host = strings.NewReplacer("/", `\057`, ":", `\072`).Replace(host)
	return strconv.FormatInt(now.Unix(), 10) +
		fmt.Sprintf(".M%dP%dQ%dR%s.", now.Nanosecond()/1000, pid, deliverySeq.Add(1), hex.EncodeToString(r[:])) +
		host
}

// mkdirDurable creates dir (0700) and any missing parents below root,
// fsyncing each parent in which it created an entry, so a mailbox created
// for a delivery survives a crash along with the message in it.
func mkdirDurable(root, dir string) error {
	if _, err := os.Stat(dir); err == nil {
		return nil
	}
	parent := filepath.Dir(dir)
	if dir == root || parent == dir {
		return os.MkdirAll(dir, 0o700)
	}
	if err := mkdirDurable(root, parent); err != nil {
		return err
	}
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	return fsutil.SyncDir(parent)
}
