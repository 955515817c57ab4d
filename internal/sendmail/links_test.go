package sendmail

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestInstallLinks(t *testing.T) {
	dir := t.TempDir()
	target := "/usr/local/bin/postgate"
	res, err := InstallLinks(dir, target, false)
	if err != nil {
		t.Fatal(err)
	}
	for i, name := range LinkNames {
		if res[i].Action != "created" {
			t.Errorf("%s: %s", name, res[i].Action)
		}
		if dest, err := os.Readlink(filepath.Join(dir, name)); err != nil || dest != target {
			t.Errorf("%s -> %q, %v", name, dest, err)
		}
	}
	// Again: nothing to do.
	res, err = InstallLinks(dir, target, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Action != "unchanged" {
			t.Errorf("second run: %s %s", r.Path, r.Action)
		}
	}
	// Another MTA's sendmail: refused without --force, and nothing changes.
	other := filepath.Join(dir, "sendmail")
	os.Remove(other)
	os.WriteFile(other, []byte("#!/bin/sh\n"), 0o755)
	os.Remove(filepath.Join(dir, "mailq"))
	if _, err := InstallLinks(dir, target, false); err == nil || !strings.Contains(err.Error(), "--force") {
		t.Errorf("existing file: %v", err)
	}
	if _, err := os.Lstat(filepath.Join(dir, "mailq")); !os.IsNotExist(err) {
		t.Error("a link was created although the run failed")
	}
	if b, _ := os.ReadFile(other); string(b) != "#!/bin/sh\n" {
		t.Error("existing sendmail changed without --force")
	}
	// With force: replaced.
	res, err = InstallLinks(dir, target, true)
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Action != "replaced" || res[1].Action != "created" || res[2].Action != "unchanged" {
		t.Errorf("force: %+v", res)
	}
	if dest, _ := os.Readlink(other); dest != target {
		t.Errorf("sendmail -> %q after --force", dest)
	}
	// Errors.
	if _, err := InstallLinks(dir, "relative/postgate", false); err == nil {
		t.Error("relative target accepted")
	}
	if _, err := InstallLinks(filepath.Join(dir, "missing"), target, false); err == nil {
		t.Error("missing directory accepted")
	}
}
