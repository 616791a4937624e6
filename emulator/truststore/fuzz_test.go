package truststore_test

import (
	"strings"
	"testing"

	"github.com/albmtls/albmtls/emulator/truststore"
	tt "github.com/albmtls/albmtls/emulator/truststore/truststoretest"
)

// FuzzCheckBundle feeds arbitrary bytes to the bundle checker: it must
// never panic, and its answer must be coherent.
func FuzzCheckBundle(f *testing.F) {
	k := testKit(f)
	good := tt.Bundle(k.inter, k.root)
	f.Add(good)
	f.Add([]byte("# comment\n" + string(k.root.PEM())))
	f.Add([]byte(string(k.inter.PEM()) + "\n" + string(k.root.PEM())))
	f.Add([]byte(strings.Replace(string(good), "CERTIFICATE", "PRIVATE KEY", 2)))
	f.Add(k.root.Cert.Raw)
	f.Add([]byte{})
	f.Add(good[:len(good)/2])
	f.Fuzz(func(t *testing.T, data []byte) {
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
