package pki_test

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/albmtls/albmtls/emulator/certfmt"
	"github.com/albmtls/albmtls/internal/testtool"
	"github.com/albmtls/albmtls/pki"
	"github.com/albmtls/albmtls/pki/pkitest"
)

var (
	oidEmail = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 1}
	oidUID   = asn1.ObjectIdentifier{0, 9, 2342, 19200300, 100, 1, 1}
	oidDC    = asn1.ObjectIdentifier{0, 9, 2342, 19200300, 100, 1, 25}
	oidOwn   = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 32473, 7}
)

// TestSubjects issues certificates with various subjects and checks both
// the parsed names and the RFC 2253 string against the real
// `openssl x509 -nameopt RFC2253`, which is what ALB's headers print.
func TestSubjects(t *testing.T) {
	ca := pkitest.NewCA(t)
	for _, tc := range []struct {
		name string
		in   pki.Name
		want string
	}{
		{"cn only", pki.Name{CommonName: "alice"}, "CN=alice"},
		{"all common fields", pki.Name{CommonName: "alice", Organization: "Example Corp", OrganizationalUnit: "Engineering", Country: "US", Province: "Washington", Locality: "Seattle"},
			"CN=alice,OU=Engineering,O=Example Corp,L=Seattle,ST=Washington,C=US"},
		{"extra attributes keep their order", pki.Name{CommonName: "bob", Extra: []pkix.AttributeTypeAndValue{
			{Type: oidUID, Value: "bob42"}, {Type: oidEmail, Value: "bob@example.com"}, {Type: oidDC, Value: "example"},
		}}, "DC=example,emailAddress=bob@example.com,UID=bob42,CN=bob"},
		{"unknown OID is dumped as hex", pki.Name{CommonName: "carol", Extra: []pkix.AttributeTypeAndValue{{Type: oidOwn, Value: "x1"}}},
			"1.3.6.1.4.1.32473.7=#13027831,CN=carol"},
		{"RFC 2253 escaping", pki.Name{CommonName: "a,b+c;d<e>\"f\\", Organization: "#hash", OrganizationalUnit: " spaced "},
			`CN=a\,b\+c\;d\<e\>\"f\\,OU=\ spaced\ ,O=\#hash`},
		{"non-ASCII as escaped UTF-8 bytes", pki.Name{CommonName: "MÄNNIK"}, `CN=M\C3\84NNIK`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			leaf := pkitest.Issue(t, ca, pki.LeafRequest{Subject: tc.in})
			got, err := certfmt.DN(leaf.Cert.RawSubject)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
			assert.Equal(t, tc.want, opensslSubject(t, leaf.CertPEM), "openssl agrees")
			assert.Equal(t, tc.in.CommonName, leaf.Cert.Subject.CommonName)
		})
	}
}

func opensslSubject(t *testing.T, certPEM []byte) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "cert.pem")
	require.NoError(t, os.WriteFile(f, certPEM, 0o644))
	out, err := exec.Command(testtool.Need(t, "openssl"), "x509", "-in", f, "-noout", "-subject", "-nameopt", "RFC2253").CombinedOutput()
	require.NoError(t, err, "%s", out)
	return strings.TrimPrefix(strings.TrimSpace(string(out)), "subject=")
}

func TestSubjectErrors(t *testing.T) {
	ca := pkitest.NewCA(t)
	_, err := ca.Issue(pki.LeafRequest{})
	require.ErrorContains(t, err, "empty subject")
	_, err = ca.Issue(pki.LeafRequest{Subject: pki.Name{CommonName: "x", Extra: []pkix.AttributeTypeAndValue{{Type: oidUID, Value: 42}}}})
	require.ErrorContains(t, err, "only string values are supported")
}

