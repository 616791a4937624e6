package truststore_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/albmtls/albmtls/emulator/truststore"
	tt "github.com/albmtls/albmtls/emulator/truststore/truststoretest"
	"github.com/albmtls/albmtls/internal/testtool"
)

func TestCheckBundleRules(t *testing.T) {
	k := testKit(t)
	good := tt.Bundle(k.inter, k.root)
	interPEM, rootPEM := string(k.inter.PEM()), string(k.root.PEM())
	keyDER, err := x509.MarshalPKCS8PrivateKey(k.root.Key)
	require.NoError(t, err)
	keyPEM := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}))
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	bigExt := pkix.Extension{Id: asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 99999, 1}, Value: make([]byte, 17000)}

	tests := []struct {
		name   string
		data   []byte
		limits truststore.Limits
		want   []string // sorted rules, "!" = fatal
		line   int      // line of the first finding, if checked
	}{
		{name: "valid intermediate and root", data: good, want: []string{}},
		{name: "comment without dash", data: []byte("# my CAs\n" + interPEM + "# root\n" + rootPEM), want: []string{}},
		{name: "comment with dash", data: []byte("# my-CA\n" + interPEM), want: []string{"!bundle-comment-dash"}, line: 1},
		{name: "blank line between certificates", data: []byte(interPEM + "\n" + rootPEM), want: []string{"!bundle-blank-line"},
			line: strings.Count(interPEM, "\n") + 1},
		{name: "blank line inside a block", data: []byte(strings.Replace(interPEM, "\n", "\n\n", 1)), want: []string{"!bundle-blank-line"}, line: 2},
		{name: "trailing blank line", data: []byte(interPEM + "\n"), want: []string{"!bundle-blank-line"}},
		{name: "whitespace-only line", data: []byte(interPEM + "   \n" + rootPEM), want: []string{"!bundle-blank-line"}},
		{name: "CRLF line ends", data: bytes.ReplaceAll(good, []byte("\n"), []byte("\r\n")), want: []string{}},
		{name: "no final newline", data: bytes.TrimSuffix(good, []byte("\n")), want: []string{}},
		{name: "private key block", data: []byte(interPEM + keyPEM), want: []string{"!bundle-pem-type"}},
		{name: "text outside blocks", data: []byte("hello\nworld\n" + interPEM), want: []string{"!bundle-text-outside-pem"}, line: 1},
		{name: "DER certificate", data: k.root.Cert.Raw, want: []string{"!bundle-der"}},
		{name: "empty file", data: nil, want: []string{"!bundle-empty"}},
		{name: "only newlines", data: []byte("\n\n"), want: []string{"!bundle-blank-line", "!bundle-empty"}},
		{name: "binary garbage", data: []byte{0xff, 0xfe, 0x00, 0x01}, want: []string{"!bundle-binary"}},
		{name: "truncated", data: []byte(interPEM[:len(interPEM)/2]), want: []string{"!bundle-pem-unterminated"}},
		{name: "corrupt base64", data: []byte(strings.Replace(interPEM, "M", "!", 1)), want: []string{"!bundle-corrupt-base64"}},
		{name: "not a certificate", data: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte{0x30, 0x03, 0x02, 0x01, 0x01}}),
			want: []string{"!bundle-unparseable"}},
		{name: "PEM headers", data: []byte(strings.Replace(interPEM, "-----\n", "-----\nProc-Type: 4,ENCRYPTED\n", 1)), want: []string{"!bundle-pem-headers"}},
		{name: "mismatched END", data: []byte(strings.Replace(interPEM, "END CERTIFICATE", "END X509 CRL", 1) + rootPEM),
			want: []string{"!bundle-pem-mismatch"}},
		{name: "leaf in the bundle is a warning", data: tt.Bundle(k.inter, k.leaf), want: []string{"bundle-not-ca"}},
		{name: "duplicate is a warning", data: tt.Bundle(k.root, k.root), want: []string{"bundle-duplicate"}},
		{name: "expired CA is a warning", data: tt.NewRoot(t, "old", tt.WithValidity(tt.Now.Add(-48*time.Hour), tt.Now.Add(-24*time.Hour))).PEM(),
			want: []string{"bundle-ca-expired"}},
		{name: "future CA is a warning", data: tt.NewRoot(t, "new", tt.WithValidity(tt.Now.Add(24*time.Hour), tt.Now.Add(48*time.Hour))).PEM(),
			want: []string{"bundle-ca-not-yet-valid"}},
		{name: "v1 CA", data: tt.V1(t, "v1 root", tt.ECKey(t, elliptic.P256()), nil).PEM(), want: []string{"!bundle-not-v3", "bundle-not-ca"}},
		{name: "Ed25519 CA", data: tt.NewRoot(t, "ed", tt.WithKey(edKey)).PEM(), want: []string{"!bundle-key-type"}},
		{name: "RSA 1024 CA", data: tt.NewRoot(t, "weak", tt.WithKey(tt.RSAKey(t, 1024))).PEM(), want: []string{"!bundle-key-type"}},
		{name: "P-224 CA", data: tt.NewRoot(t, "p224", tt.WithKey(tt.ECKey(t, elliptic.P224()))).PEM(), want: []string{"!bundle-key-type"}},
		{name: "CA over 16 KB", data: tt.NewRoot(t, "big", tt.WithTemplate(func(c *x509.Certificate) {
			c.ExtraExtensions = []pkix.Extension{bigExt}
		})).PEM(), want: []string{"!bundle-cert-too-large"}},
		{name: "26 CAs", data: manyRoots(t, 26, ""), want: []string{"!bundle-too-many-cas"}, line: 25*lines(k.root.PEM()) + 1},
		{name: "26 CAs with the quota raised", data: manyRoots(t, 26, ""), limits: truststore.Limits{MaxCACertificates: 30}, want: []string{}},
		{name: "advertised subjects over 10,000 bytes", data: manyRoots(t, 40, strings.Repeat("x", 250)),
			limits: truststore.Limits{MaxCACertificates: 40}, want: []string{"bundle-subject-size"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			certs, fs := tc.limits.CheckBundle("bundle.pem", tc.data)
			assert.Equal(t, tc.want, rules(fs), "findings: %v", fs)
			if tc.line > 0 {
				require.NotEmpty(t, fs)
				assert.Equal(t, tc.line, fs[0].Line, "line of %v", fs[0])
			}
			for _, f := range fs {
				assert.Equal(t, "bundle.pem", f.File)
				assert.NotEmpty(t, f.Problem)
				if f.Fatal {
					assert.NotEmpty(t, f.ALBError)
				}
			}
			if !truststore.HasFatal(fs) {
				assert.NotEmpty(t, certs)
			}
		})
	}
}

