//go:build !linux

package queue

import "os"

// syncData makes the content of f durable (fsync where fdatasync is not
// available).
func syncData(f *os.File) error { return f.Sync() }
