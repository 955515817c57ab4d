package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"

	"postgate/internal/status"
)

const statusUsage = `NAME
  postgate status - show what a running postgate server is doing

SYNOPSIS
  postgate status [--config FILE] [--json]

DESCRIPTION
  Asks the running server over its admin socket (DATA_DIR/admin.sock, for
  root and the server's user only) and prints:
    - the host name, process id and uptime;
    - every listener and its address;
    - the queue: messages, total size, age of the oldest, and recipients
      by state (pending, deferred = tried and failed temporarily, failed,
      delivered);
    - recent authentication failures grouped by client address and reason
      class (unknown_user, wrong_password, malformed, ...), with the
      mechanisms and user names tried.
  Tables are aligned; colour is used only on a terminal and never when
  NO_COLOR is set.

OPTIONS
  --config FILE   configuration of the server to ask, for its data_dir
                  (default: $POSTGATE_CONFIG, else /etc/postgate.toml if it
                  exists, else the built-in defaults)
  --json          print the full report as JSON (for scripts and monitoring)
  --help          this text

EXIT STATUS
  0   report printed
  64  usage error
  75  the server is not running
  77  permission denied (not root or the server's user)
  78  bad configuration file

EXAMPLES
  postgate status
  sudo -u postgate postgate status --config /etc/postgate.toml
  postgate status --json | jq '.queue.messages'
`

// Further sysexits.h code used by `postgate status`.
const exitNoPerm = 77

// runStatus is `postgate status [--json]`.
func runStatus(args []string, stdout, stderr io.Writer) int {
	file, rest, err := splitConfigFlag(args)
	if err != nil {
		fmt.Fprintf(stderr, "postgate status: %v\n", err)
		return exitUsage
	}
	fset := flag.NewFlagSet("status", flag.ContinueOnError)
	fset.SetOutput(stderr)
	fset.Usage = func() {}
	asJSON := fset.Bool("json", false, "")
	if err := fset.Parse(rest); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, statusUsage)
			return exitOK
		}
		fmt.Fprintf(stderr, "\n%s", statusUsage)
		return exitUsage
	}
	if fset.NArg() > 0 {
		fmt.Fprintf(stderr, "postgate status: unexpected argument %q\n\n%s", fset.Arg(0), statusUsage)
		return exitUsage
	}
	cfg, err := localConfig(file)
	if err != nil {
		fmt.Fprintf(stderr, "postgate status: %v\n", err)
		return exitConfig
	}
	snap, err := status.NewClient(cfg.Path(adminSocketName)).Status(context.Background())
	switch {
	case errors.Is(err, status.ErrNotRunning):
		fmt.Fprintf(stderr, "postgate status: %v\n", err)
		return exitTempFail
	case errors.Is(err, status.ErrPermission):
		fmt.Fprintf(stderr, "postgate status: %v\n", err)
		return exitNoPerm
	case err != nil:
		fmt.Fprintf(stderr, "postgate status: %v\n", err)
		return exitSoftware
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(snap); err != nil {
			return exitOSErr
		}
		return exitOK
	}
	if err := status.RenderStatus(stdout, snap, status.UseColor(stdout)); err != nil {
		return exitOSErr
	}
	return exitOK
}
