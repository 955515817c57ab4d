// Command postgate is the postgate mail server. One binary, several
// subcommands:
//
//	postgate serve [--config FILE]          run the server
//	postgate config example                 print a complete commented config
//	postgate config check FILE              validate a config file
//	postgate user add|passwd|del|list|senders manage users
//	postgate probe HOST[:PORT]              the auth doctor
//	postgate status                         summary of the running server
//	postgate sendmail, mailq, newaliases    the sendmail-compatible interface
//	postgate install-links DIR              links named sendmail, mailq, newaliases
//	postgate load                           the load generator
//
// Every subcommand takes --config FILE; without it the embedded defaults
// apply (listeners on 127.0.0.1:2525, :2587, :2465; data in ./postgate-data).
package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"postgate/internal/sendmail"
)

// Exit codes from sysexits.h.
const (
	exitOK       = 0
	exitUsage    = 64
	exitDataErr  = 65
	exitSoftware = 70
	exitOSErr    = 71
	exitConfig   = 78
	exitTempFail = 75
)

const usage = `postgate: a mail server

Usage:
  postgate serve [--config FILE]        run the server
  postgate config example               print a complete, commented configuration
  postgate config check FILE            validate a configuration file
  postgate user ...                     manage users (postgate user --help)
  postgate probe HOST[:PORT] [options]  test a server's TLS and every AUTH mechanism, explain failures
  postgate status [--json]              summary of the running server (admin socket)
  postgate sendmail [options] [rcpt...] sendmail-compatible submission (also: mailq, newaliases)
  postgate install-links DIR            create sendmail, mailq, newaliases links to this binary
  postgate load [options]               measure an SMTP server's durable accept rate
  postgate help                         this text

Every subcommand takes --config FILE; without it the embedded defaults apply.
Run 'postgate <command> --help' for a command's options and examples.
`

func main() {
	// Invoked as sendmail, mailq or newaliases through a link.
	if prog := sendmail.ProgramName(os.Args[0]); prog != "" {
		os.Exit(runSendmail(prog, os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run dispatches a subcommand and returns the process exit code.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		return runServe(rest, stdout, stderr)
	case "config":
		return runConfig(rest, stdout, stderr)
	case "user":
		cfg, rest, code := loadConfigArg(rest, stderr)
		if cfg == nil {
			return code
		}
		return runUser(cfg, rest, stdin, stdout, stderr)
	case "load":
		return runLoad(rest, stdout, stderr)
	case "probe":
		return runProbe(rest, stdin, stdout, stderr)
	case "status":
		return runStatus(rest, stdout, stderr)
	case "sendmail", "mailq", "newaliases":
		return runSendmail(cmd, rest, stdin, stdout, stderr)
	case "install-links":
		return runInstallLinks(rest, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	fmt.Fprintf(stderr, "postgate: unknown command %q\n\n%s", cmd, usage)
	return exitUsage
}

// splitConfigFlag removes "--config FILE" / "--config=FILE" (or -config)
// from args, wherever it stands, and returns the file and the other args.
func splitConfigFlag(args []string) (file string, rest []string, err error) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		name, val, hasVal := strings.Cut(a, "=")
		if name != "--config" && name != "-config" {
			rest = append(rest, a)
			continue
		}
		if hasVal {
			file = val
			continue
		}
		if i+1 >= len(args) {
			return "", nil, fmt.Errorf("--config needs a file name")
		}
		file = args[i+1]
		i++
	}
	return file, rest, nil
}
