package verify_test

import (
	"crypto/elliptic"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/albmtls/albmtls/emulator/truststore"
	tt "github.com/albmtls/albmtls/emulator/truststore/truststoretest"
	"github.com/albmtls/albmtls/emulator/verify"
)

var (
	expiredWindow = tt.WithValidity(tt.Now.Add(-48*time.Hour), tt.Now.Add(-24*time.Hour))
	oidIDP        = asn1.ObjectIdentifier{2, 5, 29, 28}
	oidPrivate    = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 99999, 3}
)

func tmpl(f func(*x509.Certificate)) tt.Option { return tt.WithTemplate(f) }

// TestPrecedence pins the order of checks with certificates that fail more
// than one, and the chain-building rules (alb-behaviour §S1.3, §S9).
func TestPrecedence(t *testing.T) {
	k := testKit(t)
	root, inter := k.root, k.inter
	full := storeSpec{bundle: []*tt.Cert{inter, root}}.load(t)

	expiredLeaf := inter.Leaf(t, "revoked and expired", expiredWindow)
	revokedLeaf := inter.Leaf(t, "revoked")
	interCRL := inter.CRL(t, tt.SerialsOf(expiredLeaf, revokedLeaf), nil)
	withCRL := storeSpec{bundle: []*tt.Cert{inter, root}, crls: [][]byte{interCRL}}.load(t)
	badCRL := storeSpec{bundle: []*tt.Cert{inter, root}, crls: [][]byte{tt.TamperedCRL(interCRL)},
		limits: truststore.Limits{AcceptBadCRLSignature: true}}.load(t)
	staleCRL := inter.CRL(t, tt.SerialsOf(revokedLeaf), func(rl *x509.RevocationList) {
		rl.ThisUpdate, rl.NextUpdate = tt.Now.Add(-72*time.Hour), tt.Now.Add(-48*time.Hour)
	})
	stale := storeSpec{bundle: []*tt.Cert{inter, root}, crls: [][]byte{staleCRL}}.load(t)
	rootOnly := storeSpec{bundle: []*tt.Cert{root}}.load(t)
	interOnly := storeSpec{bundle: []*tt.Cert{inter}}.load(t)

	expiredInter := root.Intermediate(t, "expired intermediate", expiredWindow)
	leafOfExpired := expiredInter.Leaf(t, "leaf of expired")
	v1Inter := tt.V1(t, "v1 intermediate", tt.ECKey(t, elliptic.P256()), root)
	leafOfV1 := v1Inter.Leaf(t, "leaf of v1")
	notCA := root.Intermediate(t, "not a CA", tmpl(func(c *x509.Certificate) { c.IsCA = false }))
	leafOfNotCA := notCA.Leaf(t, "leaf of not-CA")
	noBC := root.Intermediate(t, "no basicConstraints", tmpl(func(c *x509.Certificate) { c.BasicConstraintsValid, c.IsCA = false, false }))
	leafOfNoBC := noBC.Leaf(t, "leaf of no-BC")
	noCertSign := root.Intermediate(t, "no keyCertSign", tmpl(func(c *x509.Certificate) { c.KeyUsage = x509.KeyUsageCRLSign }))
	leafOfNoCertSign := noCertSign.Leaf(t, "leaf of no-certsign")
	serverInter := root.Intermediate(t, "server-only intermediate", tmpl(func(c *x509.Certificate) {
		c.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	}))
	leafOfServerInter := serverInter.Leaf(t, "leaf of server intermediate")
	pathZero := root.Intermediate(t, "pathlen 0", tmpl(func(c *x509.Certificate) { c.MaxPathLen, c.MaxPathLenZero = 0, true }))
	belowZero := pathZero.Intermediate(t, "below pathlen 0")
	leafBelowZero := belowZero.Leaf(t, "leaf below pathlen 0")
	tampered := tt.Tampered(t, inter.Leaf(t, "tampered"))
	tamperedUnderExpired := tt.Tampered(t, expiredInter.Leaf(t, "tampered under expired"))
	selfSigned := tt.NewRoot(t, "self-signed client", tmpl(func(c *x509.Certificate) {
		c.IsCA = false
		c.KeyUsage = x509.KeyUsageDigitalSignature
		c.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	}))
	selfSignedStore := storeSpec{bundle: []*tt.Cert{selfSigned}}.load(t)
	storeNotCA := storeSpec{bundle: []*tt.Cert{notCA, root}}.load(t)
	userOnlyCRL, err := tt.Craft(inter, tt.RawCRL{Extensions: []pkix.Extension{{Id: oidIDP, Critical: true, Value: []byte{0x30, 0x03, 0x82, 0x01, 0xff}}}})
	require.NoError(t, err)
	caOnly := storeSpec{bundle: []*tt.Cert{inter, root}, crls: [][]byte{userOnlyCRL}}.load(t)
	criticalCRL, err := tt.Craft(inter, tt.RawCRL{Extensions: []pkix.Extension{tt.Ext(oidPrivate, true, 1)}})
	require.NoError(t, err)
	critical := storeSpec{bundle: []*tt.Cert{inter, root}, crls: [][]byte{criticalCRL}}.load(t)
	noCRLSignCA := root.Intermediate(t, "no cRLSign", tmpl(func(c *x509.Certificate) { c.KeyUsage = x509.KeyUsageCertSign }))
	noCRLSignCRL, err := tt.Craft(noCRLSignCA, tt.RawCRL{})
	require.NoError(t, err)
	noCRLSign := storeSpec{bundle: []*tt.Cert{noCRLSignCA, root}, crls: [][]byte{noCRLSignCRL}}.load(t)
	rootRevoked := storeSpec{bundle: []*tt.Cert{inter, root}, crls: [][]byte{root.CRL(t, tt.SerialsOf(root), nil)}}.load(t)
	bothCRLs := storeSpec{bundle: []*tt.Cert{inter, root}, crls: [][]byte{inter.CRL(t, nil, nil), root.CRL(t, nil, nil)}}.load(t)
	critLeaf := inter.Leaf(t, "critical", tmpl(func(c *x509.Certificate) {
		c.ExtraExtensions = []pkix.Extension{tt.Ext(oidPrivate, true, 1)}
	}))
	oldRoot := tt.NewRoot(t, "Verify Root CA", tt.WithKey(root.Key), expiredWindow, tmpl(func(c *x509.Certificate) {
		c.SubjectKeyId = root.Cert.SubjectKeyId
	}))
	oldFirst := storeSpec{bundle: []*tt.Cert{inter, oldRoot, root}}.load(t)
	oldOnly := storeSpec{bundle: []*tt.Cert{inter, oldRoot}}.load(t)

	tests := []struct {
		name  string
		store *truststore.Store
		opts  verify.Options
		chain [][]byte
		want  verify.Code
	}{
		{"valid", full, verify.Options{}, tt.Chain(k.leaf, inter), verify.Success},
		{"leaf only, intermediate from the store", full, verify.Options{}, tt.Chain(k.leaf), verify.Success},
		{"client also sends the root", full, verify.Options{}, tt.Chain(k.leaf, inter, root), verify.Success},
		{"revoked and expired is CrlHit", withCRL, verify.Options{}, tt.Chain(expiredLeaf, inter), verify.ClientCertCrlHit},
		{"revoked", withCRL, verify.Options{}, tt.Chain(revokedLeaf, inter), verify.ClientCertCrlHit},
		{"revoked with a bad signature is CrlHit", storeSpec{bundle: []*tt.Cert{inter, root},
			crls: [][]byte{inter.CRL(t, tt.SerialsOf(tampered), nil)}}.load(t), verify.Options{}, tt.Chain(tampered, inter), verify.ClientCertCrlHit},
		{"bad CRL signature", badCRL, verify.Options{}, tt.Chain(k.leaf, inter), verify.ClientCertCrlProcessingError},
		{"bad CRL signature beats a listed serial", badCRL, verify.Options{}, tt.Chain(revokedLeaf, inter), verify.ClientCertCrlProcessingError},
		{"stale CRL is still applied", stale, verify.Options{}, tt.Chain(revokedLeaf, inter), verify.ClientCertCrlHit},
		{"stale CRL, unrevoked client", stale, verify.Options{}, tt.Chain(k.leaf, inter), verify.Success},
		{"stale CRL with the fail knob", stale, verify.Options{StaleCRL: verify.StaleCRLFail}, tt.Chain(k.leaf, inter), verify.ClientCertCrlProcessingError},
		{"CRL of the wrong scope", caOnly, verify.Options{}, tt.Chain(k.leaf, inter), verify.ClientCertCrlProcessingError},
		{"CRL with an unhandled critical extension", critical, verify.Options{}, tt.Chain(k.leaf, inter), verify.ClientCertCrlProcessingError},
		{"CRL issuer without cRLSign", noCRLSign, verify.Options{}, tt.Chain(noCRLSignCA.Leaf(t, "x")), verify.ClientCertUntrusted},
		{"anchor revoked by its own CRL", rootRevoked, verify.Options{}, tt.Chain(k.leaf, inter), verify.ClientCertCrlHit},
		{"missing CRL is skipped by default", withCRL, verify.Options{}, tt.Chain(k.leaf, inter), verify.Success},
		{"missing root CRL with the fail knob", withCRL, verify.Options{CRLMissingForIssuer: verify.CRLMissingFail}, tt.Chain(k.leaf, inter), verify.ClientCertCrlProcessingError},
		{"every CRL present with the fail knob", bothCRLs, verify.Options{CRLMissingForIssuer: verify.CRLMissingFail}, tt.Chain(k.leaf, inter), verify.Success},
		{"expired intermediate", rootOnly, verify.Options{}, tt.Chain(leafOfExpired, expiredInter), verify.ClientCertExpired},
		{"expired intermediate before a bad leaf signature", rootOnly, verify.Options{}, tt.Chain(tamperedUnderExpired, expiredInter), verify.ClientCertExpired},
		{"expired intermediate ignored with expiry", rootOnly, verify.Options{IgnoreClientCertificateExpiry: true}, tt.Chain(leafOfExpired, expiredInter), verify.Success},
		{"expired intermediate, ignore for the leaf only", rootOnly, verify.Options{IgnoreClientCertificateExpiry: true, IgnoreExpiryLeafOnly: true},
			tt.Chain(leafOfExpired, expiredInter), verify.ClientCertExpired},
		{"bad leaf signature", full, verify.Options{}, tt.Chain(tampered, inter), verify.ClientCertUntrusted},
		{"v1 intermediate", rootOnly, verify.Options{}, tt.Chain(leafOfV1, v1Inter), verify.ClientCertUntrusted},
		{"intermediate with CA:FALSE", rootOnly, verify.Options{}, tt.Chain(leafOfNotCA, notCA), verify.ClientCertUntrusted},
		{"intermediate without basicConstraints", rootOnly, verify.Options{}, tt.Chain(leafOfNoBC, noBC), verify.ClientCertUntrusted},
		{"intermediate without keyCertSign", rootOnly, verify.Options{}, tt.Chain(leafOfNoCertSign, noCertSign), verify.ClientCertUntrusted},
		{"store intermediate with CA:FALSE fails the purpose check", storeNotCA, verify.Options{}, tt.Chain(leafOfNotCA), verify.ClientCertPurposeInvalid},
		{"pathLen exceeded", rootOnly, verify.Options{}, tt.Chain(leafBelowZero, belowZero, pathZero), verify.ClientCertUntrusted},
		{"partial chain anchored at the intermediate", interOnly, verify.Options{}, tt.Chain(k.leaf, inter), verify.Success},
		{"partial chain, leaf only", interOnly, verify.Options{}, tt.Chain(k.leaf), verify.Success},
		{"partial chain anchor without a CRL, fail knob", interOnly, verify.Options{CRLMissingForIssuer: verify.CRLMissingFail}, tt.Chain(k.leaf), verify.ClientCertCrlProcessingError},
		{"self-signed leaf in the store", selfSignedStore, verify.Options{}, tt.Chain(selfSigned), verify.Success},
		{"self-signed leaf not in the store", full, verify.Options{}, tt.Chain(selfSigned), verify.ClientCertUntrusted},
		{"intermediate with serverAuth only", rootOnly, verify.Options{}, tt.Chain(leafOfServerInter, serverInter), verify.ClientCertPurposeInvalid},
		{"unhandled critical extension", full, verify.Options{}, tt.Chain(critLeaf, inter), verify.ClientCertUntrusted},
		{"unhandled critical extension, knob", full, verify.Options{UnhandledCriticalExtension: verify.ClientCertInvalid}, tt.Chain(critLeaf, inter), verify.ClientCertInvalid},
		{"time-valid issuer preferred", oldFirst, verify.Options{}, tt.Chain(k.leaf, inter), verify.Success},
		{"only an expired root", oldOnly, verify.Options{}, tt.Chain(k.leaf, inter), verify.ClientCertExpired},
		{"no certificate", full, verify.Options{}, nil, verify.UnmappedConnectionError},
		{"no certificate, knob", full, verify.Options{MissingCertificate: verify.ClientCertUntrusted}, nil, verify.ClientCertUntrusted},
		{"empty trust store", nil, verify.Options{}, tt.Chain(k.leaf, inter), verify.ClientCertUntrusted},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := verifyWith(t, tc.store, tc.opts, tc.chain)
			assert.Equal(t, tc.want, r.Code, "reason: %s", r.Reason)
			assert.Equal(t, tc.want == verify.Success, r.Reason == "", "reason: %q", r.Reason)
		})
	}
}

