//go:build !unix

package queue

import "os"

// lockDir opens the lock file; without flock(2) it cannot exclude other
// processes.
func lockDir(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
}
