package pki_test

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/albmtls/albmtls/pki"
	"github.com/albmtls/albmtls/pki/pkitest"
)

func TestParseKeyType(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    pki.KeyType
		wantErr string
	}{
		{in: "ecdsa-p256", want: pki.ECDSAP256},
		{in: "ECDSA-P384", want: pki.ECDSAP384},
		{in: " rsa-2048 ", want: pki.RSA2048},
		{in: "rsa-8192", want: pki.RSA8192},
		{in: "ed25519", want: pki.Ed25519},
		{in: "rsa-2000", wantErr: `unknown key type "rsa-2000": valid values are ecdsa-p256, ecdsa-p384, ecdsa-p521, rsa-1024, rsa-2048, rsa-3072, rsa-4096, rsa-8192, ed25519`},
		{in: "", wantErr: `unknown key type ""`},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := pki.ParseKeyType(tc.in)
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestALBSupported(t *testing.T) {
	supported := map[pki.KeyType]bool{
		pki.ECDSAP256: true, pki.ECDSAP384: true, pki.ECDSAP521: true,
		pki.RSA1024: false, pki.RSA2048: true, pki.RSA3072: true, pki.RSA4096: true, pki.RSA8192: true,
		pki.Ed25519: false,
	}
	require.Len(t, supported, len(pki.KeyTypes()), "every key type has an expectation")
	for _, kt := range pki.KeyTypes() {
		assert.Equal(t, supported[kt], kt.ALBSupported(), kt)
	}
}

// TestIssueEveryKeyType issues a leaf of each key type through cfssl and
// checks the key in the certificate. rsa-8192 is left out: generating one
// takes tens of seconds; it shares every code path with rsa-4096.
func TestIssueEveryKeyType(t *testing.T) {
	ca := pkitest.NewCA(t)
	for _, kt := range pki.KeyTypes() {
		if kt == pki.RSA8192 {
			continue
		}
		t.Run(string(kt), func(t *testing.T) {
			leaf := pkitest.Issue(t, ca, pki.LeafRequest{KeyType: kt, Subject: pki.Name{CommonName: string(kt)}})
			assert.Equal(t, kt, pki.KeyTypeOf(leaf.Cert.PublicKey))
			require.NoError(t, leaf.Cert.CheckSignatureFrom(ca.Cert))
			switch leaf.Key.(type) {
			case *ecdsa.PrivateKey, *rsa.PrivateKey, ed25519.PrivateKey:
			default:
				t.Fatalf("unexpected key type %T", leaf.Key)
			}
			_, isRSA := leaf.Key.(*rsa.PrivateKey)
			wantKU := x509.KeyUsageDigitalSignature
			if isRSA {
				wantKU |= x509.KeyUsageKeyEncipherment
			}
			assert.Equal(t, wantKU, leaf.Cert.KeyUsage)
			// The key PEM is PKCS #8 and matches the certificate.
			assert.Contains(t, string(leaf.KeyPEM), "-----BEGIN PRIVATE KEY-----")
			_, err := tls.X509KeyPair(leaf.CertPEM, leaf.KeyPEM)
			require.NoError(t, err)
		})
	}
}

// TestCAKeyTypes builds CAs of other key types and checks they sign.
func TestCAKeyTypes(t *testing.T) {
	for _, kt := range []pki.KeyType{pki.ECDSAP384, pki.ECDSAP521, pki.RSA2048, pki.Ed25519} {
		t.Run(string(kt), func(t *testing.T) {
			root := pkitest.NewCA(t, pkitest.WithKeyType(kt))
			inter := pkitest.Intermediate(t, root, pkitest.WithKeyType(kt))
			leaf := pkitest.Client(t, inter, "leaf")
			assert.Equal(t, kt, pki.KeyTypeOf(inter.Cert.PublicKey))
			require.NoError(t, inter.Cert.CheckSignatureFrom(root.Cert))
			require.NoError(t, leaf.Cert.CheckSignatureFrom(inter.Cert))
		})
	}
}
