package logdelivery

import (
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// benchLine is a typical 15-field connection-log line.
var benchLine = []byte(`2023-10-04T17:05:15.514108Z 203.0.113.1 36280 443 TLSv1.2 ECDHE-RSA-AES128-GCM-SHA256 4.036 "CN=amazondomains.com,O=endEntity,L=Seattle,ST=Washington,C=US" NotBefore=2023-09-21T22:43:21Z;NotAfter=2026-06-17T22:43:21Z FEF257372D5C14D4 Success TID_3180a73013c8ca4bac2f731159d4b0fe secp256r1 app/k8s-tileserver-617dd1df30/98e3a879de9d6b42 3.228.177.57`)

// BenchmarkFileWriteLine measures the shipped File under parallel load; the
// timing includes Close, so every line is on disk when it stops.
func BenchmarkFileWriteLine(b *testing.B) {
	w, err := OpenFile(filepath.Join(b.TempDir(), "conn.log"))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(benchLine) + 1))
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := w.WriteLine(benchLine); err != nil {
				b.Error(err)
				return
			}
		}
	})
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
}

// mutexFile is the alternative the shipped File was measured against: a
// mutex and one write(2) per line. It is simpler and never holds a line in
// memory, but every line pays a system call while holding the lock.
type mutexFile struct {
	mu  sync.Mutex
	f   *os.File
	buf []byte
}

func (m *mutexFile) WriteLine(line []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.buf = append(append(m.buf[:0], line...), '\n')
	_, err := m.f.Write(m.buf)
	return err
}

func BenchmarkMutexFileWriteLine(b *testing.B) {
	f, err := os.OpenFile(filepath.Join(b.TempDir(), "conn.log"), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	w := &mutexFile{f: f}
	b.ReportAllocs()
	b.SetBytes(int64(len(benchLine) + 1))
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := w.WriteLine(benchLine); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkS3LayoutWriteLine measures the S3 layout per line, amortising
// one delivered object (gzip, temp file, rename) per 16384 lines.
func BenchmarkS3LayoutWriteLine(b *testing.B) {
	s, err := NewS3Layout(S3Config{
		Dir: b.TempDir(), Kind: ConnectionLog, AccountID: "123456789012", Region: "us-east-1",
		LoadBalancer: "app/demo/0123456789abcdef", NodeIP: netip.MustParseAddr("127.0.0.1"),
		Interval: time.Hour,
	})
	if err != nil {
		b.Fatal(err)
	}
	var n atomic.Int64
	b.ReportAllocs()
	b.SetBytes(int64(len(benchLine) + 1))
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			_ = s.WriteLine(benchLine)
			if n.Add(1)%16384 == 0 {
				if err := s.Flush(); err != nil {
					b.Error(err)
					return
				}
			}
		}
	})
	if err := s.Close(); err != nil {
		b.Fatal(err)
	}
}
