package pki_test

import (
	"path/filepath"
	"strconv"
	"testing"

	"github.com/albmtls/albmtls/pki"
)

// BenchmarkInit measures `albmtls pki init`: generating the whole standard
// set (ECDSA leaves, plus the fixed RSA 2048 and RSA 1024 keys) and writing
// its layout. Target: under 2 s on a 2-core machine.
func BenchmarkInit(b *testing.B) {
	root := b.TempDir()
	i := 0
	for b.Loop() {
		set, err := pki.Generate(pki.GenerateOptions{})
		if err != nil {
			b.Fatal(err)
		}
		if err := set.WriteDir(filepath.Join(root, strconv.Itoa(i)), false); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkGenerate is the in-memory part of BenchmarkInit.
func BenchmarkGenerate(b *testing.B) {
	for b.Loop() {
		if _, err := pki.Generate(pki.GenerateOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLoad measures reading a PKI directory back, which the demo and
// the conformance harness do at start-up.
func BenchmarkLoad(b *testing.B) {
	set, err := pki.Generate(pki.GenerateOptions{})
	if err != nil {
		b.Fatal(err)
	}
	dir := filepath.Join(b.TempDir(), "pki")
	if err := set.WriteDir(dir, false); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := pki.Load(dir); err != nil {
			b.Fatal(err)
		}
	}
}
