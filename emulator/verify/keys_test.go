package verify_test

import (
	"bytes"
	//lint:ignore SA1019 only to assert that openssl made a DSA key, which ALB refuses
	"crypto/dsa"
	"crypto/ecdh"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/albmtls/albmtls/emulator/truststore"
	tt "github.com/albmtls/albmtls/emulator/truststore/truststoretest"
	"github.com/albmtls/albmtls/emulator/verify"
	"github.com/albmtls/albmtls/internal/testtool"
)

// leafWithPublicKey issues a certificate from issuer for an arbitrary public
// key (the subject's private key is not needed to certify it).
func leafWithPublicKey(t *testing.T, issuer *tt.Cert, cn string, pub any) []byte {
	t.Helper()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(int64(len(cn)) + 7000), Subject: pkix.Name{CommonName: cn},
		NotBefore: tt.Now.Add(-60e9), NotAfter: tt.Now.Add(3600e9), KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, issuer.Cert, pub, issuer.Key)
	require.NoError(t, err)
	return der
}

// bigRSAPublicKey is an RSA public key of the given size; the modulus is
// not a product of two primes, which does not matter for a key that is only
// certified.
func bigRSAPublicKey(bits int) *rsa.PublicKey {
	n := new(big.Int).Lsh(big.NewInt(1), uint(bits-1))
	return &rsa.PublicKey{N: n.Add(n, big.NewInt(0x10001)), E: 65537}
}

// TestWireChecks pins the checks on the certificates as sent: message
// size, parsing, key types and depth, and their order (alb-behaviour §S1.1, §S1.6, §S7).
func TestWireChecks(t *testing.T) {
	k := testKit(t)
	st := storeSpec{bundle: []*tt.Cert{k.inter, k.root}}.load(t)
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	x25519, err := ecdh.X25519().GenerateKey(rand.Reader)
	require.NoError(t, err)
	edLeaf := leafWithPublicKey(t, k.inter, "ed25519", edKey.Public())
	x25519SPKI, err := x509.MarshalPKIXPublicKey(x25519.PublicKey())
	require.NoError(t, err)
	x25519Leaf := tt.ReplaceSPKI(t, k.leaf, x25519SPKI, k.inter)
	edInter := k.root.Intermediate(t, "ed25519 intermediate", tt.WithKey(edKey))
	garbage := []byte{0x30, 0x03, 0x02, 0x01, 0x01}
	good := tt.Chain(k.leaf, k.inter)

	tests := []struct {
		name  string
		chain [][]byte
		want  verify.Code
	}{
		{"P-256", good, verify.Success},
		{"P-384", tt.Chain(k.inter.Leaf(t, "p384", tt.WithKey(tt.ECKey(t, elliptic.P384()))), k.inter), verify.Success},
		{"P-521", tt.Chain(k.inter.Leaf(t, "p521", tt.WithKey(tt.ECKey(t, elliptic.P521()))), k.inter), verify.Success},
		{"RSA 2048", tt.Chain(k.inter.Leaf(t, "rsa", tt.WithKey(tt.RSAKey(t, 2048))), k.inter), verify.Success},
		{"P-224", tt.Chain(k.inter.Leaf(t, "p224", tt.WithKey(tt.ECKey(t, elliptic.P224()))), k.inter), verify.ClientCertTypeUnsupported},
		{"RSA 1024", tt.Chain(k.inter.Leaf(t, "rsa1024", tt.WithKey(tt.RSAKey(t, 1024))), k.inter), verify.ClientCertTypeUnsupported},
		{"RSA 8193 bits", [][]byte{leafWithPublicKey(t, k.inter, "rsa8193", bigRSAPublicKey(8193)), k.inter.Cert.Raw}, verify.ClientCertTypeUnsupported},
		{"RSA 8192 bits", [][]byte{leafWithPublicKey(t, k.inter, "rsa8192", bigRSAPublicKey(8192)), k.inter.Cert.Raw}, verify.Success},
		{"Ed25519 leaf", [][]byte{edLeaf, k.inter.Cert.Raw}, verify.ClientCertTypeUnsupported},
		{"X25519 leaf", [][]byte{x25519Leaf, k.inter.Cert.Raw}, verify.ClientCertTypeUnsupported},
		{"Ed25519 intermediate", tt.Chain(edInter.Leaf(t, "under ed25519"), edInter), verify.ClientCertTypeUnsupported},
		{"v1 leaf", tt.Chain(tt.V1(t, "v1 leaf", tt.ECKey(t, elliptic.P256()), k.inter), k.inter), verify.ClientCertTypeUnsupported},
		{"unparseable leaf", [][]byte{garbage}, verify.ClientCertInvalid},
		{"empty entry", [][]byte{good[0], {}}, verify.ClientCertInvalid},
		{"unparseable second certificate", [][]byte{good[0], garbage}, verify.ClientCertInvalid},
		{"key type before a later parse error", [][]byte{edLeaf, garbage}, verify.ClientCertTypeUnsupported},
		{"parse error before a later key type", [][]byte{garbage, edLeaf}, verify.ClientCertInvalid},
		{"four certificates", [][]byte{good[0], good[1], k.root.Cert.Raw, k.root.Cert.Raw}, verify.Success},
		{"five certificates", [][]byte{good[0], good[1], good[1], good[1], good[1]}, verify.ClientCertMaxChainDepthExceeded},
		{"fifth certificate unparseable is depth", [][]byte{good[0], good[1], good[1], good[1], garbage}, verify.ClientCertMaxChainDepthExceeded},
		{"second of five unparseable is invalid", [][]byte{good[0], garbage, good[1], good[1], good[1]}, verify.ClientCertInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := verifyWith(t, st, verify.Options{}, tc.chain)
			assert.Equal(t, tc.want, r.Code, r.Reason)
		})
	}
}