func TestUsages(t *testing.T) {
	ca := pkitest.NewCA(t)
	for _, tc := range []struct {
		name    string
		req     pki.LeafRequest
		wantEKU []x509.ExtKeyUsage
		wantKU  x509.KeyUsage
	}{
		{"default is clientAuth + digitalSignature", pki.LeafRequest{}, []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, x509.KeyUsageDigitalSignature},
		{"rsa default adds keyEncipherment", pki.LeafRequest{KeyType: pki.RSA2048}, []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment},
		{"server only", pki.LeafRequest{ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, x509.KeyUsageDigitalSignature},
		{"client and server in order", pki.LeafRequest{ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}},
			[]x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}, x509.KeyUsageDigitalSignature},
		{"no EKU extension", pki.LeafRequest{ExtKeyUsage: []x509.ExtKeyUsage{}}, nil, x509.KeyUsageDigitalSignature},
		{"keyEncipherment only", pki.LeafRequest{KeyUsage: x509.KeyUsageKeyEncipherment}, []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, x509.KeyUsageKeyEncipherment},
		{"keyAgreement", pki.LeafRequest{KeyUsage: x509.KeyUsageKeyAgreement}, []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, x509.KeyUsageKeyAgreement},
		// cfssl has no name for this EKU, so the stdlib fallback signs it.
		{"EKU unknown to cfssl", pki.LeafRequest{ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageMicrosoftCommercialCodeSigning}},
			[]x509.ExtKeyUsage{x509.ExtKeyUsageMicrosoftCommercialCodeSigning}, x509.KeyUsageDigitalSignature},
		{"any only", pki.LeafRequest{ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}, []x509.ExtKeyUsage{x509.ExtKeyUsageAny}, x509.KeyUsageDigitalSignature},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.req.Subject = pki.Name{CommonName: "usage"}
			leaf := pkitest.Issue(t, ca, tc.req)
			assert.Equal(t, tc.wantEKU, leaf.Cert.ExtKeyUsage)
			assert.Equal(t, tc.wantKU, leaf.Cert.KeyUsage)
			assert.False(t, leaf.Cert.IsCA)
			require.NoError(t, leaf.Cert.CheckSignatureFrom(ca.Cert))
		})
	}
}

func TestSANs(t *testing.T) {
	ca := pkitest.NewCA(t)
	u, _ := url.Parse("spiffe://example.org/alice")
	leaf := pkitest.Issue(t, ca, pki.LeafRequest{Subject: pki.Name{CommonName: "alice"}, SANs: pki.SANs{
		DNSNames:       []string{"alice.example", "alb"},
		IPAddresses:    []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("::1")},
		EmailAddresses: []string{"alice@example.com"},
		URIs:           []*url.URL{u},
	}})
	assert.Equal(t, []string{"alice.example", "alb"}, leaf.Cert.DNSNames)
	require.Len(t, leaf.Cert.IPAddresses, 2)
	assert.True(t, leaf.Cert.IPAddresses[0].Equal(net.ParseIP("127.0.0.1")))
	assert.True(t, leaf.Cert.IPAddresses[1].Equal(net.ParseIP("::1")))
	assert.Equal(t, []string{"alice@example.com"}, leaf.Cert.EmailAddresses)
	require.Len(t, leaf.Cert.URIs, 1)
	assert.Equal(t, u.String(), leaf.Cert.URIs[0].String())
}

func TestValidityFromInjectedClock(t *testing.T) {
	now := time.Date(2031, 5, 6, 7, 8, 9, 500, time.UTC)
	clock := func() time.Time { return now }
	ca := pkitest.NewCA(t, pkitest.WithClock(clock))
	assert.Equal(t, now.Truncate(time.Second).Add(-5*time.Minute), ca.Cert.NotBefore)
	assert.Equal(t, ca.Cert.NotBefore.Add(pki.DefaultRootLifetime), ca.Cert.NotAfter)

	inter := pkitest.Intermediate(t, ca, pkitest.WithClock(clock))
	assert.Equal(t, ca.Cert.NotBefore.Add(pki.DefaultIntermediateLifetime), inter.Cert.NotAfter)

	for _, tc := range []struct {
		name           string
		req            pki.LeafRequest
		wantNB, wantNA time.Time
		wantErr        string
	}{
		{name: "defaults", req: pki.LeafRequest{Clock: clock},
			wantNB: now.Truncate(time.Second).Add(-5 * time.Minute), wantNA: now.Truncate(time.Second).Add(-5*time.Minute + pki.DefaultLeafLifetime)},
		{name: "lifetime", req: pki.LeafRequest{Clock: clock, Lifetime: time.Hour},
			wantNB: now.Truncate(time.Second).Add(-5 * time.Minute), wantNA: now.Truncate(time.Second).Add(55 * time.Minute)},
		{name: "explicit window", req: pki.LeafRequest{Clock: clock, NotBefore: now.Add(-48 * time.Hour), NotAfter: now.Add(-24 * time.Hour)},
			wantNB: now.Add(-48 * time.Hour).Truncate(time.Second), wantNA: now.Add(-24 * time.Hour).Truncate(time.Second)},
		{name: "future window", req: pki.LeafRequest{NotBefore: now.Add(time.Hour), Lifetime: time.Hour},
			wantNB: now.Add(time.Hour).Truncate(time.Second), wantNA: now.Add(2 * time.Hour).Truncate(time.Second)},
		{name: "empty window", req: pki.LeafRequest{NotBefore: now, NotAfter: now}, wantErr: "validity window is empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.req.Subject = pki.Name{CommonName: "clocked"}
			leaf, err := inter.Issue(tc.req)
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.wantNB, leaf.Cert.NotBefore)
			assert.Equal(t, tc.wantNA, leaf.Cert.NotAfter)
		})
	}
}

