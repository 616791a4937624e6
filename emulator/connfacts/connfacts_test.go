package connfacts_test

import (
	"crypto/tls"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/albmtls/albmtls/emulator/certfmt"
	"github.com/albmtls/albmtls/emulator/connfacts"
	"github.com/albmtls/albmtls/pki/pkitest"
)

func TestNewTLS(t *testing.T) {
	for _, tc := range []struct {
		name                  string
		version, suite        uint16
		curve                 tls.CurveID
		protocol, cipher, kex string
	}{
		{"TLS 1.2", tls.VersionTLS12, tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, tls.CurveP256, "TLSv1.2", "ECDHE-RSA-AES128-GCM-SHA256", "secp256r1"},
		{"TLS 1.3", tls.VersionTLS13, tls.TLS_AES_128_GCM_SHA256, tls.X25519, "TLSv1.3", "TLS_AES_128_GCM_SHA256", "x25519"},
		{"no group negotiated", tls.VersionTLS12, tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, 0, "TLSv1.2", "ECDHE-RSA-AES128-GCM-SHA256", ""},
		{"plain HTTP or no handshake", 0, 0, 0, "", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := connfacts.NewTLS(tc.version, tc.suite, tc.curve)
			assert.Equal(t, connfacts.TLS{Version: tc.version, CipherSuite: tc.suite, CurveID: tc.curve,
				Protocol: tc.protocol, Cipher: tc.cipher, KeyExchange: tc.kex}, got)
		})
	}
}

// TestNewCert: the fields are certfmt's formats of the leaf, whether the
// listener passes the parsed leaf or only the chain; a chain whose leaf does
// not parse has no fields; no certificate is nil.
func TestNewCert(t *testing.T) {
	root := pkitest.NewCA(t)
	inter := pkitest.Intermediate(t, root)
	leaf := pkitest.Client(t, inter, "client.example.test")
	chain := [][]byte{leaf.Cert.Raw, inter.Cert.Raw}
	subject, _ := certfmt.DN(leaf.Cert.RawSubject)
	issuer, _ := certfmt.DN(leaf.Cert.RawIssuer)
	require.NotEmpty(t, subject)

	for name, c := range map[string]*connfacts.Cert{
		"parsed leaf":     connfacts.NewCert(leaf.Cert, chain),
		"leaf from chain": connfacts.NewCert(nil, chain),
	} {
		t.Run(name, func(t *testing.T) {
			require.NotNil(t, c)
			require.NotNil(t, c.Leaf)
			assert.Equal(t, leaf.Cert.Raw, c.Leaf.Raw)
			assert.Equal(t, subject, c.Subject)
			assert.Equal(t, issuer, c.Issuer())
			assert.Equal(t, certfmt.Serial(leaf.Cert), c.Serial)
			assert.Equal(t, certfmt.Validity(leaf.Cert), c.Validity)
			for _, eq := range []certfmt.EqualsEncoding{certfmt.EqualsLiteral, certfmt.EqualsPercent} {
				assert.Equal(t, certfmt.PEMURLEncode([][]byte{leaf.Cert.Raw}, eq), c.LeafPEMURL(eq), "leaf, %v", eq)
				assert.Equal(t, certfmt.PEMURLEncode(chain, eq), c.ChainPEMURL(eq), "chain, %v", eq)
			}
		})
	}
	t.Run("unparseable leaf", func(t *testing.T) {
		c := connfacts.NewCert(nil, [][]byte{{0x30, 0x00}})
		require.NotNil(t, c)
		assert.Nil(t, c.Leaf)
		assert.Empty(t, c.Subject+c.Issuer()+c.Serial+c.Validity)
		assert.Empty(t, c.LeafPEMURL(certfmt.EqualsLiteral))
	})
	t.Run("no certificate", func(t *testing.T) {
		assert.Nil(t, connfacts.NewCert(nil, nil))
	})
}

// BenchmarkNewCert is the once-per-connection cost of formatting a client
// certificate (it used to be paid by the connection log and again by the
// headers).
func BenchmarkNewCert(b *testing.B) {
	root := pkitest.NewCA(b)
	inter := pkitest.Intermediate(b, root)
	leaf := pkitest.Client(b, inter, "client.example.test")
	chain := [][]byte{leaf.Cert.Raw, inter.Cert.Raw}
	b.ReportAllocs()
	for b.Loop() {
		c := connfacts.NewCert(leaf.Cert, chain)
		_ = c.LeafPEMURL(certfmt.EqualsLiteral)
	}
}
