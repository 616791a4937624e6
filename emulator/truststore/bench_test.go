package truststore_test

import (
	"crypto/x509"
	"encoding/pem"
	"runtime"
	"sync"
	"testing"

	"github.com/albmtls/albmtls/emulator/truststore"
	tt "github.com/albmtls/albmtls/emulator/truststore/truststoretest"
	"github.com/albmtls/albmtls/pki/crlgen"
)

var (
	bigOnce sync.Once
	bigPEM  []byte
	bigCA   *tt.Cert
)

// bigCRL is a 500,000-entry PEM CRL from its own root, built once per
// process (ALB's default revocation-entry quota).
func bigCRL(b *testing.B) ([]byte, *tt.Cert) {
	b.Helper()
	bigOnce.Do(func() {
		bigCA = tt.NewRoot(b, "bench root")
		der, err := crlgen.Build(bigCA.Cert, bigCA.Key, crlgen.Spec{Entries: 500000})
		if err != nil {
			b.Fatal(err)
		}
		bigPEM = tt.CRLPEM(der)
	})
	return bigPEM, bigCA
}

// BenchmarkParseCRL500k parses a 500,000-entry PEM CRL (ALB's quota) and
// reports, besides time and allocations, the heap the parsed CRL keeps.
func BenchmarkParseCRL500k(b *testing.B) {
	data, ca := bigCRL(b)
	cas := []*x509.Certificate{ca.Cert}
	var crl *truststore.CRL
	for b.Loop() {
		var fs []truststore.Finding
		crl, fs = truststore.ParseCRL("big.pem", data, cas)
		if crl == nil || len(fs) > 0 {
			b.Fatalf("parse failed: %v", fs)
		}
	}
	b.StopTimer()
	crl = nil
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	crl, _ = truststore.ParseCRL("big.pem", data, cas)
	runtime.GC()
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/1e6, "retained-MB")
	b.ReportMetric(float64(len(data))/1e6, "file-MB")
	runtime.KeepAlive(crl)
	if crl.Len() != 500000 {
		b.Fatalf("got %d entries", crl.Len())
	}
}

// BenchmarkParseCRL500kX509 is the baseline: the standard library's parser
// on the same CRL (DER, after PEM decoding), keeping nothing but the result.
func BenchmarkParseCRL500kX509(b *testing.B) {
	data, _ := bigCRL(b)
	der := pemBody(b, data)
	for b.Loop() {
		if _, err := x509.ParseRevocationList(der); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCRLContains measures one lookup in the 500,000-entry set.
func BenchmarkCRLContains(b *testing.B) {
	data, ca := bigCRL(b)
	crl, _ := truststore.ParseCRL("big.pem", data, []*x509.Certificate{ca.Cert})
	serial := crlgen.Spec{Entries: 500000}.Serial(250000)
	miss := ca.Cert.SerialNumber
	b.ReportAllocs()
	for b.Loop() {
		if !crl.Contains(serial) || crl.Contains(miss) {
			b.Fatal("wrong answer")
		}
	}
}

func pemBody(b *testing.B, data []byte) []byte {
	b.Helper()
	block, _ := pem.Decode(data)
	if block == nil {
		b.Fatal("no PEM block")
	}
	return block.Bytes
}

// BenchmarkLookup is Store.Lookup for an unrevoked serial when the
// issuer's CRL is empty and when it holds 500,000 entries.
func BenchmarkLookup(b *testing.B) {
	data, ca := bigCRL(b)
	leaf := ca.Leaf(b, "bench leaf")
	for _, tc := range []struct {
		name string
		crl  []byte
	}{
		{"emptyCRL", tt.CRLPEM(ca.CRL(b, nil, nil))},
		{"500kCRL", data},
	} {
		bundle := writeFile(b, "bundle.pem", ca.PEM())
		crl := writeFile(b, "crl.pem", tc.crl)
		s, err := truststore.Load(truststore.Spec{Name: "bench", BundleFile: bundle, RevocationFiles: []string{crl}})
		if err != nil {
			b.Fatal(err)
		}
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if r := s.LookupCert(leaf.Cert, ca.Cert); !r.Checked || r.Revoked {
					b.Fatal("wrong answer")
				}
			}
		})
	}
}