// TestMessageSize: the Certificate message body may be at most 65,536
// bytes; the size is checked before anything else (alb-behaviour §S7).
func TestMessageSize(t *testing.T) {
	v := verify.New(func() *truststore.Store { return nil }, verify.Options{})
	// TLS 1.3: 1 + 3 + (3 + len + 2); TLS 1.2: 3 + (3 + len).
	for _, tc := range []struct {
		version uint16
		len     int
		want    verify.Code
	}{
		{tls.VersionTLS13, 65536 - 9, verify.ClientCertInvalid},
		{tls.VersionTLS13, 65536 - 8, verify.ClientCertMaxSizeExceeded},
		{tls.VersionTLS12, 65536 - 6, verify.ClientCertInvalid},
		{tls.VersionTLS12, 65536 - 5, verify.ClientCertMaxSizeExceeded},
	} {
		r := v.Verify(tc.version, [][]byte{bytes.Repeat([]byte{0xee}, tc.len)})
		assert.Equal(t, tc.want, r.Code, "TLS %x, %d-byte certificate: %s", tc.version, tc.len, r.Reason)
	}
	raised := verify.New(func() *truststore.Store { return nil }, verify.Options{MaxCertificateMessageSize: 1 << 20})
	assert.Equal(t, verify.ClientCertInvalid, raised.Verify(tls.VersionTLS13, [][]byte{make([]byte, 100000)}).Code)
	assert.Equal(t, 4+5+10+5+20, verify.CertificateMessageSize(tls.VersionTLS13, func(yield func(int) bool) {
		_ = yield(10) && yield(20)
	}))
}

// TestDSALeafFromOpenSSL certifies a DSA key made by the real openssl:
// Go parses it, ALB does not support it.
func TestDSALeafFromOpenSSL(t *testing.T) {
	openssl := testtool.Need(t, "openssl")
	k := testKit(t)
	dir := t.TempDir()
	key := filepath.Join(dir, "dsa.pem")
	out, err := exec.Command(openssl, "genpkey", "-genparam", "-algorithm", "DSA", "-pkeyopt", "dsa_paramgen_bits:2048",
		"-out", filepath.Join(dir, "params.pem")).CombinedOutput()
	require.NoError(t, err, "%s", out)
	out, err = exec.Command(openssl, "genpkey", "-paramfile", filepath.Join(dir, "params.pem"), "-out", key).CombinedOutput()
	require.NoError(t, err, "%s", out)
	pubDER, err := exec.Command(openssl, "pkey", "-in", key, "-pubout", "-outform", "DER").Output()
	require.NoError(t, err)
	pub, err := x509.ParsePKIXPublicKey(pubDER)
	require.NoError(t, err, "Go parses DSA public keys")
	require.IsType(t, &dsa.PublicKey{}, pub)
	// Go cannot certify a DSA key; openssl can, with the intermediate's key.
	caKey := filepath.Join(dir, "ca-key.pem")
	caDER, err := x509.MarshalPKCS8PrivateKey(k.inter.Key)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(caKey, pemBlock("PRIVATE KEY", caDER), 0o600))
	caCert := filepath.Join(dir, "ca.pem")
	require.NoError(t, os.WriteFile(caCert, k.inter.PEM(), 0o644))
	csr := filepath.Join(dir, "dsa.csr")
	out, err = exec.Command(openssl, "req", "-new", "-key", key, "-subj", "/CN=dsa client", "-out", csr).CombinedOutput()
	require.NoError(t, err, "%s", out)
	cert := filepath.Join(dir, "dsa.pem.crt")
	out, err = exec.Command(openssl, "x509", "-req", "-in", csr, "-CA", caCert, "-CAkey", caKey, "-CAcreateserial",
		"-days", "1", "-sha256", "-outform", "DER", "-out", cert).CombinedOutput()
	require.NoError(t, err, "%s", out)
	der, err := os.ReadFile(cert)
	require.NoError(t, err)
	st := storeSpec{bundle: []*tt.Cert{k.inter, k.root}}.load(t)
	r := verifyWith(t, st, verify.Options{}, [][]byte{der, k.inter.Cert.Raw})
	assert.Equal(t, verify.ClientCertTypeUnsupported, r.Code, r.Reason)
	assert.Contains(t, r.Reason, "DSA")
}
