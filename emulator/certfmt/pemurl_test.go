package certfmt

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	mrand "math/rand/v2"
	"net/url"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/albmtls/albmtls/internal/testtool"
)

// quote is Python's urllib.parse.quote(s, safe=safe), the reference the spec
// gives for ALB's encoding (§11): unreserved characters and safe stay, every
// other byte becomes %XX with uppercase hex.
func quote(s, safe string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
			strings.IndexByte("-._~", c) >= 0 || strings.IndexByte(safe, c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&0xf])
	}
	return b.String()
}

func reference(ders [][]byte, safe string) string {
	var b strings.Builder
	for _, der := range ders {
		b.WriteString(quote(string(pemOf(der)), safe))
	}
	return b.String()
}

func TestPEMURLEncodeMatchesReference(t *testing.T) {
	rng := mrand.New(mrand.NewPCG(1, 2))
	var ders [][]byte
	for _, n := range []int{0, 1, 2, 3, 47, 48, 49, 95, 96, 97, 500, 1500} {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.IntN(256))
		}
		ders = append(ders, b)
		assert.Equal(t, reference([][]byte{b}, "+=/"), PEMURLEncode([][]byte{b}, EqualsLiteral), "length %d", n)
		assert.Equal(t, reference([][]byte{b}, "+/"), PEMURLEncode([][]byte{b}, EqualsPercent), "length %d", n)
	}
	assert.Equal(t, reference(ders, "+=/"), PEMURLEncode(ders, EqualsLiteral))
	assert.Equal(t, reference(ders, "+/"), PEMURLEncode(ders, EqualsPercent))
	assert.Equal(t, "", PEMURLEncode(nil, EqualsLiteral))
}

// TestPEMURLEncodeMatchesPython runs the spec's reference implementation itself.
func TestPEMURLEncodeMatchesPython(t *testing.T) {
	python3 := testtool.Need(t, "python3")
	chain := testChain(t)
	var pemText bytes.Buffer
	for _, der := range chain {
		pemText.Write(pemOf(der))
	}
	cmd := exec.Command(python3, "-c", `import sys, urllib.parse; sys.stdout.write(urllib.parse.quote(sys.stdin.read(), safe="+=/"))`)
	cmd.Stdin = &pemText
	out, err := cmd.Output()
	require.NoError(t, err)
	assert.Equal(t, string(out), PEMURLEncode(chain, EqualsLiteral))
}

func TestPEMURLEncodeShape(t *testing.T) {
	chain := testChain(t)
	v := PEMURLEncode(chain[:1], EqualsLiteral)
	assert.True(t, strings.HasPrefix(v, "-----BEGIN%20CERTIFICATE-----%0A"))
	assert.True(t, strings.HasSuffix(v, "%0A-----END%20CERTIFICATE-----%0A"))
	for _, c := range []byte(v) {
		assert.True(t, c > 0x20 && c < 0x7f, "header value holds byte %#x", c)
	}
	p := PEMURLEncode(chain, EqualsPercent)
	assert.NotContains(t, p, "=")
	assert.Equal(t, strings.Count(PEMURLEncode(chain, EqualsLiteral), "="), strings.Count(p, "%3D"))
}

func TestDecodePEMURLRoundTrip(t *testing.T) {
	chain := testChain(t)
	for _, eq := range []EqualsEncoding{EqualsLiteral, EqualsPercent} {
		t.Run(eq.String(), func(t *testing.T) {
			certs, err := DecodePEMURL(PEMURLEncode(chain, eq))
			require.NoError(t, err)
			require.Len(t, certs, len(chain))
			for i := range chain {
				assert.Equal(t, chain[i], certs[i].Raw, "certificate %d", i)
			}
		})
	}
	// A value whose '+' were percent-encoded too (%2B) decodes the same.
	v := PEMURLEncode(chain, EqualsLiteral)
	require.Contains(t, v, "+", "test chain should have a '+' in its base64")
	certs, err := DecodePEMURL(strings.ReplaceAll(v, "+", "%2B"))
	require.NoError(t, err)
	assert.Equal(t, chain[0], certs[0].Raw)
}

