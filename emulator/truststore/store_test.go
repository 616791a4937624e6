package truststore_test

import (
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/albmtls/albmtls/emulator/truststore"
	tt "github.com/albmtls/albmtls/emulator/truststore/truststoretest"
	"github.com/albmtls/albmtls/pki/pkitest"
)

// TestLoadStandardPKI loads the trust store exactly as the standard test
// PKI lays it out on disk.
func TestLoadStandardPKI(t *testing.T) {
	dir := pkitest.Dir(t)
	set := pkitest.Standard(t)
	s, err := truststore.Load(truststore.Spec{
		Name:            "demo",
		BundleFile:      filepath.Join(dir, "ca/bundle.pem"),
		RevocationFiles: []string{filepath.Join(dir, "crl/intermediate.crl.pem"), filepath.Join(dir, "crl/root.crl.pem")},
	})
	require.NoError(t, err)
	assert.Empty(t, s.Warnings())
	require.Len(t, s.CACertificates, 2)
	assert.Equal(t, set.Intermediate.Cert.Raw, s.CACertificates[0].Raw, "bundle order")
	assert.Equal(t, [][]byte{set.Intermediate.Cert.RawSubject, set.Root.Cert.RawSubject}, s.Subjects())

	revs := s.Revocations()
	require.Len(t, revs, 2)
	assert.Equal(t, int64(1), revs[0].RevocationID)
	assert.Equal(t, int64(2), revs[1].RevocationID)
	assert.Equal(t, "CRL", revs[0].RevocationType)
	assert.Equal(t, int64(s.TotalRevokedEntries()), revs[0].NumberOfRevokedEntries+revs[1].NumberOfRevokedEntries)

	revoked, _ := set.Client("revoked")
	valid, _ := set.Client("valid")
	r := s.Lookup(set.Intermediate.Cert, revoked.Cert.SerialNumber)
	assert.True(t, r.Checked)
	assert.True(t, r.Revoked)
	assert.Equal(t, int64(1), r.RevocationID)
	r = s.Lookup(set.Intermediate.Cert, valid.Cert.SerialNumber)
	assert.True(t, r.Checked)
	assert.False(t, r.Revoked)

	revokedCA, ok := set.CA("revoked-intermediate-ca")
	require.True(t, ok)
	r = s.Lookup(set.Root.Cert, revokedCA.Cert.SerialNumber)
	assert.True(t, r.Revoked, "the root CRL revokes the second intermediate")
	assert.Equal(t, int64(2), r.RevocationID)

	other := pkitest.NewCA(t)
	assert.False(t, s.Lookup(other.Cert, big.NewInt(1)).Checked, "no CRL from an unknown issuer")
	assert.True(t, s.Contains(set.Root.Cert))
	assert.False(t, s.Contains(other.Cert))
	assert.Len(t, s.CAsBySubject(set.Root.Cert.RawSubject), 1)
}

func TestLoadErrors(t *testing.T) {
	k := testKit(t)
	bundle := writeFile(t, "bundle.pem", tt.Bundle(k.inter, k.root))
	crl := tt.CRLPEM(k.inter.CRL(t, tt.SerialsOf(k.revoked, k.leaf), nil))
	crlFile := writeFile(t, "inter.crl.pem", crl)
	rootCRL := writeFile(t, "root.crl.pem", tt.CRLPEM(k.root.CRL(t, tt.SerialsOf(k.inter), nil)))
	der := writeFile(t, "inter.crl", k.inter.CRL(t, nil, nil))
	blank := writeFile(t, "blank.pem", append(append(k.inter.PEM(), '\n'), k.root.PEM()...))
	keyFile := writeFile(t, "key.pem", []byte("-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n"))
	dir := t.TempDir()

	tests := []struct {
		name     string
		spec     truststore.Spec
		albError string
		rule     string
		contains string
	}{
		{"missing bundle", truststore.Spec{Name: "ts", BundleFile: filepath.Join(dir, "nope.pem")},
			truststore.ErrCaCertificatesBundleNotFound, "bundle-unreadable", "nope.pem"},
		{"bundle is a directory", truststore.Spec{Name: "ts", BundleFile: dir},
			truststore.ErrCaCertificatesBundleNotFound, "bundle-unreadable", "is a directory"},
		{"blank line in bundle", truststore.Spec{Name: "ts", BundleFile: blank},
			truststore.ErrInvalidCaCertificatesBundle, "bundle-blank-line", "blank.pem:"},
		{"key file as bundle", truststore.Spec{Name: "ts", BundleFile: keyFile},
			truststore.ErrInvalidCaCertificatesBundle, "bundle-pem-type", "EC PRIVATE KEY"},
		{"DER CRL", truststore.Spec{Name: "ts", BundleFile: bundle, RevocationFiles: []string{der}},
			truststore.ErrInvalidRevocationContent, "crl-der", "albmtls crl convert"},
		{"CRL is a directory", truststore.Spec{Name: "ts", BundleFile: bundle, RevocationFiles: []string{dir}},
			truststore.ErrRevocationContentNotFound, "crl-unreadable", "is a directory"},
		{"missing CRL", truststore.Spec{Name: "ts", BundleFile: bundle, RevocationFiles: []string{filepath.Join(dir, "x.pem")}},
			truststore.ErrRevocationContentNotFound, "crl-unreadable", "x.pem"},
		{"too many entries", truststore.Spec{Name: "ts", BundleFile: bundle, RevocationFiles: []string{crlFile, rootCRL},
			Limits: truststore.Limits{MaxRevocationEntries: 2}},
			truststore.ErrTooManyTrustStoreRevocationEntries, "crl-too-many-entries", "3 revocation entries; the quota is 2"},
		{"too many lists", truststore.Spec{Name: "ts", BundleFile: bundle, RevocationFiles: []string{crlFile, rootCRL},
			Limits: truststore.Limits{MaxRevocationLists: 1}},
			truststore.QuotaRevocationListsPerStore, "crl-too-many-lists", "quota is 1"},
		{"bad name", truststore.Spec{Name: "-bad-", BundleFile: bundle}, "ValidationError", "trust-store-name", "not a valid"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := truststore.Load(tc.spec)
			require.Error(t, err)
			assert.Nil(t, s)
			var le *truststore.LoadError
			require.True(t, errors.As(err, &le))
			assert.Equal(t, tc.albError, le.ALBError())
			assert.Equal(t, tc.rule, le.Findings[0].Rule)
			assert.Contains(t, err.Error(), tc.contains)
			assert.Contains(t, err.Error(), `trust store "`+tc.spec.Name+`"`)
		})
	}
}