// TestValidityBoundaries: valid iff notBefore ≤ now < notAfter, compared in
// whole seconds as AWS-LC does (alb-behaviour §S1.3); Go's Verify would accept
// now == notAfter.
func TestValidityBoundaries(t *testing.T) {
	k := testKit(t)
	nb, na := tt.Now.Add(-time.Hour), tt.Now.Add(time.Hour)
	leaf := k.inter.Leaf(t, "window", tt.WithValidity(nb, na))
	st := storeSpec{bundle: []*tt.Cert{k.inter, k.root}}.load(t)
	inverted := k.inter.Leaf(t, "inverted", tt.WithValidity(tt.Now.Add(time.Minute), tt.Now.Add(-time.Minute)))
	tests := []struct {
		name string
		now  time.Time
		leaf *tt.Cert
		want verify.Code
	}{
		{"at notBefore", nb, leaf, verify.Success},
		{"a second before notBefore", nb.Add(-time.Second), leaf, verify.ClientCertNotYetValid},
		{"half a second before notAfter", na.Add(-500 * time.Millisecond), leaf, verify.Success},
		{"at notAfter", na, leaf, verify.ClientCertExpired},
		{"notBefore is checked before notAfter", tt.Now, inverted, verify.ClientCertNotYetValid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			now := tc.now
			r := verifyWith(t, st, verify.Options{Now: func() time.Time { return now }}, tt.Chain(tc.leaf, k.inter))
			assert.Equal(t, tc.want, r.Code, r.Reason)
		})
	}
}

