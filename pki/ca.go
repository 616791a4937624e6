package pki

import (
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"time"
)

// Default lifetimes. They are long so that a PKI written today still works
// in next year's CI run; the expiry cases have their own explicit windows.
const (
	DefaultRootLifetime         = 10 * 365 * 24 * time.Hour
	DefaultIntermediateLifetime = 5 * 365 * 24 * time.Hour
	DefaultLeafLifetime         = 365 * 24 * time.Hour
)

// CA is a certificate authority: its certificate, its key and both in PEM.
// It issues intermediates, leaves and CRLs.
type CA struct {
	Cert    *x509.Certificate
	Key     crypto.Signer
	CertPEM []byte
	KeyPEM  []byte

	issuer *CA // nil for a self-signed root
}

// CARequest describes a root or intermediate CA. Zero values pick the
// defaults named on each field.
type CARequest struct {
	// KeyType is the CA's key type (default ecdsa-p256). Ignored when Key
	// is set.
	KeyType KeyType
	// Key is an existing key to certify, e.g. one generated concurrently.
	Key crypto.Signer
	// Subject is the CA's name; it needs at least a common name.
	Subject Name
	// NotBefore defaults to five minutes before Clock().
	NotBefore time.Time
	// NotAfter defaults to NotBefore + Lifetime.
	NotAfter time.Time
	// Lifetime defaults to DefaultRootLifetime or DefaultIntermediateLifetime.
	Lifetime time.Duration
	// Clock supplies "now" (default time.Now), so tests get fixed dates.
	Clock func() time.Time
	// MaxPathLen limits the CAs below this one; 0 means no limit unless
	// MaxPathLenZero is set.
	MaxPathLen     int
	MaxPathLenZero bool
	// KeyUsage defaults to certSign | cRLSign | digitalSignature.
	KeyUsage x509.KeyUsage
	// ExtKeyUsage is normally empty for a CA. A CA with an EKU that lacks
	// clientAuth makes its clients fail ALB's purpose check (alb-behaviour §S1.5).
	ExtKeyUsage []x509.ExtKeyUsage
	// Extensions are added to the certificate as given.
	Extensions []pkix.Extension
}

// NewRootCA creates a self-signed root CA with cfssl's local signer, as
// cfssl's initca does, but with the validity window from the request's
// clock rather than the wall clock.
func NewRootCA(req CARequest) (*CA, error) {
	return newCA(nil, req, DefaultRootLifetime)
}

// NewIntermediate creates a CA certified by ca.
func (ca *CA) NewIntermediate(req CARequest) (*CA, error) {
	if ca == nil {
		return nil, fmt.Errorf("issuing intermediate %q: the issuing CA is nil", req.Subject.CommonName)
	}
	return newCA(ca, req, DefaultIntermediateLifetime)
}

func newCA(issuer *CA, req CARequest, defaultLifetime time.Duration) (*CA, error) {
	key := req.Key
	if key == nil {
		var err error
		if key, err = req.KeyType.Generate(); err != nil {
			return nil, fmt.Errorf("generating key for CA %q: %w", req.Subject.CommonName, err)
		}
	}
	nb, na, err := window(req.Clock, req.NotBefore, req.NotAfter, req.Lifetime, defaultLifetime)
	if err != nil {
		return nil, fmt.Errorf("CA %q: %w", req.Subject.CommonName, err)
	}
	ku := req.KeyUsage
	if ku == 0 {
		ku = x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature
	}
	der, err := sign(issuer, certSpec{
		subject:        req.Subject,
		key:            key,
		ku:             ku,
		eku:            req.ExtKeyUsage,
		isCA:           true,
		maxPathLen:     req.MaxPathLen,
		maxPathLenZero: req.MaxPathLenZero,
		notBefore:      nb,
		notAfter:       na,
		extensions:     req.Extensions,
	})
	if err != nil {
		return nil, fmt.Errorf("creating CA %q: %w", req.Subject.CommonName, err)
	}
	return newCAFromDER(der, key, issuer)
}

func newCAFromDER(der []byte, key crypto.Signer, issuer *CA) (*CA, error) {
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("parsing the new CA certificate: %w", err)
	}
	keyPEM, err := encodeKey(key)
	if err != nil {
		return nil, err
	}
	return &CA{Cert: cert, Key: key, CertPEM: encodeCert(der), KeyPEM: keyPEM, issuer: issuer}, nil
}

// Issuer returns the CA that certified this one, or nil for a root.
func (ca *CA) Issuer() *CA { return ca.issuer }

// Chain returns what a client sends above a leaf issued by this CA: this CA
// and its issuers in DER, nearest first, stopping before the self-signed
// root (the root is the trust store's job, not the client's).
func (ca *CA) Chain() [][]byte {
	var chain [][]byte
	for c := ca; c != nil && c.issuer != nil; c = c.issuer {
		chain = append(chain, c.Cert.Raw)
	}
	return chain
}
