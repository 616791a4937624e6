package verify_test

import (
	"crypto/tls"
	"crypto/x509"
	"testing"
	"time"

	"github.com/albmtls/albmtls/emulator/truststore"
	tt "github.com/albmtls/albmtls/emulator/truststore/truststoretest"
	"github.com/albmtls/albmtls/emulator/verify"
	"github.com/albmtls/albmtls/pki/crlgen"
)

// BenchmarkVerify decides a valid ECDSA leaf + intermediate chain against a
// trust store whose intermediate has an empty CRL, and against one whose
// intermediate has a 500,000-entry CRL (ALB's quota): the CRL lookup is a
// hash probe, so the two should cost the same. The signature cache is off
// here, so every call is a full decision (BenchmarkSignatureCache measures
// it on).
func BenchmarkVerify(b *testing.B) {
	k := testKit(b)
	big, err := crlgen.Build(k.inter.Cert, k.inter.Key, crlgen.Spec{Entries: 500000})
	if err != nil {
		b.Fatal(err)
	}
	stores := []struct {
		name string
		st   *truststore.Store
	}{
		{"emptyCRL", storeSpec{bundle: []*tt.Cert{k.inter, k.root}, crls: [][]byte{k.inter.CRL(b, nil, nil)}}.load(b)},
		{"500kCRL", storeSpec{bundle: []*tt.Cert{k.inter, k.root}, crls: [][]byte{big}}.load(b)},
	}
	// Interleaved: the two stores alternate call by call, so the load of a
	// shared machine hits both equally; the metric is the ratio of the time
	// spent with the 500,000-entry CRL to the time spent with the empty one.
	b.Run("interleaved", func(b *testing.B) {
		parsed := []*x509.Certificate{k.leaf.Cert, k.inter.Cert}
		empty := verify.New(func() *truststore.Store { return stores[0].st }, verify.Options{SignatureCacheSize: -1})
		full := verify.New(func() *truststore.Store { return stores[1].st }, verify.Options{SignatureCacheSize: -1})
		var tEmpty, tFull time.Duration
		for b.Loop() {
			start := time.Now()
			r1 := empty.VerifyParsed(tls.VersionTLS13, parsed)
			mid := time.Now()
			r2 := full.VerifyParsed(tls.VersionTLS13, parsed)
			end := time.Now()
			if r1.Code != verify.Success || r2.Code != verify.Success {
				b.Fatal(r1.Reason, r2.Reason)
			}
			tEmpty += mid.Sub(start)
			tFull += end.Sub(mid)
		}
		b.ReportMetric(float64(tFull)/float64(tEmpty), "ratio-500k/empty")
	})
	raw := tt.Chain(k.leaf, k.inter)
	parsed := []*x509.Certificate{k.leaf.Cert, k.inter.Cert}
	for _, s := range stores {
		v := verify.New(func() *truststore.Store { return s.st }, verify.Options{SignatureCacheSize: -1})
		b.Run("parsed/"+s.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if r := v.VerifyParsed(tls.VersionTLS13, parsed); r.Code != verify.Success {
					b.Fatal(r.Reason)
				}
			}
		})
		b.Run("raw/"+s.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if r := v.Verify(tls.VersionTLS13, raw); r.Code != verify.Success {
					b.Fatal(r.Reason)
				}
			}
		})
	}
}

// BenchmarkSignatureCache decides the same valid chain with the cache on
// (every call after the first hits) and off, alternating call by call:
// ratio-cached/uncached is what the cache leaves of a decision's cost.
func BenchmarkSignatureCache(b *testing.B) {
	k := testKit(b)
	st := storeSpec{bundle: []*tt.Cert{k.inter, k.root}, crls: [][]byte{k.inter.CRL(b, nil, nil)}}.load(b)
	parsed := []*x509.Certificate{k.leaf.Cert, k.inter.Cert}
	on := verify.New(func() *truststore.Store { return st }, verify.Options{})
	off := verify.New(func() *truststore.Store { return st }, verify.Options{SignatureCacheSize: -1})
	b.Run("interleaved", func(b *testing.B) {
		var tOn, tOff time.Duration
		for b.Loop() {
			start := time.Now()
			r1 := on.VerifyParsed(tls.VersionTLS13, parsed)
			mid := time.Now()
			r2 := off.VerifyParsed(tls.VersionTLS13, parsed)
			end := time.Now()
			if r1.Code != verify.Success || r2.Code != verify.Success {
				b.Fatal(r1.Reason, r2.Reason)
			}
			tOn += mid.Sub(start)
			tOff += end.Sub(mid)
		}
		b.ReportMetric(float64(tOn)/float64(tOff), "ratio-cached/uncached")
		b.ReportMetric(float64(tOn.Nanoseconds())/float64(b.N), "cached-ns/op")
		b.ReportMetric(float64(tOff.Nanoseconds())/float64(b.N), "uncached-ns/op")
	})
	for name, v := range map[string]*verify.Verifier{"cached": on, "uncached": off} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if r := v.VerifyParsed(tls.VersionTLS13, parsed); r.Code != verify.Success {
					b.Fatal(r.Reason)
				}
			}
		})
	}
}
