package verify_test

import (
	"crypto/tls"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/albmtls/albmtls/emulator/truststore"
	"github.com/albmtls/albmtls/emulator/verify"
	"github.com/albmtls/albmtls/pki/pkitest"
)

// loadStandard loads the standard PKI's trust store as the brief lays it
// out: the bundle plus the given CRL files (relative to the PKI dir).
func loadStandard(t *testing.T, crls ...string) *truststore.Store {
	t.Helper()
	dir := pkitest.Dir(t)
	spec := truststore.Spec{Name: "demo", BundleFile: filepath.Join(dir, "ca/bundle.pem")}
	for _, c := range crls {
		spec.RevocationFiles = append(spec.RevocationFiles, filepath.Join(dir, c))
	}
	s, err := truststore.Load(spec)
	require.NoError(t, err)
	return s
}

// TestStandardClients checks every client certificate of the standard PKI
// against the brief's table of expected ALB codes.
func TestStandardClients(t *testing.T) {
	set := pkitest.Standard(t)
	both := loadStandard(t, "crl/intermediate.crl.pem", "crl/root.crl.pem")
	interOnly := loadStandard(t, "crl/intermediate.crl.pem")
	tests := []struct {
		client string
		store  *truststore.Store
		opts   verify.Options
		want   verify.Code
	}{
		{"valid", both, verify.Options{}, verify.Success},
		{"valid-rsa", both, verify.Options{}, verify.Success},
		{"member", both, verify.Options{}, verify.Success},
		{"outsider", both, verify.Options{}, verify.Success},
		{"revoked", both, verify.Options{}, verify.ClientCertCrlHit},
		{"revoked-intermediate", both, verify.Options{}, verify.ClientCertCrlHit},
		{"revoked-intermediate", interOnly, verify.Options{}, verify.Success},
		{"expired", both, verify.Options{}, verify.ClientCertExpired},
		{"expired", both, verify.Options{IgnoreClientCertificateExpiry: true}, verify.Success},
		{"not-yet-valid", both, verify.Options{}, verify.ClientCertNotYetValid},
		{"not-yet-valid", both, verify.Options{IgnoreClientCertificateExpiry: true}, verify.Success},
		{"not-yet-valid", both, verify.Options{IgnoreClientCertificateExpiry: true, IgnoreExpiryKeepsNotBefore: true}, verify.ClientCertNotYetValid},
		{"untrusted", both, verify.Options{}, verify.ClientCertUntrusted},
		{"self-signed", both, verify.Options{}, verify.ClientCertUntrusted},
		{"server-purpose", both, verify.Options{}, verify.ClientCertPurposeInvalid},
		{"weak-rsa", both, verify.Options{}, verify.ClientCertTypeUnsupported},
		{"deep-chain", both, verify.Options{}, verify.ClientCertMaxChainDepthExceeded},
		{"oversized", both, verify.Options{}, verify.ClientCertMaxSizeExceeded},
	}
	for _, tc := range tests {
		t.Run(tc.client, func(t *testing.T) {
			leaf, ok := set.Client(tc.client)
			require.True(t, ok, "the standard PKI has %s", tc.client)
			v := verify.New(func() *truststore.Store { return tc.store }, tc.opts)
			for _, ver := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
				r := v.Verify(ver, leaf.Chain)
				assert.Equal(t, tc.want, r.Code, "reason: %s", r.Reason)
				if tc.want == verify.Success {
					assert.Empty(t, r.Reason)
					require.NotEmpty(t, r.Chain)
					assert.Equal(t, leaf.Cert.Raw, r.Chain[0].Raw)
				} else {
					assert.NotEmpty(t, r.Reason)
				}
				if tc.client != "oversized" {
					require.NotNil(t, r.Leaf)
					assert.Equal(t, leaf.Cert.Raw, r.Leaf.Raw)
				}
				// The parsed path gives the same answer.
				assert.Equal(t, tc.want, v.VerifyParsed(ver, parse(t, leaf.Chain)).Code)
			}
		})
	}
}
