package sendmail

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want Options // Warnings compared by count only
		warn int
	}{
		{"default mode", []string{"bob@example.org"},
			Options{Mode: ModeDeliver, Recipients: []string{"bob@example.org"}}, 0},
		{"-t -i", []string{"-t", "-i"}, Options{ExtractRecipients: true, IgnoreDots: true}, 0},
		{"grouped -ti", []string{"-ti"}, Options{ExtractRecipients: true, IgnoreDots: true}, 0},
		{"-oi", []string{"-oi", "root"}, Options{IgnoreDots: true, Recipients: []string{"root"}}, 0},
		{"-fuser attached", []string{"-falice@example.org", "bob"},
			Options{Sender: "alice@example.org", SenderSet: true, Recipients: []string{"bob"}}, 0},
		{"-f user separate", []string{"-f", "alice", "bob"},
			Options{Sender: "alice", SenderSet: true, Recipients: []string{"bob"}}, 0},
		{"-f <>", []string{"-f", "<>", "bob"}, Options{Sender: "", SenderSet: true, Recipients: []string{"bob"}}, 0},
		{"-f <addr>", []string{"-f<a@b.c>", "bob"}, Options{Sender: "a@b.c", SenderSet: true, Recipients: []string{"bob"}}, 0},
		{"-r synonym", []string{"-r", "a@b.c", "bob"}, Options{Sender: "a@b.c", SenderSet: true, Recipients: []string{"bob"}}, 0},
		{"-F full name", []string{"-F", "Cron Daemon", "root"},
			Options{FullName: "Cron Daemon", Recipients: []string{"root"}}, 0},
		{"-FCronDaemon attached", []string{"-FCronDaemon", "root"},
			Options{FullName: "CronDaemon", Recipients: []string{"root"}}, 0},
		{"-N success,failure", []string{"-N", "success,failure", "x@y.z"},
			Options{Notify: []string{"SUCCESS", "FAILURE"}, Recipients: []string{"x@y.z"}}, 0},
		{"-Nnever", []string{"-Nnever", "x@y.z"}, Options{Notify: []string{"NEVER"}, Recipients: []string{"x@y.z"}}, 0},
		{"-R hdrs -V id", []string{"-R", "hdrs", "-V", "env-1", "x@y.z"},
			Options{Ret: "HDRS", EnvID: "env-1", Recipients: []string{"x@y.z"}}, 0},
		{"-B 8BITMIME (cron)", []string{"-FCronDaemon", "-i", "-B8BITMIME", "-oem", "root"},
			Options{FullName: "CronDaemon", IgnoreDots: true, Body: "8BITMIME", Recipients: []string{"root"}}, 1},
		{"-bp", []string{"-bp"}, Options{Mode: ModeQueueList}, 0},
		{"-bp --json", []string{"-bp", "--json"}, Options{Mode: ModeQueueList, JSON: true}, 0},
		{"-bs", []string{"-bs"}, Options{Mode: ModeSMTP}, 0},
		{"-bv", []string{"-bv", "root"}, Options{Mode: ModeVerify, Recipients: []string{"root"}}, 0},
		{"-bi", []string{"-bi"}, Options{Mode: ModeNewAliases}, 0},
		{"-bm explicit", []string{"-bm", "x@y.z"}, Options{Mode: ModeDeliver, Recipients: []string{"x@y.z"}}, 0},
		{"-q", []string{"-q"}, Options{Mode: ModeQueueRun}, 0},
		{"-qf", []string{"-qf"}, Options{Mode: ModeQueueRun}, 0},
		{"-q30m warns", []string{"-q30m"}, Options{Mode: ModeQueueRun}, 1},
		{"-qR domain", []string{"-qR", "example.org"}, Options{Mode: ModeQueueRun, QueueDomain: "example.org"}, 0},
		{"-qRdomain", []string{"-qR@example.org"}, Options{Mode: ModeQueueRun, QueueDomain: "example.org"}, 0},
		{"-v", []string{"-v", "x@y.z"}, Options{Verbose: true, Recipients: []string{"x@y.z"}}, 0},
		{"-oXXX ignored", []string{"-odb", "-oem", "-oQ/var/spool", "x@y.z"}, Options{Recipients: []string{"x@y.z"}}, 3},
		{"-O ignored", []string{"-O", "DeliveryMode=b", "x@y.z"}, Options{Recipients: []string{"x@y.z"}}, 1},
		{"-h -L -X ignored", []string{"-h", "20", "-L", "tag", "-X", "/tmp/log", "x@y.z"}, Options{Recipients: []string{"x@y.z"}}, 3},
		{"-U -m -n silent", []string{"-U", "-m", "-n", "x@y.z"}, Options{Recipients: []string{"x@y.z"}}, 0},
		{"-C config", []string{"-C", "/etc/pg.toml", "x@y.z"}, Options{ConfigFile: "/etc/pg.toml", Recipients: []string{"x@y.z"}}, 0},
		{"--config=", []string{"--config=/etc/pg.toml", "-t"}, Options{ConfigFile: "/etc/pg.toml", ExtractRecipients: true}, 0},
		{"--help", []string{"--help"}, Options{Mode: ModeHelp}, 0},
		{"-- then dash address", []string{"--", "-odd@example.org"}, Options{Recipients: []string{"-odd@example.org"}}, 0},
		{"several recipients", []string{"a@b.c", "d@e.f"}, Options{Recipients: []string{"a@b.c", "d@e.f"}}, 0},
		{"git send-email", []string{"-i", "alice@example.org", "bob@example.org"},
			Options{IgnoreDots: true, Recipients: []string{"alice@example.org", "bob@example.org"}}, 0},
		{"php mail()", []string{"-t", "-i", "-fwww@example.org"},
			Options{ExtractRecipients: true, IgnoreDots: true, Sender: "www@example.org", SenderSet: true}, 0},
	}
	for _, tt := range tests {
		got, err := Parse(tt.args)
		if err != nil {
			t.Errorf("%s: Parse(%q): %v", tt.name, tt.args, err)
			continue
		}
		if len(got.Warnings) != tt.warn {
			t.Errorf("%s: warnings %q, want %d", tt.name, got.Warnings, tt.warn)
		}
		got.Warnings = nil
		if !reflect.DeepEqual(*got, tt.want) {
			t.Errorf("%s: Parse(%q) =\n%+v\nwant\n%+v", tt.name, tt.args, *got, tt.want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"-f"}, "needs a value"},
		{[]string{"-N", "sometimes"}, "not never"},
		{[]string{"-N", "never,success"}, "cannot be combined"},
		{[]string{"-R", "all"}, "full or hdrs"},
		{[]string{"-B", "BINARYMIME"}, "7BIT or 8BITMIME"},
		{[]string{"-V", "bad\x01id"}, "printable"},
		{[]string{"-V", strings.Repeat("x", 101)}, "printable"},
		{[]string{"-bd"}, "postgate serve"},
		{[]string{"-bt"}, "not supported"},
		{[]string{"-qIabc"}, "not supported"},
		{[]string{"-qR"}, "needs a domain"},
		{[]string{"-Z"}, "unknown option -Z"},
		{[]string{"--frobnicate"}, "unknown option --frobnicate"},
		{[]string{"bob@example.org", "-fevil@example.org"}, "after the recipients"},
		{[]string{"bob@example.org", ""}, "empty recipient"},
	}
	for _, tt := range tests {
		_, err := Parse(tt.args)
		var ue *UsageError
		if !errors.As(err, &ue) {
			t.Errorf("Parse(%q) = %v, want a UsageError", tt.args, err)
			continue
		}
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Parse(%q) = %q, want it to mention %q", tt.args, err, tt.want)
		}
		if ExitCodeOf(err) != ExUsage {
			t.Errorf("Parse(%q): exit %d, want %d", tt.args, ExitCodeOf(err), ExUsage)
		}
	}
}

func TestParseForProgramName(t *testing.T) {
	tests := []struct {
		argv0    string
		args     []string
		wantProg string
		wantMode Mode
	}{
		{"/usr/sbin/sendmail", []string{"-t"}, ProgSendmail, ModeDeliver},
		{"/usr/bin/mailq", nil, ProgMailq, ModeQueueList},
		{"mailq", []string{"-v"}, ProgMailq, ModeQueueList},
		{"/usr/bin/newaliases", nil, ProgNewaliases, ModeNewAliases},
		{"/usr/local/bin/postgate", nil, "", ModeDeliver},
		{"mailq", []string{"--help"}, ProgMailq, ModeHelp},
	}
	for _, tt := range tests {
		prog := ProgramName(tt.argv0)
		if prog != tt.wantProg {
			t.Errorf("ProgramName(%q) = %q, want %q", tt.argv0, prog, tt.wantProg)
		}
		o, err := ParseFor(prog, tt.args)
		if err != nil {
			t.Fatal(err)
		}
		if o.Mode != tt.wantMode {
			t.Errorf("%s %q: mode %v, want %v", tt.argv0, tt.args, o.Mode, tt.wantMode)
		}
	}
}
