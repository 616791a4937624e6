package acm_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	acmsdk "github.com/aws/aws-sdk-go-v2/service/acm"
	"github.com/aws/aws-sdk-go-v2/service/acm/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/albmtls/albmtls/awsapi/acm"
	"github.com/albmtls/albmtls/emulator/awsarn"
	"github.com/albmtls/albmtls/emulator/certfmt"
	"github.com/albmtls/albmtls/pki"
	"github.com/albmtls/albmtls/pki/pkitest"
)

// serverWithChain is the story's server certificate: a leaf from an
// intermediate under a root, imported with the intermediate and the root as
// its chain.
func serverWithChain(t testing.TB) (material, *pki.Leaf) {
	t.Helper()
	root := pkitest.NewCA(t, pkitest.WithCommonName("Story Root CA"))
	inter := pkitest.Intermediate(t, root, pkitest.WithCommonName("Story Intermediate CA"))
	leaf := pkitest.Server(t, inter, "www.example.com", "example.com", "127.0.0.1")
	return material{
		cert:  leaf.CertPEM,
		key:   leaf.KeyPEM,
		chain: append(append([]byte{}, inter.CertPEM...), root.CertPEM...),
		x509:  leaf.Cert,
	}, leaf
}

func TestImportDescribeGetDelete(t *testing.T) {
	ctx := context.Background()
	changes := 0
	f := newFixture(t, acm.Options{OnChange: func() { changes++ }})
	m, leaf := serverWithChain(t)

	arn := f.importMaterial(t, m)
	assert.Equal(t, 1, changes, "OnChange after the import")
	p, ok := awsarn.ParseCertificate(arn)
	require.True(t, ok, arn)
	assert.Equal(t, awsarn.CertificateParts{Partition: "aws", Region: region, Account: account, ID: p.ID}, p)

	d, err := f.client.DescribeCertificate(ctx, &acmsdk.DescribeCertificateInput{CertificateArn: &arn})
	require.NoError(t, err)
	c := d.Certificate
	assert.Equal(t, arn, aws.ToString(c.CertificateArn))
	assert.Equal(t, "www.example.com", aws.ToString(c.DomainName))
	assert.Equal(t, []string{"www.example.com", "example.com", "127.0.0.1"}, c.SubjectAlternativeNames)
	wantSubject, _ := certfmt.DN(leaf.Cert.RawSubject)
	wantIssuer, _ := certfmt.DN(leaf.Cert.RawIssuer)
	assert.Equal(t, wantSubject, aws.ToString(c.Subject))
	assert.Equal(t, wantIssuer, aws.ToString(c.Issuer))
	assert.Contains(t, aws.ToString(c.Issuer), "CN=Story Intermediate CA")
	assert.Equal(t, colonHex(leaf.Cert.SerialNumber.Bytes()), aws.ToString(c.Serial))
	assert.Regexp(t, `^[0-9a-f]{2}(:[0-9a-f]{2})*$`, aws.ToString(c.Serial))
	assert.Equal(t, types.KeyAlgorithmEcPrime256v1, c.KeyAlgorithm)
	assert.Equal(t, "SHA256WITHECDSA", aws.ToString(c.SignatureAlgorithm))
	assert.Equal(t, types.CertificateTypeImported, c.Type)
	assert.Equal(t, types.CertificateStatusIssued, c.Status)
	assert.Equal(t, types.RenewalEligibilityIneligible, c.RenewalEligibility)
	assert.True(t, leaf.Cert.NotBefore.Equal(aws.ToTime(c.NotBefore)), "NotBefore %v", c.NotBefore)
	assert.True(t, leaf.Cert.NotAfter.Equal(aws.ToTime(c.NotAfter)), "NotAfter %v", c.NotAfter)
	assert.True(t, f.clock.Now().Equal(aws.ToTime(c.ImportedAt)), "ImportedAt %v", c.ImportedAt)
	assert.True(t, f.clock.Now().Equal(aws.ToTime(c.CreatedAt)), "CreatedAt %v", c.CreatedAt)
	assert.Empty(t, c.InUseBy)
	assert.Equal(t, []types.KeyUsage{{Name: types.KeyUsageNameDigitalSignature}}, c.KeyUsages)
	require.Len(t, c.ExtendedKeyUsages, 1)
	assert.Equal(t, types.ExtendedKeyUsageNameTlsWebServerAuthentication, c.ExtendedKeyUsages[0].Name)
	assert.Equal(t, "1.3.6.1.5.5.7.3.1", aws.ToString(c.ExtendedKeyUsages[0].OID))

	g, err := f.client.GetCertificate(ctx, &acmsdk.GetCertificateInput{CertificateArn: &arn})
	require.NoError(t, err)
	assert.Equal(t, string(leaf.CertPEM), aws.ToString(g.Certificate))
	assert.Equal(t, string(m.chain), aws.ToString(g.CertificateChain))

	// What a listener's CertificateArn resolves to.
	got, ok := f.svc.Certificate(arn)
	require.True(t, ok)
	assert.Equal(t, acm.Certificate{ARN: arn, DomainName: "www.example.com", CertificatePEM: leaf.CertPEM, ChainPEM: m.chain, PrivateKeyPEM: leaf.KeyPEM}, got)
	got.CertificatePEM[0] = 'X' // the caller's copy
	again, _ := f.svc.Certificate(arn)
	assert.Equal(t, leaf.CertPEM, again.CertificatePEM)

	_, err = f.client.DeleteCertificate(ctx, &acmsdk.DeleteCertificateInput{CertificateArn: &arn})
	require.NoError(t, err)
	assert.Equal(t, 2, changes, "OnChange after the delete")
	_, err = f.client.DescribeCertificate(ctx, &acmsdk.DescribeCertificateInput{CertificateArn: &arn})
	e := requireAPIError[*types.ResourceNotFoundException](t, err)
	assert.Contains(t, e.ErrorMessage(), arn)
	_, err = f.client.GetCertificate(ctx, &acmsdk.GetCertificateInput{CertificateArn: &arn})
	requireAPIError[*types.ResourceNotFoundException](t, err)
	_, err = f.client.DeleteCertificate(ctx, &acmsdk.DeleteCertificateInput{CertificateArn: &arn})
	requireAPIError[*types.ResourceNotFoundException](t, err)
	assert.Equal(t, 2, changes, "no OnChange for a failed call")
	_, ok = f.svc.Certificate(arn)
	assert.False(t, ok)
}

