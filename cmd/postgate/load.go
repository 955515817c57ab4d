package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"postgate/internal/config"
	"postgate/internal/loadgen"
)

const loadUsage = `Usage:
  postgate load [options]

Sends messages to an SMTP server over many concurrent sessions, as fast as it
accepts them, and reports accepted messages per second and the latency from
the end of data to the 250 reply (for postgate: until the message is on disk),
and the time from MAIL to the 354 (where some servers do their per-message
work or flow control).
Use it against postgate or any other MTA to compare durable accept rates.

Options:
  --addr HOST:PORT     server (default: the smtp listener of --config FILE or
                       of the embedded defaults, 127.0.0.1:2525)
  --config FILE        where to find the default --addr
  --conns N            concurrent sessions (default 16)
  --messages N         messages in all (default 2000)
  --per-session N      messages per session before reconnecting (default 0: no limit)
  --size N             message size in octets (default 4096)
  --from ADDR          envelope sender (default load@example.test)
  --to ADDR            recipient (default load@localhost)

Example:
  postgate user add load@localhost --password-stdin <<< secret
  postgate load --conns 32 --messages 20000 --to load@localhost
`

func runLoad(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, loadUsage) }
	opt := loadgen.Options{}
	fs.StringVar(&opt.Addr, "addr", "", "")
	configFile := fs.String("config", "", "")
	fs.IntVar(&opt.Conns, "conns", 16, "")
	fs.IntVar(&opt.Messages, "messages", 2000, "")
	fs.IntVar(&opt.PerSession, "per-session", 0, "")
	fs.IntVar(&opt.Size, "size", 4096, "")
	fs.StringVar(&opt.From, "from", "load@example.test", "")
	fs.StringVar(&opt.To, "to", "load@localhost", "")
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return exitOK
		}
		return exitUsage
	}
	if opt.Addr == "" {
		cfg, err := config.Load(*configFile)
		if err != nil {
			fmt.Fprintf(stderr, "postgate load: %v\n", err)
			return exitConfig
		}
		opt.Addr = cfg.Listen.SMTP
	}
	if opt.Conns <= 0 || opt.Messages <= 0 || opt.Addr == "" {
		fmt.Fprintln(stderr, "postgate load: --conns and --messages must be positive, and --addr set")
		return exitUsage
	}
	res := loadgen.Run(context.Background(), opt)
	us := func(d time.Duration) time.Duration { return d.Round(time.Microsecond) }
	fmt.Fprintf(stdout, "sent %d failed %d in %s: %.0f msg/s; accept latency p50 %s p90 %s p99 %s max %s; MAIL-to-354 p50 %s p99 %s\n",
		res.Sent, res.Failed, res.Elapsed.Round(time.Millisecond), res.Rate(),
		us(res.Percentile(50)), us(res.Percentile(90)), us(res.Percentile(99)), us(res.Percentile(100)),
		us(res.SetupPercentile(50)), us(res.SetupPercentile(99)))
	if res.Failed > 0 {
		fmt.Fprintf(stdout, "first error: %s\n", res.FirstErr)
		return exitTempFail
	}
	return exitOK
}
