package s3

import (
	"bytes"
	"context"
	"testing"
)

// BenchmarkEmbeddedGetObject: what a trust store pays to read a 1 MiB CRL
// through Objects, from memory and from a store directory.
func BenchmarkEmbeddedGetObject(b *testing.B) {
	for _, tc := range []struct {
		name string
		dir  bool
	}{{"memory", false}, {"dir", true}} {
		b.Run(tc.name, func(b *testing.B) {
			opts := EmbeddedOptions{}
			if tc.dir {
				opts.Dir = b.TempDir()
			}
			e, err := NewEmbedded(opts)
			if err != nil {
				b.Fatal(err)
			}
			if err := e.store.CreateBucket("bench"); err != nil {
				b.Fatal(err)
			}
			body := bytes.Repeat([]byte("0123456789abcdef"), 1<<16)
			if _, err := e.store.PutObject("bench", "crl.pem", map[string]string{}, bytes.NewReader(body), int64(len(body)), nil); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				got, err := e.GetObject(context.Background(), "bench", "crl.pem", "")
				if err != nil || len(got) != len(body) {
					b.Fatalf("%d bytes, %v", len(got), err)
				}
			}
		})
	}
}
