package truststore_test

import (
	"bytes"
	"encoding/json"
	"math/big"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/albmtls/albmtls/emulator/truststore"
	tt "github.com/albmtls/albmtls/emulator/truststore/truststoretest"
	"github.com/albmtls/albmtls/internal/golden"
)

// TestReportGolden pins the exact text and JSON that `albmtls truststore
// check` prints. Files are named relative to a scratch directory so the
// output does not depend on where the test runs.
func TestReportGolden(t *testing.T) {
	k := testKit(t)
	pkgDir, err := os.Getwd()
	require.NoError(t, err)
	files := map[string][]byte{
		"bundle.pem":       tt.Bundle(k.inter, k.root),
		"bad-bundle.pem":   append([]byte("# my-CAs\n\n"), tt.Bundle(k.leaf, k.inter, k.root)...),
		"inter.crl.pem":    tt.CRLPEM(k.inter.CRL(t, tt.SerialsOf(k.revoked, k.leaf), nil)),
		"inter.crl":        k.inter.CRL(t, nil, nil),
		"negative.crl.pem": tt.CRLPEM(craft(t, k.root, tt.RawCRL{Entries: []tt.RawEntry{{Serial: []byte{0x80}}, {SerialInt: big.NewInt(3)}}})),
	}
	work := t.TempDir()
	for name, data := range files {
		require.NoError(t, os.WriteFile(filepath.Join(work, name), data, 0o644))
	}
	t.Chdir(work)
	tests := []struct {
		name string
		spec truststore.Spec
	}{
		{"check-ok", truststore.Spec{BundleFile: "bundle.pem", RevocationFiles: []string{"inter.crl.pem", "negative.crl.pem"}}},
		{"check-refused", truststore.Spec{BundleFile: "bad-bundle.pem", RevocationFiles: []string{"inter.crl", "inter.crl.pem"}}},
		{"check-quota", truststore.Spec{BundleFile: "bundle.pem", RevocationFiles: []string{"inter.crl.pem"},
			Limits: truststore.Limits{MaxRevocationEntries: 1}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := truststore.Check(tc.spec)
			var text, js bytes.Buffer
			require.NoError(t, r.WriteText(&text))
			require.NoError(t, r.WriteJSON(&js))
			var decoded map[string]any
			require.NoError(t, json.Unmarshal(js.Bytes(), &decoded))
			assert.Equal(t, r.Accepted(), decoded["accepted"])
			t.Chdir(pkgDir)
			golden.Assert(t, filepath.Join("testdata", tc.name+".txt"), text.Bytes())
			golden.Assert(t, filepath.Join("testdata", tc.name+".json"), js.Bytes())
		})
	}
}
