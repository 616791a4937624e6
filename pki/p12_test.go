package pki_test

import (
	"crypto"
	"crypto/x509"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	pkcs12 "software.sslmate.com/src/go-pkcs12"

	"github.com/albmtls/albmtls/internal/testtool"
	"github.com/albmtls/albmtls/pki"
	"github.com/albmtls/albmtls/pki/pkitest"
)

// TestClientP12Decodes: every client's .p12 decodes with go-pkcs12 (MAC
// and 3DES checked) to the client's own key, leaf and the CAs it sends,
// and a wrong password is refused.
func TestClientP12Decodes(t *testing.T) {
	set := pkitest.Standard(t)
	for _, name := range set.ClientNames() {
		t.Run(name, func(t *testing.T) {
			leaf, _ := set.Client(name)
			data, err := set.ClientP12(name, pki.P12Password)
			require.NoError(t, err)
			key, cert, cas, err := pkcs12.DecodeChain(data, pki.P12Password)
			require.NoError(t, err)
			assert.Equal(t, leaf.Cert.Raw, cert.Raw)
			signer, ok := key.(crypto.Signer)
			require.True(t, ok, "%T", key)
			want, err := x509.MarshalPKIXPublicKey(leaf.Key.Public())
			require.NoError(t, err)
			got, err := x509.MarshalPKIXPublicKey(signer.Public())
			require.NoError(t, err)
			assert.Equal(t, want, got, "the leaf's key")
			require.Len(t, cas, len(leaf.Chain)-1, "the CAs the client sends, not the root")
			for i, ca := range cas {
				assert.Equal(t, leaf.Chain[i+1], ca.Raw)
			}
			_, _, _, err = pkcs12.DecodeChain(data, "wrong")
			assert.Error(t, err, "a wrong password fails the MAC")
		})
	}
	_, err := set.ClientP12("nobody", pki.P12Password)
	assert.ErrorContains(t, err, `no client "nobody"`)
}

// TestClientP12FriendlyNames: openssl reads the file with the documented
// password and shows the friendly name on the key and the certificate,
// "albmtls NAME (CN=…)", which a browser's certificate picker lists.
func TestClientP12FriendlyNames(t *testing.T) {
	testtool.Need(t, "openssl")
	set := pkitest.Standard(t)
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "clients"), 0o755))
	files, err := set.WriteP12s(dir, pki.P12Password)
	require.NoError(t, err)
	require.Len(t, files, len(set.ClientNames()))
	for _, name := range []string{"valid", "revoked", "member"} {
		leaf, _ := set.Client(name)
		file := filepath.Join(dir, filepath.FromSlash(pki.P12File(name)))
		out, err := exec.Command("openssl", "pkcs12", "-info", "-in", file, "-passin", "pass:"+pki.P12Password, "-nodes").CombinedOutput()
		require.NoError(t, err, "%s", out)
		want := "friendlyName: " + pki.P12FriendlyName(name, leaf)
		assert.Equal(t, 2, strings.Count(string(out), want), "key and leaf carry %q:\n%s", want, out)
		assert.Equal(t, "albmtls "+name+" (CN="+leaf.Cert.Subject.CommonName+")", pki.P12FriendlyName(name, leaf))
		assert.Contains(t, string(out), "-----BEGIN PRIVATE KEY-----")
		assert.Contains(t, string(out), "MAC: sha1")
	}
}
