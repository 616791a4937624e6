package pki_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/albmtls/albmtls/pki"
	"github.com/albmtls/albmtls/pki/pkitest"
)

// TestLoadBoundedReads is issue 19 item 6 for the PKI directory: a huge
// sparse artefact or manifest fails with the size limit, not out of memory.
func TestLoadBoundedReads(t *testing.T) {
	for _, rel := range []string{"manifest.json", "ca/bundle.pem", "server/server-key.pem"} {
		t.Run(rel, func(t *testing.T) {
			dir := pkitest.Dir(t)
			file := filepath.Join(dir, filepath.FromSlash(rel))
			if _, err := os.Stat(file); err != nil {
				t.Fatalf("the standard PKI has no %s: %v", rel, err)
			}
			require.NoError(t, os.Truncate(file, 8<<30))
			_, err := pki.Load(dir)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "is 8589934592 bytes (8.0 GiB), over the")
		})
	}
}
