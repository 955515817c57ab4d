package config

import (
	_ "embed"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/BurntSushi/toml"
)

// Example is the complete commented configuration with every default.
//
//go:embed example.toml
var Example string

// Load reads a TOML file over the defaults and validates it. An empty path
// returns the defaults. Errors name the file, the key and, where TOML
// knows it, the line.
func Load(path string) (*Config, error) {
	c := Default()
	if path == "" {
		return c, c.Validate()
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if err := Parse(c, string(b)); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// Parse decodes TOML text into c (which holds defaults), rejects unknown
// keys and validates the result.
func Parse(c *Config, text string) error {
	md, err := toml.Decode(text, c)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return fmt.Errorf("line %d: %s", pe.Position.Line, pe.Message)
		}
		return err
	}
	if und := md.Undecoded(); len(und) > 0 {
		key := und[0].String()
		return fmt.Errorf("line %d: unknown key %q", keyLine(text, und[0]), key)
	}
	return c.Validate()
}

// keyLine finds the line on which the last part of key is assigned.
func keyLine(text string, key toml.Key) int {
	last := key[len(key)-1]
	for i, line := range strings.Split(text, "\n") {
		t := strings.TrimSpace(line)
		if strings.HasPrefix(t, last) {
			rest := strings.TrimSpace(strings.TrimPrefix(t, last))
			if strings.HasPrefix(rest, "=") {
				return i + 1
			}
		}
		if t == "["+key.String()+"]" || t == "[["+key.String()+"]]" {
			return i + 1
		}
	}
	return 0
}
