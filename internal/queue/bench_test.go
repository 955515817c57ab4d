package queue

import (
	"bytes"
	"testing"
)

// benchMessage is a 4 KiB message.
var benchMessage = append([]byte("Subject: benchmark\r\n\r\n"), bytes.Repeat([]byte("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-.\r\n"), 4096/66)...)

func benchCommit(b *testing.B, s *Spool) {
	w, err := s.Create()
	if err != nil {
		b.Fatal(err)
	}
	if _, err := w.Write(benchMessage[:4096]); err != nil {
		b.Fatal(err)
	}
	if _, err := w.Commit(&Envelope{From: "a@example.net", Recipients: []Recipient{{Addr: "b@example.org"}}}); err != nil {
		b.Fatal(err)
	}
}

// reportSyncs reports fsync-family calls per message (file fdatasyncs plus
// directory fsyncs) and messages per group-commit batch.
func reportSyncs(b *testing.B, s *Spool) {
	st := s.Stats()
	if st.Commits == 0 || st.Syncs == 0 {
		return
	}
	b.ReportMetric(float64(st.FileSyncs+st.Syncs)/float64(st.Commits), "fsyncs/msg")
	b.ReportMetric(float64(st.Syncs)/float64(st.Commits), "dirsyncs/msg")
	b.ReportMetric(float64(st.Commits)/float64(st.Syncs), "msgs/batch")
}

// BenchmarkCommitSerial commits 4 KiB messages one after another: every
// commit pays for its own fsyncs.
func BenchmarkCommitSerial(b *testing.B) {
	s, err := Open(b.TempDir(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	b.SetBytes(4096)
	for b.Loop() {
		benchCommit(b, s)
	}
	reportSyncs(b, s)
}

// BenchmarkCommitParallel commits 4 KiB messages from 32 goroutines per
// CPU, as many concurrent SMTP sessions would; they share directory
// fsyncs through group commit.
func BenchmarkCommitParallel(b *testing.B) {
	s, err := Open(b.TempDir(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	b.SetBytes(4096)
	b.SetParallelism(32)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			benchCommit(b, s)
		}
	})
	reportSyncs(b, s)
}
