package truststore_test

import (
	"crypto/x509"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/albmtls/albmtls/emulator/truststore"
	tt "github.com/albmtls/albmtls/emulator/truststore/truststoretest"
)

// kit is a small CA hierarchy shared by the tests of this package: root →
// intermediate → leaves. Certificates are immutable, so sharing is safe.
type kit struct {
	root, inter, other *tt.Cert
	leaf, revoked      *tt.Cert
}

var (
	kitOnce sync.Once
	theKit  *kit
)

func testKit(t testing.TB) *kit {
	t.Helper()
	kitOnce.Do(func() {
		root := tt.NewRoot(t, "albmtls Test Root CA")
		inter := root.Intermediate(t, "albmtls Test Intermediate CA")
		theKit = &kit{
			root:    root,
			inter:   inter,
			other:   tt.NewRoot(t, "Other Root CA"),
			leaf:    inter.Leaf(t, "valid"),
			revoked: inter.Leaf(t, "revoked"),
		}
	})
	return theKit
}

func (k *kit) cas() []*x509.Certificate { return []*x509.Certificate{k.inter.Cert, k.root.Cert} }

// writeFile writes data under a fresh temp dir and returns its path.
func writeFile(t testing.TB, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(p, data, 0o644))
	return p
}

// rules returns the Rule of each finding, fatal ones marked with "!".
func rules(fs []truststore.Finding) []string {
	out := make([]string, 0, len(fs))
	for _, f := range fs {
		r := f.Rule
		if f.Fatal {
			r = "!" + r
		}
		out = append(out, r)
	}
	slices.Sort(out)
	return out
}

func findRule(t testing.TB, fs []truststore.Finding, rule string) truststore.Finding {
	t.Helper()
	for _, f := range fs {
		if f.Rule == rule {
			return f
		}
	}
	t.Fatalf("no finding %q in %v", rule, fs)
	return truststore.Finding{}
}
