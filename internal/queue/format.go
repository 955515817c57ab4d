package queue

import (
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"strconv"
)

// A spooled message is one file: the content exactly as received, then
// the envelope as it was at commit (versioned JSON, see envelope.go), then
// a fixed-size trailer that locates both:
//
//	"%016x %08x %08x PGSPOOL1\n"  content length, envelope length, CRC-32 (IEEE) of the envelope
//
// Keeping content and envelope in one file means a commit creates,
// fdatasyncs and renames a single file, and the rename is the commit
// point. Later envelope changes go to a separate "<id>.env" file, which
// overrides the embedded copy (see docs/spool.md).
const (
	trailerLen   = 44
	trailerMagic = "PGSPOOL1\n"
)

func encodeTrailer(contentLen int64, envelope []byte) []byte {
	t := fmt.Appendf(nil, "%016x %08x %08x %s", contentLen, len(envelope), crc32.ChecksumIEEE(envelope), trailerMagic)
	if len(t) != trailerLen {
		panic("queue: trailer length") // unreachable: all fields are fixed width
	}
	return t
}

var errBadTrailer = errors.New("queue: message file has no valid trailer")

// readLayout reads the trailer of a message file and returns the content
// length and the embedded envelope.
func readLayout(f *os.File) (contentLen int64, envelope []byte, err error) {
	fi, err := f.Stat()
	if err != nil {
		return 0, nil, err
	}
	size := fi.Size()
	if size < trailerLen {
		return 0, nil, errBadTrailer
	}
	var t [trailerLen]byte
	if _, err := f.ReadAt(t[:], size-trailerLen); err != nil {
		return 0, nil, err
	}
	cl, err1 := strconv.ParseUint(string(t[0:16]), 16, 63)
	el, err2 := strconv.ParseUint(string(t[17:25]), 16, 32)
	sum, err3 := strconv.ParseUint(string(t[26:34]), 16, 32)
	if err1 != nil || err2 != nil || err3 != nil || t[16] != ' ' || t[25] != ' ' || t[34] != ' ' ||
		string(t[35:]) != trailerMagic || int64(cl)+int64(el)+trailerLen != size {
		return 0, nil, errBadTrailer
	}
	contentLen = int64(cl)
	envelope = make([]byte, el)
	if _, err := f.ReadAt(envelope, contentLen); err != nil {
		return 0, nil, err
	}
	if uint64(crc32.ChecksumIEEE(envelope)) != sum {
		return 0, nil, fmt.Errorf("%w (envelope checksum mismatch)", errBadTrailer)
	}
	return contentLen, envelope, nil
}

// messageReader reads the content part of a message file.
type messageReader struct {
	*io.SectionReader
	f *os.File
}

func (m *messageReader) Close() error { return m.f.Close() }