func TestLoadQuotaAtTheLimit(t *testing.T) {
	k := testKit(t)
	bundle := writeFile(t, "bundle.pem", tt.Bundle(k.inter, k.root))
	crlFile := writeFile(t, "inter.crl.pem", tt.CRLPEM(k.inter.CRL(t, tt.SerialsOf(k.revoked, k.leaf), nil)))
	s, err := truststore.Load(truststore.Spec{Name: "ts", BundleFile: bundle, RevocationFiles: []string{crlFile},
		Limits: truststore.Limits{MaxRevocationEntries: 2, MaxRevocationLists: 1}})
	require.NoError(t, err, "exactly at the quota is allowed")
	assert.Equal(t, 2, s.TotalRevokedEntries())
}

func TestLoadAcceptBadCRLSignature(t *testing.T) {
	k := testKit(t)
	bundle := writeFile(t, "bundle.pem", tt.Bundle(k.inter, k.root))
	bad := writeFile(t, "bad.crl.pem", tt.CRLPEM(tt.TamperedCRL(k.inter.CRL(t, tt.SerialsOf(k.revoked), nil))))
	spec := truststore.Spec{Name: "ts", BundleFile: bundle, RevocationFiles: []string{bad}}

	_, err := truststore.Load(spec)
	var le *truststore.LoadError
	require.ErrorAs(t, err, &le)
	assert.Equal(t, "crl-bad-signature", le.Findings[0].Rule, "refused by default")

	spec.Limits.AcceptBadCRLSignature = true
	s, err := truststore.Load(spec)
	require.NoError(t, err)
	assert.False(t, findRule(t, s.Warnings(), "crl-bad-signature").Fatal)
	r := s.Lookup(k.inter.Cert, k.revoked.Cert.SerialNumber)
	assert.True(t, r.Checked)
	assert.False(t, r.Revoked, "an unusable CRL revokes nothing")
	assert.Equal(t, truststore.UnusableSignature, r.Unusable)
	assert.Equal(t, int64(1), r.RevocationID)
	assert.NotEmpty(t, s.Revocations()[0].Unusable)
}

func TestLookupScope(t *testing.T) {
	k := testKit(t)
	bundle := writeFile(t, "bundle.pem", tt.Bundle(k.inter, k.root))
	userOnly := craft(t, k.root, tt.RawCRL{Entries: []tt.RawEntry{{SerialInt: k.inter.Cert.SerialNumber}},
		Extensions: []pkix.Extension{{Id: oidIDP, Critical: true, Value: idp(0x81, 0x01, 0xff)}}})
	s, err := truststore.Load(truststore.Spec{Name: "ts", BundleFile: bundle,
		RevocationFiles: []string{writeFile(t, "root.crl.pem", tt.CRLPEM(userOnly))}})
	require.NoError(t, err)
	r := s.LookupCert(k.inter.Cert, k.root.Cert)
	assert.Equal(t, truststore.UnusableScope, r.Unusable, "a user-certificates-only CRL cannot judge a CA")
	assert.True(t, s.Lookup(k.root.Cert, k.inter.Cert.SerialNumber).Revoked, "Lookup by serial ignores scope")
}

func TestLookupDoesNotAllocate(t *testing.T) {
	k := testKit(t)
	bundle := writeFile(t, "bundle.pem", tt.Bundle(k.inter, k.root))
	crl := writeFile(t, "c.pem", tt.CRLPEM(k.inter.CRL(t, tt.SerialsOf(k.revoked), nil)))
	s, err := truststore.Load(truststore.Spec{Name: "ts", BundleFile: bundle, RevocationFiles: []string{crl}})
	require.NoError(t, err)
	allocs := testing.AllocsPerRun(100, func() {
		_ = s.LookupCert(k.leaf.Cert, k.inter.Cert)
		_ = s.Lookup(k.inter.Cert, k.revoked.Cert.SerialNumber)
	})
	assert.Zero(t, allocs)
}
