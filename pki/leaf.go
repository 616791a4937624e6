package pki

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"time"
)

// Leaf is an end-entity certificate with its key and the chain its holder
// presents in the TLS handshake.
type Leaf struct {
	Cert    *x509.Certificate
	Key     crypto.Signer
	CertPEM []byte
	KeyPEM  []byte
	// Chain is exactly what the client sends, in DER, leaf first: the leaf
	// and its issuing CAs up to, not including, the self-signed root.
	Chain [][]byte
	// ChainPEM is Chain in PEM, the NAME-chain.pem file.
	ChainPEM []byte

	issuer *CA // nil when self-signed
}

// LeafRequest describes a client or server certificate. Zero values pick
// the defaults named on each field.
type LeafRequest struct {
	// KeyType is the leaf's key type (default ecdsa-p256). Ignored when Key
	// is set.
	KeyType KeyType
	// Key is an existing key to certify, e.g. one generated concurrently.
	Key crypto.Signer
	// Subject needs at least a common name.
	Subject Name
	// SANs are the subjectAltName entries.
	SANs SANs
	// ExtKeyUsage defaults to clientAuth when nil. A non-nil empty slice
	// means no EKU extension at all.
	ExtKeyUsage []x509.ExtKeyUsage
	// KeyUsage defaults to digitalSignature, plus keyEncipherment for RSA
	// keys (the usual TLS leaf).
	KeyUsage x509.KeyUsage
	// NotBefore defaults to five minutes before Clock().
	NotBefore time.Time
	// NotAfter defaults to NotBefore + Lifetime.
	NotAfter time.Time
	// Lifetime defaults to DefaultLeafLifetime.
	Lifetime time.Duration
	// Clock supplies "now" (default time.Now).
	Clock func() time.Time
	// Extensions are added to the certificate as given, e.g. a large
	// private extension to push the chain past ALB's 64 KiB message limit.
	Extensions []pkix.Extension
}

func (req LeafRequest) spec() (certSpec, error) {
	key := req.Key
	if key == nil {
		var err error
		if key, err = req.KeyType.Generate(); err != nil {
			return certSpec{}, fmt.Errorf("generating key for %q: %w", req.Subject.CommonName, err)
		}
	}
	nb, na, err := window(req.Clock, req.NotBefore, req.NotAfter, req.Lifetime, DefaultLeafLifetime)
	if err != nil {
		return certSpec{}, fmt.Errorf("certificate %q: %w", req.Subject.CommonName, err)
	}
	eku := req.ExtKeyUsage
	if eku == nil {
		eku = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	}
	ku := req.KeyUsage
	if ku == 0 {
		ku = x509.KeyUsageDigitalSignature
		if _, isRSA := key.Public().(*rsa.PublicKey); isRSA {
			ku |= x509.KeyUsageKeyEncipherment
		}
	}
	return certSpec{
		subject:    req.Subject,
		key:        key,
		sans:       req.SANs,
		ku:         ku,
		eku:        eku,
		notBefore:  nb,
		notAfter:   na,
		extensions: req.Extensions,
	}, nil
}

// Issue signs a leaf certificate with this CA.
func (ca *CA) Issue(req LeafRequest) (*Leaf, error) {
	if ca == nil {
		return nil, fmt.Errorf("issuing %q: the issuing CA is nil", req.Subject.CommonName)
	}
	spec, err := req.spec()
	if err != nil {
		return nil, err
	}
	der, err := sign(ca, spec)
	if err != nil {
		return nil, fmt.Errorf("issuing %q from %q: %w", req.Subject.CommonName, ca.Cert.Subject.CommonName, err)
	}
	return newLeaf(der, spec.key, ca)
}

// NewSelfSigned creates a leaf that signs itself: a certificate no trust
// store vouches for, as a user makes with `openssl req -x509`.
func NewSelfSigned(req LeafRequest) (*Leaf, error) {
	spec, err := req.spec()
	if err != nil {
		return nil, err
	}
	der, err := sign(nil, spec)
	if err != nil {
		return nil, fmt.Errorf("creating self-signed %q: %w", req.Subject.CommonName, err)
	}
	return newLeaf(der, spec.key, nil)
}

func newLeaf(der []byte, key crypto.Signer, issuer *CA) (*Leaf, error) {
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("parsing the new certificate: %w", err)
	}
	keyPEM, err := encodeKey(key)
	if err != nil {
		return nil, err
	}
	chain := [][]byte{der}
	if issuer != nil {
		chain = append(chain, issuer.Chain()...)
	}
	return &Leaf{
		Cert:     cert,
		Key:      key,
		CertPEM:  encodeCert(der),
		KeyPEM:   keyPEM,
		Chain:    chain,
		ChainPEM: chainPEM(chain),
		issuer:   issuer,
	}, nil
}

func chainPEM(chain [][]byte) []byte {
	var b bytes.Buffer
	for _, der := range chain {
		b.Write(encodeCert(der))
	}
	return b.Bytes()
}

// Issuer returns the CA that signed the leaf, or nil for a self-signed one.
func (l *Leaf) Issuer() *CA { return l.issuer }

// TLSCertificate returns the leaf as crypto/tls presents it: the whole
// chain, so that the peer receives exactly Chain.
func (l *Leaf) TLSCertificate() tls.Certificate {
	return tls.Certificate{Certificate: l.Chain, PrivateKey: l.Key, Leaf: l.Cert}
}
