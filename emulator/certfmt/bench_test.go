package certfmt

import (
	"crypto/x509"
	"testing"
)

func BenchmarkDN(b *testing.B) {
	raw := dnCases[1].subject // the Estonian ID card subject: UTF-8, escapes, five RDNs
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DN(raw); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSerial(b *testing.B) {
	c := &x509.Certificate{SerialNumber: hexSerial("12DB3F24BFFD390A5CAF1A8F2712DFB4")}
	b.ReportAllocs()
	for b.Loop() {
		_ = Serial(c)
	}
}

func BenchmarkValidity(b *testing.B) {
	c := &x509.Certificate{NotBefore: testNotBefore, NotAfter: testNotAfter}
	b.ReportAllocs()
	for b.Loop() {
		_ = Validity(c)
	}
}

func BenchmarkPEMURLEncode(b *testing.B) {
	chain := testChain(b)
	for _, bc := range []struct {
		name string
		ders [][]byte
	}{{"leaf", chain[:1]}, {"chain3", chain}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = PEMURLEncode(bc.ders, EqualsLiteral)
			}
		})
	}
}

func BenchmarkDecodePEMURL(b *testing.B) {
	v := PEMURLEncode(testChain(b), EqualsLiteral)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodePEMURL(v); err != nil {
			b.Fatal(err)
		}
	}
}
