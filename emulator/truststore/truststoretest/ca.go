// Package truststoretest builds certificates and CRLs for tests and
// benchmarks of trust stores and verification: a small CA kit for crafted
// cases the standard test PKI does not have (v1 certificates, missing CA
// flags, odd key types, bad signatures…). Large CRLs come from pki/crlgen.
package truststoretest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"sync"
	"testing"
	"time"
)

// Cert is a certificate with its key and PEM encoding.
type Cert struct {
	Cert *x509.Certificate
	Key  crypto.Signer
}

// PEM returns the certificate as a PEM block.
func (c *Cert) PEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Cert.Raw})
}

// Option changes the template or the key of a certificate before it is
// signed.
type Option func(t *x509.Certificate, key *crypto.Signer)

// WithKey sets the subject's key (default: a fresh ECDSA P-256 key).
func WithKey(k crypto.Signer) Option {
	return func(_ *x509.Certificate, key *crypto.Signer) { *key = k }
}

// WithTemplate applies f to the template, for any field.
func WithTemplate(f func(*x509.Certificate)) Option {
	return func(t *x509.Certificate, _ *crypto.Signer) { f(t) }
}

// WithValidity sets notBefore and notAfter.
func WithValidity(notBefore, notAfter time.Time) Option {
	return WithTemplate(func(t *x509.Certificate) { t.NotBefore, t.NotAfter = notBefore, notAfter })
}

// Now is the reference time of certificates made by this package: validity
// windows are [Now-1h, Now+24h] unless an option says otherwise.
var Now = time.Now().Truncate(time.Second)

var serialCounter = big.NewInt(0x1000)
var serialMu sync.Mutex

func nextSerial() *big.Int {
	serialMu.Lock()
	defer serialMu.Unlock()
	serialCounter.Add(serialCounter, big.NewInt(1))
	return new(big.Int).Set(serialCounter)
}

// ECKey returns a fresh ECDSA key on the curve.
func ECKey(tb testing.TB, c elliptic.Curve) *ecdsa.PrivateKey {
	tb.Helper()
	k, err := ecdsa.GenerateKey(c, rand.Reader)
	if err != nil {
		tb.Fatalf("generating ECDSA key: %v", err)
	}
	return k
}

var rsaKeys sync.Map // bits → *rsa.PrivateKey; RSA generation is slow, so keys are shared

// RSAKey returns an RSA key of the size, shared by every caller in the
// process.
func RSAKey(tb testing.TB, bits int) *rsa.PrivateKey {
	tb.Helper()
	if k, ok := rsaKeys.Load(bits); ok {
		return k.(*rsa.PrivateKey)
	}
	k, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		tb.Fatalf("generating RSA-%d key: %v", bits, err)
	}
	actual, _ := rsaKeys.LoadOrStore(bits, k)
	return actual.(*rsa.PrivateKey)
}

// NewRoot makes a self-signed root CA.
func NewRoot(tb testing.TB, cn string, opts ...Option) *Cert {
	tb.Helper()
	t := caTemplate(cn)
	return sign(tb, t, nil, opts)
}

// Intermediate makes a CA certificate issued by c.
func (c *Cert) Intermediate(tb testing.TB, cn string, opts ...Option) *Cert {
	tb.Helper()
	return sign(tb, caTemplate(cn), c, opts)
}

// Leaf makes a client certificate (clientAuth, digitalSignature) issued
// by c.
func (c *Cert) Leaf(tb testing.TB, cn string, opts ...Option) *Cert {
	tb.Helper()
	t := &x509.Certificate{
		SerialNumber:          nextSerial(),
		Subject:               testName(cn),
		NotBefore:             Now.Add(-time.Hour),
		NotAfter:              Now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
	}
	return sign(tb, t, c, opts)
}

// testName is the subject of every certificate the kit makes: the given
// common name in the organisation "albmtls test".
func testName(cn string) pkix.Name {
	return pkix.Name{CommonName: cn, Organization: []string{"albmtls test"}}
}

func caTemplate(cn string) *x509.Certificate {
	return &x509.Certificate{
		SerialNumber:          nextSerial(),
		Subject:               testName(cn),
		NotBefore:             Now.Add(-time.Hour),
		NotAfter:              Now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
}

func sign(tb testing.TB, t *x509.Certificate, parent *Cert, opts []Option) *Cert {
	tb.Helper()
	var key crypto.Signer
	for _, o := range opts {
		o(t, &key)
	}
	if key == nil {
		key = ECKey(tb, elliptic.P256())
	}
	parentCert, parentKey := t, key
	if parent != nil {
		parentCert, parentKey = parent.Cert, parent.Key
	}
	der, err := x509.CreateCertificate(rand.Reader, t, parentCert, key.Public(), parentKey)
	if err != nil {
		tb.Fatalf("creating certificate %q: %v", t.Subject.CommonName, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		tb.Fatalf("parsing certificate %q: %v", t.Subject.CommonName, err)
	}
	return &Cert{Cert: cert, Key: key}
}

// Bundle concatenates the certificates as a PEM bundle, ALB-valid.
func Bundle(certs ...*Cert) []byte {
	var out []byte
	for _, c := range certs {
		out = append(out, c.PEM()...)
	}
	return out
}

// Chain returns the DER certificates as a client sends them.
func Chain(certs ...*Cert) [][]byte {
	out := make([][]byte, len(certs))
	for i, c := range certs {
		out[i] = c.Cert.Raw
	}
	return out
}

// CRL makes a DER CRL issued by c that revokes the serials, with
// x509.CreateRevocationList (use crlgen.Build for large ones). f may adjust
// the template.
func (c *Cert) CRL(tb testing.TB, serials []*big.Int, f func(*x509.RevocationList)) []byte {
	tb.Helper()
	t := &x509.RevocationList{Number: big.NewInt(1), ThisUpdate: Now.Add(-time.Hour), NextUpdate: Now.Add(24 * time.Hour)}
	for _, s := range serials {
		t.RevokedCertificateEntries = append(t.RevokedCertificateEntries,
			x509.RevocationListEntry{SerialNumber: s, RevocationTime: Now.Add(-time.Minute)})
	}
	if f != nil {
		f(t)
	}
	der, err := x509.CreateRevocationList(rand.Reader, t, c.Cert, c.Key)
	if err != nil {
		tb.Fatalf("creating CRL of %q: %v", c.Cert.Subject.CommonName, err)
	}
	return der
}

// CRLPEM encodes a DER CRL as PEM, the form ALB requires.
func CRLPEM(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: der})
}
