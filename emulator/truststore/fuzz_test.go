package truststore_test

import (
	"strings"
	"testing"

	"github.com/albmtls/albmtls/emulator/truststore"
	tt "github.com/albmtls/albmtls/emulator/truststore/truststoretest"

	"github.com/albmtls/albmtls/internal/fuzzedit"
)

// FuzzCheckBundle edits one of a few bundles held by the target (doc
// picks it; the empty document makes insert a raw input): the checker
// must never panic, and its answer must be coherent. Seeding the engine
// with the 1.5 KB bundles themselves made it spend its whole budget
// minimising them: 9 execs in 20 s (docs/fuzzing.md).
func FuzzCheckBundle(f *testing.F) {
	k := testKit(f)
	good := tt.Bundle(k.inter, k.root)
	docs := [][]byte{
		good,
		[]byte("# comment\n" + string(k.root.PEM())),
		[]byte(string(k.inter.PEM()) + "\n" + string(k.root.PEM())),
		[]byte(strings.Replace(string(good), "CERTIFICATE", "PRIVATE KEY", 2)),
		k.root.Cert.Raw,
		good[:len(good)/2],
		nil,
	}
	for i := range docs {
		f.Add(uint8(i), uint16(0), uint16(0), []byte(nil))
	}
	f.Fuzz(func(t *testing.T, doc uint8, off, cut uint16, insert []byte) {
		if len(insert) > 128 {
			return // long inputs are slow to minimise; the documents are in the target
		}
		data := fuzzedit.Splice(docs[int(doc)%len(docs)], int(off), int(cut), insert)
		certs, fs := truststore.CheckBundle("fuzz.pem", data)
		if !truststore.HasFatal(fs) && len(certs) == 0 {
			t.Fatalf("accepted a bundle without certificates: %v", fs)
		}
		for _, f := range fs {
			if f.File != "fuzz.pem" || f.Problem == "" || f.Rule == "" || (f.Fatal && f.ALBError == "") {
				t.Fatalf("incomplete finding %+v", f)
			}
			_ = f.String()
		}
	})
}