func TestCAConstraints(t *testing.T) {
	root := pkitest.NewCA(t)
	assert.True(t, root.Cert.IsCA)
	assert.Equal(t, x509.KeyUsageCertSign|x509.KeyUsageCRLSign|x509.KeyUsageDigitalSignature, root.Cert.KeyUsage)
	assert.Nil(t, root.Issuer())
	assert.Empty(t, root.Chain(), "a root is never sent by the client")

	zero := pkitest.Intermediate(t, root, pkitest.WithRequest(func(r *pki.CARequest) { r.MaxPathLenZero = true }))
	assert.Equal(t, 0, zero.Cert.MaxPathLen)
	assert.True(t, zero.Cert.MaxPathLenZero)
	assert.Same(t, root, zero.Issuer())
	assert.Equal(t, [][]byte{zero.Cert.Raw}, zero.Chain())

	two := pkitest.Intermediate(t, root, pkitest.WithRequest(func(r *pki.CARequest) { r.MaxPathLen = 2 }))
	assert.Equal(t, 2, two.Cert.MaxPathLen)
	sub := pkitest.Intermediate(t, two)
	assert.Equal(t, [][]byte{sub.Cert.Raw, two.Cert.Raw}, sub.Chain())
	leaf := pkitest.Client(t, sub, "deep")
	assert.Equal(t, [][]byte{leaf.Cert.Raw, sub.Cert.Raw, two.Cert.Raw}, leaf.Chain)

	tlsCert := leaf.TLSCertificate()
	assert.Equal(t, leaf.Chain, tlsCert.Certificate)
	assert.Same(t, leaf.Cert, tlsCert.Leaf)
}

func TestSelfSigned(t *testing.T) {
	leaf, err := pki.NewSelfSigned(pki.LeafRequest{Subject: pki.Name{CommonName: "me"}})
	require.NoError(t, err)
	assert.Equal(t, leaf.Cert.RawSubject, leaf.Cert.RawIssuer)
	require.NoError(t, leaf.Cert.CheckSignature(leaf.Cert.SignatureAlgorithm, leaf.Cert.RawTBSCertificate, leaf.Cert.Signature), "signed by its own key")
	assert.False(t, leaf.Cert.IsCA)
	assert.Equal(t, []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, leaf.Cert.ExtKeyUsage)
	assert.Len(t, leaf.Chain, 1)
	assert.Nil(t, leaf.Issuer())
}

func TestExtensions(t *testing.T) {
	ca := pkitest.NewCA(t)
	val, err := asn1.Marshal("hello")
	require.NoError(t, err)
	leaf := pkitest.Issue(t, ca, pki.LeafRequest{Subject: pki.Name{CommonName: "ext"}, Extensions: []pkix.Extension{{Id: oidOwn, Value: val}}})
	var found bool
	for _, e := range leaf.Cert.Extensions {
		if e.Id.Equal(oidOwn) {
			found = true
			assert.Equal(t, val, e.Value)
			assert.False(t, e.Critical)
		}
	}
	assert.True(t, found, "the extension is in the certificate")
}
