package truststore

import (
	"crypto/x509"
	"testing"

	tt "github.com/albmtls/albmtls/emulator/truststore/truststoretest"

	"github.com/albmtls/albmtls/internal/fuzzedit"
)

// maxFuzzInsert bounds the bytes an input inserts. The engine minimises
// every input that finds new coverage, in time quadratic in its length and
// for up to a minute (-fuzzminimizetime), without counting those execs:
// seeded with whole CRLs (one of 10 KB), FuzzParseCRL spent most of its
// budget minimising (docs/fuzzing.md). The CRLs live in the target instead
// and the input is one edit.
const maxFuzzInsert = 128

// FuzzParseCRL edits one CRL of crlCorpus (doc picks it; one past the end
// is the empty document, so insert alone is a raw input): parseCRLDER
// must agree with x509.ParseRevocationList, and the file layer must not
// panic on the result, as PEM or DER.
func FuzzParseCRL(f *testing.F) {
	docs := append(crlCorpus(f), nil)
	root := tt.NewRoot(f, "fuzz root")
	cas := []*x509.Certificate{root.Cert}
	for i := range docs {
		f.Add(uint8(i), uint16(0), uint16(0), []byte(nil))
	}
	f.Fuzz(func(t *testing.T, doc uint8, off, cut uint16, insert []byte) {
		if len(insert) > maxFuzzInsert {
			return // see maxFuzzInsert
		}
		der := fuzzedit.Splice(docs[int(doc)%len(docs)], int(off), int(cut), insert)
		compareWithGo(t, der)
		crl, fs := ParseCRL("fuzz.pem", tt.CRLPEM(der), cas)
		if crl == nil && !HasFatal(fs) {
			t.Fatalf("no CRL and no fatal finding: %v", fs)
		}
		_, _ = ParseCRL("fuzz.crl", der, cas)
	})
}