// manyRoots returns a bundle of n distinct self-signed CAs, each with an
// organizational unit of ou.
func manyRoots(t *testing.T, n int, ou string) []byte {
	t.Helper()
	var out []byte
	for i := range n {
		c := tt.NewRoot(t, fmt.Sprintf("root %02d", i), tt.WithTemplate(func(c *x509.Certificate) {
			if ou != "" {
				c.Subject.OrganizationalUnit = []string{ou}
			}
		}))
		out = append(out, c.PEM()...)
	}
	return out
}

func lines(b []byte) int { return bytes.Count(b, []byte("\n")) }

// TestCheckBundleRefusesOpenSSLTextDump feeds the output of the real
// `openssl x509 -text`, which ALB refuses (alb-behaviour §1.2).
func TestCheckBundleRefusesOpenSSLTextDump(t *testing.T) {
	k := testKit(t)
	in := writeFile(t, "root.pem", k.root.PEM())
	out, err := exec.Command(testtool.Need(t, "openssl"), "x509", "-in", in, "-text").Output()
	require.NoError(t, err)
	require.Contains(t, string(out), "Certificate:")
	_, fs := truststore.CheckBundle("dump.pem", out)
	assert.Equal(t, []string{"!bundle-text-outside-pem"}, rules(fs))
	assert.Equal(t, 1, fs[0].Line)
	assert.Contains(t, fs[0].Problem, "openssl x509 -text")
	assert.Equal(t, truststore.ErrInvalidCaCertificatesBundle, fs[0].ALBError)
}

func TestFindingString(t *testing.T) {
	tests := []struct {
		f    truststore.Finding
		want string
	}{
		{truststore.Finding{ALBError: "InvalidCaCertificatesBundle", File: "bundle.pem", Line: 7, Fatal: true,
			Problem: "blank line in the bundle", Fix: "remove empty lines (ALB rejects them)"},
			"bundle.pem:7: InvalidCaCertificatesBundle: blank line in the bundle; remove empty lines (ALB rejects them)"},
		{truststore.Finding{ALBError: "InvalidRevocationContent", File: "crl.der", Fatal: true, Problem: "DER"},
			"crl.der: InvalidRevocationContent: DER"},
		{truststore.Finding{File: "bundle.pem", Line: 3, Problem: "expired", Fix: "renew"},
			"bundle.pem:3: warning: expired; renew"},
		{truststore.Finding{ALBError: "CaCertificatesSubjectSize", File: "b.pem", Problem: "big"},
			"b.pem: warning: CaCertificatesSubjectSize: big"},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.want, tc.f.String())
	}
}

func TestCheckBundleBlankLineMessage(t *testing.T) {
	k := testKit(t)
	inter := string(k.inter.PEM())
	_, fs := truststore.CheckBundle("bundle.pem", []byte(inter+"\n"+string(k.root.PEM())))
	require.Len(t, fs, 1)
	n := strings.Count(inter, "\n") + 1
	assert.Equal(t, fmt.Sprintf("bundle.pem:%d: InvalidCaCertificatesBundle: blank line in the bundle; remove empty lines (ALB rejects them)", n),
		fs[0].String())
}
