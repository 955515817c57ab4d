package config

import (
	"reflect"
	"strings"
	"testing"
)

// The printed example must be exactly the embedded defaults.
func TestExampleIsDefault(t *testing.T) {
	c := Default()
	c.Aliases, c.TrustedNetworks, c.Auth.Realms, c.Log.TraceNetworks = nil, nil, nil, nil
	got := Default()
	if err := Parse(got, Example); err != nil {
		t.Fatal(err)
	}
	// TOML's [] decodes to empty slices; compare them as nil.
	got.Aliases, got.TrustedNetworks, got.Auth.Realms, got.Log.TraceNetworks = nil, nil, nil, nil
	if !reflect.DeepEqual(c, got) {
		t.Fatalf("example.toml differs from Default():\n%+v\n%+v", c, got)
	}
}

func TestBadConfigs(t *testing.T) {
	cases := []struct{ text, want string }{
		{"hostnam = \"x\"", `line 1: unknown key "hostnam"`},
		{"[limits]\n\nmax_size = 3", `line 3: unknown key "limits.max_size"`},
		{"[limits]\nmax_message_size = \"big\"", "line 2"},
		{"trusted_networks = [\"10.0.0.0/33\"]", "trusted_networks"},
		{"[auth]\nsender_policy = \"all\"", "auth.sender_policy"},
		{"[auth]\nscram_iterations = 100", "auth.scram_iterations"},
		{"[tls]\ncert_file = \"a.pem\"", "tls.cert_file and tls.key_file"},
		{"[limits]\ncommand_timeout = \"soon\"", "line 2"},
		{"hostname = \"\"", "hostname"},
	}
	for _, tc := range cases {
		err := Parse(Default(), tc.text)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: got %v, want error containing %q", tc.text, err, tc.want)
		}
	}
}

func TestOverride(t *testing.T) {
	c := Default()
	err := Parse(c, "hostname = \"mail.example.test\"\nlocal_domains = [\"example.test\"]\n[listen]\nsmtp = \"\"\n")
	if err != nil {
		t.Fatal(err)
	}
	if c.Hostname != "mail.example.test" || c.Listen.SMTP != "" || c.Listen.Submission == "" {
		t.Fatalf("unexpected %+v", c.Listen)
	}
	if !c.IsLocalDomain("EXAMPLE.test") || c.UserDefaultDomain() != "example.test" {
		t.Fatal("local domain handling")
	}
	if r := c.DigestRealms(); len(r) != 1 || r[0] != "mail.example.test" {
		t.Fatalf("realms %v", r)
	}
}
