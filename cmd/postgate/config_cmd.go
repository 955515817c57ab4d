package main

import (
	"fmt"
	"io"

	"postgate/internal/auth"
	"postgate/internal/config"
)

const configUsage = `Usage:
  postgate config example         print a complete configuration with every key,
                                  its default and what it does
  postgate config check FILE      validate FILE; names the bad key and line

Examples:
  postgate config example > /etc/postgate.toml
  postgate config check /etc/postgate.toml
`

func runConfig(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, configUsage)
		return exitUsage
	}
	switch args[0] {
	case "example":
		fmt.Fprint(stdout, config.Example)
		return exitOK
	case "check":
		if len(args) != 2 {
			fmt.Fprint(stderr, configUsage)
			return exitUsage
		}
		cfg, err := config.Load(args[1])
		if err == nil {
			// Mechanism names, option letters and rules are the policy's to judge.
			_, err = auth.NewPolicy(cfg.Auth, nil, nil)
			if err != nil {
				err = fmt.Errorf("%s: %w", args[1], err)
			}
		}
		if err != nil {
			fmt.Fprintf(stderr, "postgate: %v\n", err)
			return exitConfig
		}
		fmt.Fprintf(stdout, "%s: OK\n", args[1])
		return exitOK
	case "-h", "--help", "help":
		fmt.Fprint(stdout, configUsage)
		return exitOK
	}
	fmt.Fprint(stderr, configUsage)
	return exitUsage
}

// loadConfigArg takes --config from args and loads it (or the defaults).
// On failure it prints the error and returns a nil config and exit code.
func loadConfigArg(args []string, stderr io.Writer) (*config.Config, []string, int) {
	file, rest, err := splitConfigFlag(args)
	if err != nil {
		fmt.Fprintf(stderr, "postgate: %v\n", err)
		return nil, nil, exitUsage
	}
	cfg, err := config.Load(file)
	if err != nil {
		fmt.Fprintf(stderr, "postgate: %v\n", err)
		return nil, nil, exitConfig
	}
	return cfg, rest, exitOK
}