func colonHex(b []byte) string {
	parts := make([]string, len(b))
	for i, x := range b {
		parts[i] = fmt.Sprintf("%02x", x)
	}
	return strings.Join(parts, ":")
}

func TestImportWithoutChainAndSameCertificateTwice(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, acm.Options{})
	m, _ := serverWithChain(t)
	m.chain = nil
	a := f.importMaterial(t, m)
	b := f.importMaterial(t, m)
	assert.NotEqual(t, a, b, "each import without CertificateArn makes a new certificate, as in ACM")
	g, err := f.client.GetCertificate(ctx, &acmsdk.GetCertificateInput{CertificateArn: &a})
	require.NoError(t, err)
	assert.Nil(t, g.CertificateChain)
}

func TestKeyAlgorithms(t *testing.T) {
	f := newFixture(t, acm.Options{})
	ctx := context.Background()
	cases := []struct {
		name string
		key  func(*testing.T) material
		want types.KeyAlgorithm
	}{
		{"RSA 1024", func(t *testing.T) material { return selfSigned(t, rsaKey(t, 1024), nil) }, types.KeyAlgorithmRsa1024},
		{"RSA 2048", func(t *testing.T) material { return selfSigned(t, rsaKey(t, 2048), nil) }, types.KeyAlgorithmRsa2048},
		{"RSA 3072", func(t *testing.T) material { return selfSigned(t, rsaKey(t, 3072), nil) }, types.KeyAlgorithmRsa3072},
		{"RSA 4096", func(t *testing.T) material { return selfSigned(t, rsaKey(t, 4096), nil) }, types.KeyAlgorithmRsa4096},
		{"EC P-256", func(t *testing.T) material { return selfSigned(t, ecKey(t, elliptic.P256()), nil) }, types.KeyAlgorithmEcPrime256v1},
		{"EC P-384", func(t *testing.T) material { return selfSigned(t, ecKey(t, elliptic.P384()), nil) }, types.KeyAlgorithmEcSecp384r1},
		{"EC P-521", func(t *testing.T) material { return selfSigned(t, ecKey(t, elliptic.P521()), nil) }, types.KeyAlgorithmEcSecp521r1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			arn := f.importMaterial(t, tc.key(t))
			d, err := f.client.DescribeCertificate(ctx, &acmsdk.DescribeCertificateInput{CertificateArn: &arn})
			require.NoError(t, err)
			assert.Equal(t, tc.want, d.Certificate.KeyAlgorithm)
			assert.Equal(t, "0f:e1:7a", aws.ToString(d.Certificate.Serial))
		})
	}
	t.Run("RSA 1536 refused", func(t *testing.T) {
		m := selfSigned(t, rsaKey(t, 1536), nil)
		_, err := f.client.ImportCertificate(ctx, &acmsdk.ImportCertificateInput{Certificate: m.cert, PrivateKey: m.key})
		e := requireAPIError[*types.ValidationException](t, err)
		assert.Contains(t, e.ErrorMessage(), "RSA 1536 bits")
	})
	t.Run("Ed25519 refused", func(t *testing.T) {
		m := selfSigned(t, ed25519Key(t), nil)
		_, err := f.client.ImportCertificate(ctx, &acmsdk.ImportCertificateInput{Certificate: m.cert, PrivateKey: m.key})
		e := requireAPIError[*types.ValidationException](t, err)
		assert.Contains(t, e.ErrorMessage(), "Certificate:")
	})
}

// TestKeyEncodings: besides PKCS #8, the unencrypted key encodings
// openssl writes (PKCS #1 for RSA, SEC 1 for EC, with the EC PARAMETERS
// block of openssl ecparam -genkey in front) are imported.
func TestKeyEncodings(t *testing.T) {
	f := newFixture(t, acm.Options{})
	rk := rsaKey(t, 2048).(*rsa.PrivateKey)
	m := selfSigned(t, rk, nil)
	m.key = pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rk)})
	arn := f.importMaterial(t, m)
	got, _ := f.svc.Certificate(arn)
	assert.Equal(t, m.key, got.PrivateKeyPEM)

	ek := ecKey(t, elliptic.P384()).(*ecdsa.PrivateKey)
	m = selfSigned(t, ek, nil)
	der, err := x509.MarshalECPrivateKey(ek)
	require.NoError(t, err)
	m.key = append([]byte("-----BEGIN EC PARAMETERS-----\nBgUrgQQAIg==\n-----END EC PARAMETERS-----\n"),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der})...)
	f.importMaterial(t, m)
}
