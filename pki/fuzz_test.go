package pki_test

import (
	"bytes"
	"math/big"
	"testing"

	"github.com/albmtls/albmtls/pki"

	"github.com/albmtls/albmtls/internal/fuzzedit"
)

// FuzzConvertCRL checks that format detection and conversion never panic,
// and that whatever converts comes back unchanged when converted again.
// The input is one edit of a document held by the target (doc picks it;
// the empty one makes insert a raw input): seeded with the documents
// themselves, the engine spent seconds minimising each new input
// (docs/fuzzing.md).
func FuzzConvertCRL(f *testing.F) {
	ca, err := pki.NewRootCA(pki.CARequest{Subject: pki.Name{CommonName: "fuzz CA"}})
	if err != nil {
		f.Fatal(err)
	}
	der, err := ca.CRL(pki.CRLRequest{Revoked: []pki.Revocation{{Serial: big.NewInt(42)}}})
	if err != nil {
		f.Fatal(err)
	}
	docs := [][]byte{der, pki.EncodeCRLPEM(der), ca.CertPEM, ca.Cert.Raw,
		[]byte("-----BEGIN X509 CRL-----\n-----END X509 CRL-----\n"), {0x30, 0x80}, nil}
	for i := range docs {
		f.Add(uint8(i), uint16(0), uint16(0), []byte(nil))
	}
	f.Fuzz(func(t *testing.T, doc uint8, off, cut uint16, insert []byte) {
		if len(insert) > 128 {
			return // long inputs are slow to minimise; the documents are in the target
		}
		in := fuzzedit.Splice(docs[int(doc)%len(docs)], int(off), int(cut), insert)
		out, to, err := pki.ConvertCRL(in)
		if err != nil {
			if out != nil {
				t.Fatalf("output %d bytes despite error %v", len(out), err)
			}
			return
		}
		back, from, err := pki.ConvertCRL(out)
		if err != nil {
			t.Fatalf("converted output does not convert back: %v", err)
		}
		if from == to {
			t.Fatalf("converting %s gave %s again", to, from)
		}
		again, _, err := pki.ConvertCRL(back)
		if err != nil || !bytes.Equal(again, out) {
			t.Fatalf("round trip is not stable: %v", err)
		}
	})
}
