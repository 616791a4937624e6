package backend

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"time"
)

// Trust is what a passthrough-mode target verifies client chains against:
// the CA bundle (the same file as the ALB trust store's
// ca_certificates_bundle) and, optionally, the CAs' CRLs. In passthrough
// mode the ALB checks nothing (alb-behaviour §2.2), so without this any certificate,
// revoked, expired or self-made, reaches the application unchallenged.
type Trust struct {
	roots, intermediates *x509.CertPool
	cas                  []*x509.Certificate
	crls                 []*x509.RevocationList
}

// LoadTrust parses a PEM CA bundle and CRLs (PEM or DER). Self-signed
// certificates of the bundle become roots; the others are intermediates
// that may complete a chain. A CRL must be signed by a CA of the bundle.
func LoadTrust(bundle []byte, crls ...[]byte) (*Trust, error) {
	t := &Trust{roots: x509.NewCertPool(), intermediates: x509.NewCertPool()}
	rest := bundle
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("CA bundle: certificate %d: %w", len(t.cas)+1, err)
		}
		if !c.IsCA {
			return nil, fmt.Errorf("CA bundle: certificate %d (%s) is not a CA", len(t.cas)+1, c.Subject)
		}
		if bytes.Equal(c.RawIssuer, c.RawSubject) && c.CheckSignatureFrom(c) == nil {
			t.roots.AddCert(c)
		} else {
			t.intermediates.AddCert(c)
		}
		t.cas = append(t.cas, c)
	}
	if len(t.cas) == 0 {
		return nil, errors.New("CA bundle: no PEM certificate found")
	}
	for i, data := range crls {
		if block, _ := pem.Decode(data); block != nil {
			if block.Type != "X509 CRL" {
				return nil, fmt.Errorf("CRL %d: PEM block is a %q, not an X509 CRL", i+1, block.Type)
			}
			data = block.Bytes
		}
		crl, err := x509.ParseRevocationList(data)
		if err != nil {
			return nil, fmt.Errorf("CRL %d: %w", i+1, err)
		}
		signed := false
		for _, ca := range t.cas {
			if bytes.Equal(crl.RawIssuer, ca.RawSubject) && crl.CheckSignatureFrom(ca) == nil {
				signed = true
				break
			}
		}
		if !signed {
			return nil, fmt.Errorf("CRL %d (issuer %s): not signed by a CA of the bundle", i+1, crl.Issuer)
		}
		t.crls = append(t.crls, crl)
	}
	return t, nil
}

// Verify checks a chain as the client sent it (leaf first): a path to a
// root of the bundle, validity at now, the clientAuth purpose, and that no
// certificate of the path is on a CRL of its issuer. The error says which
// check failed, for a 403 answer.
func (t *Trust) Verify(chain []*x509.Certificate, now time.Time) error {
	if len(chain) == 0 {
		return errors.New("no certificate")
	}
	inter := t.intermediates.Clone()
	for _, c := range chain[1:] {
		inter.AddCert(c)
	}
	paths, err := chain[0].Verify(x509.VerifyOptions{
		Roots:         t.roots,
		Intermediates: inter,
		CurrentTime:   now,
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})
	if err != nil {
		return fmt.Errorf("the chain does not verify against the CA bundle: %w", err)
	}
	for _, path := range paths {
		for i, c := range path[:len(path)-1] {
			if crl := t.revokedBy(c, path[i+1]); crl != nil {
				return fmt.Errorf("%s (serial %X) is revoked by the CRL of %s", c.Subject, c.SerialNumber, crl.Issuer)
			}
		}
	}
	return nil
}

// revokedBy returns the CRL of issuer that lists c, or nil.
func (t *Trust) revokedBy(c, issuer *x509.Certificate) *x509.RevocationList {
	for _, crl := range t.crls {
		if !bytes.Equal(crl.RawIssuer, issuer.RawSubject) || crl.CheckSignatureFrom(issuer) != nil {
			continue
		}
		for _, e := range crl.RevokedCertificateEntries {
			if e.SerialNumber.Cmp(c.SerialNumber) == 0 {
				return crl
			}
		}
	}
	return nil
}