// TestFormDecodingBreaks documents alb-behaviour §9.1: form semantics turn the '+' of
// base64 into spaces and the certificate is lost.
func TestFormDecodingBreaks(t *testing.T) {
	chain := testChain(t)
	v := PEMURLEncode(chain[:1], EqualsLiteral)
	require.Contains(t, v, "+")

	formDecoded, err := url.QueryUnescape(v)
	require.NoError(t, err)
	require.Contains(t, formDecoded[len("-----BEGIN CERTIFICATE-----"):], " ")
	block, _ := pem.Decode([]byte(formDecoded))
	if block != nil {
		assert.NotEqual(t, chain[0], block.Bytes, "form decoding should corrupt the certificate")
		_, err := x509.ParseCertificate(block.Bytes)
		assert.Error(t, err)
	}
	rfc3986, err := url.PathUnescape(v)
	require.NoError(t, err)
	block, _ = pem.Decode([]byte(rfc3986))
	require.NotNil(t, block)
	assert.Equal(t, chain[0], block.Bytes)

	// A value that went through form decoding and was re-encoded is refused
	// with the reason.
	_, err = DecodePEMURL(url.PathEscape(formDecoded))
	require.ErrorContains(t, err, "decoded as a form")
}

func TestDecodePEMURLErrors(t *testing.T) {
	chain := testChain(t)
	good := PEMURLEncode(chain[:1], EqualsLiteral)
	for _, tc := range []struct {
		name, value, want string
	}{
		{"empty", "", "header is empty"},
		{"bad escape", "-----BEGIN%2GCERTIFICATE", "not valid percent-encoding"},
		{"not pem", "hello", "does not start with"},
		{"no end", strings.TrimSuffix(good, "-----END%20CERTIFICATE-----%0A"), "has no"},
		{"bad base64", strings.Replace(good, "%0A", "%0A!!!!", 1), "not valid PEM"},
		{"not a certificate", quote(string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte{0x30, 0x00}})), "+=/"), "certificate 1 in the header"},
		{"key block", quote("-----BEGIN PRIVATE KEY-----\nAA==\n-----END PRIVATE KEY-----\n", "+=/"), "does not start with"},
		{"trailing garbage", good + "junk", "certificate 2 in the header does not start with"},
		{"only newlines", "%0A%0A", "holds no PEM certificate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodePEMURL(tc.value)
			require.ErrorContains(t, err, tc.want)
		})
	}
}

func TestEqualsEncodingParse(t *testing.T) {
	for _, e := range []EqualsEncoding{EqualsLiteral, EqualsPercent} {
		got, err := ParseEqualsEncoding(e.String())
		require.NoError(t, err)
		assert.Equal(t, e, got)
	}
	_, err := ParseEqualsEncoding("%3D")
	require.ErrorContains(t, err, "literal")
	assert.Equal(t, "EqualsEncoding(7)", EqualsEncoding(7).String())
}

func TestValidity(t *testing.T) {
	c := &x509.Certificate{
		NotBefore: testNotBefore,
		NotAfter:  testNotAfter.In(time.FixedZone("UTC+9", 9*3600)),
	}
	assert.Equal(t, "NotBefore=2023-09-21T01:50:17Z;NotAfter=2024-09-20T01:50:17Z", Validity(c))
	assert.Equal(t, "", Validity(nil))
	assert.Equal(t, "2023-09-21T01:50:17Z", FormatTime(testNotBefore))
}

// testChain returns leaf, intermediate and root DER, as a client sends them.
func testChain(tb testing.TB) [][]byte {
	tb.Helper()
	key := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		require.NoError(tb, err)
		return k
	}
	rootKey, interKey, leafKey := key(), key(), key()
	mk := func(serial int64, cn string, ca bool, parent *x509.Certificate, pub any, priv *ecdsa.PrivateKey) *x509.Certificate {
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn, Organization: []string{"Example+Co"}},
			NotBefore: testNotBefore, NotAfter: testNotAfter,
			BasicConstraintsValid: true, IsCA: ca,
		}
		if parent == nil {
			parent = tmpl
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, priv)
		require.NoError(tb, err)
		c, err := x509.ParseCertificate(der)
		require.NoError(tb, err)
		return c
	}
	// Retry until the leaf's base64 holds a '+', so the '+' tests bite.
	for {
		root := mk(1, "Root", true, nil, &rootKey.PublicKey, rootKey)
		inter := mk(2, "Intermediate", true, root, &interKey.PublicKey, rootKey)
		leaf := mk(3, "client", false, inter, &leafKey.PublicKey, interKey)
		if strings.Contains(string(pemOf(leaf.Raw)), "+") {
			return [][]byte{leaf.Raw, inter.Raw, root.Raw}
		}
	}
}
