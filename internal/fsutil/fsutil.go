// Package fsutil holds the file-system step that durable writes share:
// fsyncing a directory so that the entries made in it (a created or
// renamed file) survive a crash.
package fsutil

import "os"

// SyncDir fsyncs a directory so that entries made in it are durable.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
