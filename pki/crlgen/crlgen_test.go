package crlgen_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"math/big"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	tt "github.com/albmtls/albmtls/emulator/truststore/truststoretest"
	"github.com/albmtls/albmtls/pki/crlgen"
)

// TestBuild holds the fast builder to the standard library: the CRL
// parses, its signature verifies, and it lists exactly the serials
// Spec.Serial and Extra say.
func TestBuild(t *testing.T) {
	for _, key := range []string{"ecdsa", "rsa"} {
		t.Run(key, func(t *testing.T) {
			var opts []tt.Option
			if key == "rsa" {
				opts = append(opts, tt.WithKey(tt.RSAKey(t, 2048)))
			}
			ca := tt.NewRoot(t, "builder root", opts...)
			spec := crlgen.Spec{Entries: 1000, Seed: 7, Extra: []*big.Int{big.NewInt(42)}, Number: big.NewInt(9)}
			der, err := crlgen.Build(ca.Cert, ca.Key, spec)
			require.NoError(t, err)
			rl, err := x509.ParseRevocationList(der)
			require.NoError(t, err)
			require.NoError(t, rl.CheckSignatureFrom(ca.Cert))
			require.Len(t, rl.RevokedCertificateEntries, 1001)
			assert.Equal(t, 0, rl.Number.Cmp(big.NewInt(9)))
			assert.Equal(t, ca.Cert.SubjectKeyId, rl.AuthorityKeyId)
			for _, i := range []int{0, 1, 500, 999} {
				assert.Equal(t, 0, rl.RevokedCertificateEntries[i].SerialNumber.Cmp(spec.Serial(i)), "entry %d", i)
				assert.Len(t, rl.RevokedCertificateEntries[i].SerialNumber.Bytes(), 16)
			}
			assert.Equal(t, 0, rl.RevokedCertificateEntries[1000].SerialNumber.Cmp(big.NewInt(42)))
			again, err := crlgen.Build(ca.Cert, ca.Key, spec)
			require.NoError(t, err)
			rl2, err := x509.ParseRevocationList(again)
			require.NoError(t, err)
			assert.Equal(t, 0, rl2.RevokedCertificateEntries[123].SerialNumber.Cmp(rl.RevokedCertificateEntries[123].SerialNumber),
				"same seed, same serials")
		})
	}
}

func TestBuildNeedsIssuer(t *testing.T) {
	_, err := crlgen.Build(nil, nil, crlgen.Spec{})
	assert.Error(t, err)
}

// TestSignatureAlgorithmFor: SHA-256 and SHA-1 are supported, other hashes
// are refused with the reason.
func TestSignatureAlgorithmFor(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	for _, h := range []crypto.Hash{crypto.SHA256, crypto.SHA1} {
		ai, err := crlgen.SignatureAlgorithmFor(key, h)
		require.NoError(t, err, h)
		assert.NotEmpty(t, ai)
	}
	_, err = crlgen.SignatureAlgorithmFor(key, crypto.SHA512)
	assert.ErrorContains(t, err, "use SHA-256 or SHA-1")
}