func TestPurpose(t *testing.T) {
	k := testKit(t)
	st := storeSpec{bundle: []*tt.Cert{k.inter, k.root}}.load(t)
	tests := []struct {
		name string
		f    func(*x509.Certificate)
		want verify.Code
	}{
		{"clientAuth", func(*x509.Certificate) {}, verify.Success},
		{"no EKU", func(c *x509.Certificate) { c.ExtKeyUsage = nil }, verify.Success},
		{"clientAuth and serverAuth", func(c *x509.Certificate) {
			c.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
		}, verify.Success},
		{"serverAuth only", func(c *x509.Certificate) { c.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth} }, verify.ClientCertPurposeInvalid},
		{"anyExtendedKeyUsage only", func(c *x509.Certificate) { c.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageAny} }, verify.ClientCertPurposeInvalid},
		{"unknown EKU only", func(c *x509.Certificate) {
			c.ExtKeyUsage, c.UnknownExtKeyUsage = nil, []asn1.ObjectIdentifier{{1, 3, 6, 1, 4, 1, 99999, 9}}
		}, verify.ClientCertPurposeInvalid},
		{"no key usage", func(c *x509.Certificate) { c.KeyUsage = 0 }, verify.Success},
		{"keyAgreement", func(c *x509.Certificate) { c.KeyUsage = x509.KeyUsageKeyAgreement }, verify.Success},
		{"keyEncipherment only", func(c *x509.Certificate) { c.KeyUsage = x509.KeyUsageKeyEncipherment }, verify.ClientCertPurposeInvalid},
		{"keyCertSign only", func(c *x509.Certificate) { c.KeyUsage = x509.KeyUsageCertSign }, verify.ClientCertPurposeInvalid},
		{"Netscape type without SSL client", func(c *x509.Certificate) {
			c.ExtraExtensions = []pkix.Extension{tt.Ext(asn1.ObjectIdentifier{2, 16, 840, 1, 113730, 1, 1}, false,
				asn1.BitString{Bytes: []byte{0x40}, BitLength: 2})}
		}, verify.ClientCertPurposeInvalid},
		{"Netscape type with SSL client", func(c *x509.Certificate) {
			c.ExtraExtensions = []pkix.Extension{tt.Ext(asn1.ObjectIdentifier{2, 16, 840, 1, 113730, 1, 1}, false,
				asn1.BitString{Bytes: []byte{0x80}, BitLength: 1})}
		}, verify.Success},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			leaf := k.inter.Leaf(t, tc.name, tt.WithTemplate(tc.f))
			r := verifyWith(t, st, verify.Options{}, tt.Chain(leaf, k.inter))
			assert.Equal(t, tc.want, r.Code, r.Reason)
		})
	}
}

