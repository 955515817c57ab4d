package queue

import (
	"os"
	"syscall"
)

// syncData makes the content of f durable. fdatasync(2) also flushes the
// metadata needed to read the data back (size, block allocation), which
// is all a freshly written spool file needs.
func syncData(f *os.File) error {
	for {
		err := syscall.Fdatasync(int(f.Fd()))
		if err != syscall.EINTR {
			if err != nil {
				return &os.PathError{Op: "fdatasync", Path: f.Name(), Err: err}
			}
			return nil
		}
	}
}
