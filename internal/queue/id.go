package queue

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"sync/atomic"
	"time"
)

// idLen is the length of a message id: 16 hex digits of the creation time
// in nanoseconds since the Unix epoch, then 8 hex digits of a per-process
// sequence number that starts at a random value.
const idLen = 24

var idSeq atomic.Uint32

func init() {
	var b [4]byte
	if _, err := rand.Read(b[:]); err == nil {
		idSeq.Store(binary.BigEndian.Uint32(b[:]))
	}
}

// newID returns a fresh message id. Ids sort by creation time (to the
// nanosecond; ties broken by the sequence number), contain only [0-9a-f]
// and are therefore safe as file names.
func newID(now time.Time) string {
	return fmt.Sprintf("%016x%08x", uint64(now.UnixNano()), idSeq.Add(1))
}

// ValidID reports whether id has the form of a spool message id. Every
// method that takes an id checks it, so a caller-supplied string can never
// reach the file system as a path.
func ValidID(id string) bool {
	if len(id) != idLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