// TestRuntimeRevocationIsVisible: the verifier caches nothing, so a CRL
// added to a Live trust store applies to the next handshake.
func TestRuntimeRevocationIsVisible(t *testing.T) {
	k := testKit(t)
	dir := t.TempDir()
	bundle := dir + "/bundle.pem"
	require.NoError(t, os.WriteFile(bundle, tt.Bundle(k.inter, k.root), 0o644))
	live, err := truststore.NewLive(truststore.Spec{Name: "live", BundleFile: bundle})
	require.NoError(t, err)
	v := verify.New(live.Current, verify.Options{})
	chain := tt.Chain(k.leaf, k.inter)
	assert.Equal(t, verify.Success, v.Verify(tls.VersionTLS13, chain).Code)
	infos, err := live.AddRevocations("revoke.pem", tt.CRLPEM(k.inter.CRL(t, tt.SerialsOf(k.leaf), nil)))
	require.NoError(t, err)
	r := v.Verify(tls.VersionTLS13, chain)
	assert.Equal(t, verify.ClientCertCrlHit, r.Code)
	assert.Contains(t, r.Reason, "revocation ID 1")
	require.NoError(t, live.RemoveRevocations(infos[0].RevocationID))
	assert.Equal(t, verify.Success, v.Verify(tls.VersionTLS13, chain).Code)
}
