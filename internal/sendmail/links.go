package sendmail

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// LinkNames are the names install-links creates; the binary recognises
// each as its program name (see ProgramMode).
var LinkNames = []string{"sendmail", "mailq", "newaliases"}

// LinkResult says what InstallLinks did with one name.
type LinkResult struct {
	Path   string
	Action string // "created", "replaced", "unchanged"
}

// InstallLinks creates dir/sendmail, dir/mailq and dir/newaliases as
// symbolic links to target (an absolute path to the postgate binary). A
// link that already points to target is left alone; any other existing
// file makes it fail before anything changes, unless force is set, in
// which case it is replaced.
func InstallLinks(dir, target string, force bool) ([]LinkResult, error) {
	if !filepath.IsAbs(target) {
		return nil, fmt.Errorf("link target %q is not an absolute path", target)
	}
	if fi, err := os.Stat(dir); err != nil {
		return nil, err
	} else if !fi.IsDir() {
		return nil, fmt.Errorf("%s is not a directory", dir)
	}
	res := make([]LinkResult, len(LinkNames))
	var conflicts []string
	for i, name := range LinkNames {
		p := filepath.Join(dir, name)
		res[i] = LinkResult{Path: p, Action: "created"}
		fi, err := os.Lstat(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if fi.Mode().Type() == fs.ModeSymlink {
			if dest, err := os.Readlink(p); err == nil && dest == target {
				res[i].Action = "unchanged"
				continue
			}
		}
		res[i].Action = "replaced"
		conflicts = append(conflicts, p)
	}
	if len(conflicts) > 0 && !force {
		return nil, fmt.Errorf("%v already exist (another MTA?); remove them or use --force to replace them", conflicts)
	}
	for _, r := range res {
		switch r.Action {
		case "unchanged":
			continue
		case "replaced":
			// Create the new link beside the old file and rename it over,
			// so the name never disappears.
			tmp := r.Path + ".postgate-new"
			os.Remove(tmp)
			if err := os.Symlink(target, tmp); err != nil {
				return nil, err
			}
			if err := os.Rename(tmp, r.Path); err != nil {
				os.Remove(tmp)
				return nil, err
			}
		default:
			if err := os.Symlink(target, r.Path); err != nil {
				return nil, err
			}
		}
	}
	return res, nil
}
