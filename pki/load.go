package pki

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/albmtls/albmtls/internal/boundedio"
)

type loader struct {
	dir string
	set *Set
}

func (l loader) read(rel string) ([]byte, error) {
	if rel == "" || filepath.IsAbs(rel) || strings.HasPrefix(filepath.Clean(filepath.FromSlash(rel)), "..") {
		return nil, fmt.Errorf("manifest lists an invalid file path %q", rel)
	}
	// One limit for every artefact: a CRL may be ALB's largest (50 MB).
	data, err := boundedio.ReadFile(filepath.Join(l.dir, filepath.FromSlash(rel)), "PKI file", boundedio.MaxRevocationFile)
	if err != nil {
		return nil, fmt.Errorf("%s listed in the manifest: %w", rel, err)
	}
	return data, nil
}

func (l loader) load(m Manifest) error {
	s := l.set
	var crls []Artefact
	for _, a := range m.Artefacts {
		if _, dup := s.byName[a.Name]; dup {
			return fmt.Errorf("%s: artefact %q is listed twice", ManifestFile, a.Name)
		}
		e := &entry{name: a.Name, kind: a.Kind, issuer: a.Issuer, purpose: a.Purpose}
		switch a.Kind {
		case KindCA:
			cert, key, err := l.certAndKey(a.Files)
			if err != nil {
				return err
			}
			e.ca = &CA{Cert: cert, Key: key, CertPEM: encodeCert(cert.Raw)}
			if e.ca.KeyPEM, err = encodeKey(key); err != nil {
				return err
			}
		case KindServer, KindClient:
			leaf, err := l.leaf(a.Files)
			if err != nil {
				return err
			}
			e.leaf = leaf
			if a.Expect != nil {
				e.note = standardNote(a.Name)
			}
		case KindCRL:
			crls = append(crls, a)
			continue
		default:
			return fmt.Errorf("%s: artefact %q has unknown kind %q", ManifestFile, a.Name, a.Kind)
		}
		s.add(e)
	}
	if err := l.link(); err != nil {
		return err
	}
	for _, a := range crls {
		if err := l.crl(a); err != nil {
			return err
		}
	}
	for _, need := range []string{"root", "intermediate", "server"} {
		if _, ok := s.byName[need]; !ok {
			return fmt.Errorf("%s does not list %q: the manifest is incomplete; recreate the PKI with `albmtls pki init --force`", ManifestFile, need)
		}
	}
	for _, need := range []string{"root", "intermediate"} {
		if _, ok := s.crls[need]; !ok {
			return fmt.Errorf("%s does not list the CRL of %q: the manifest is incomplete; recreate the PKI with `albmtls pki init --force`", ManifestFile, need)
		}
	}
	s.Root, _ = s.CA("root")
	s.Intermediate, _ = s.CA("intermediate")
	s.Server = s.byName["server"].leaf
	bundle, err := l.read(BundleFile)
	if err != nil {
		return err
	}
	if !bytes.Equal(bundle, s.Bundle()) {
		return fmt.Errorf("%s does not hold the intermediate and root certificates of this PKI: recreate it or the PKI", BundleFile)
	}
	return nil
}

func (l loader) certAndKey(f Files) (*x509.Certificate, crypto.Signer, error) {
	certPEM, err := l.read(f.Cert)
	if err != nil {
		return nil, nil, err
	}
	cert, err := parseCertPEM(certPEM)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", f.Cert, err)
	}
	keyPEM, err := l.read(f.Key)
	if err != nil {
		return nil, nil, err
	}
	key, err := parseKey(keyPEM)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", f.Key, err)
	}
	if !samePublicKey(key, cert.PublicKey) {
		return nil, nil, fmt.Errorf("%s does not match the public key of %s: the files belong to different certificates", f.Key, f.Cert)
	}
	return cert, key, nil
}

func (l loader) leaf(f Files) (*Leaf, error) {
	cert, key, err := l.certAndKey(f)
	if err != nil {
		return nil, err
	}
	chainPEM, err := l.read(f.Chain)
	if err != nil {
		return nil, err
	}
	certs, err := parseCertsPEM(chainPEM)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", f.Chain, err)
	}
	if !bytes.Equal(certs[0].Raw, cert.Raw) {
		return nil, fmt.Errorf("%s does not start with the certificate in %s: the chain must be leaf first", f.Chain, f.Cert)
	}
	leaf := &Leaf{Cert: cert, Key: key, CertPEM: encodeCert(cert.Raw), ChainPEM: chainPEM}
	if leaf.KeyPEM, err = encodeKey(key); err != nil {
		return nil, err
	}
	for _, c := range certs {
		leaf.Chain = append(leaf.Chain, c.Raw)
	}
	return leaf, nil
}

// link connects every certificate to its issuer and checks the signature.
func (l loader) link() error {
	s := l.set
	for _, e := range s.entries {
		if e.issuer == "" {
			if err := e.cert().CheckSignatureFrom(e.cert()); err != nil && e.kind == KindCA {
				return fmt.Errorf("%s: CA %q has no issuer in the manifest but is not self-signed: %w", e.files().Cert, e.name, err)
			}
			continue
		}
		issuer, ok := s.CA(e.issuer)
		if !ok {
			return fmt.Errorf("%s: %q names issuer %q, which is not a CA of this PKI", ManifestFile, e.name, e.issuer)
		}
		if err := e.cert().CheckSignatureFrom(issuer.Cert); err != nil {
			return fmt.Errorf("%s is not signed by CA %q: %w", e.files().Cert, e.issuer, err)
		}
		if e.ca != nil {
			e.ca.issuer = issuer
		} else {
			e.leaf.issuer = issuer
		}
	}
	return nil
}

func (l loader) crl(a Artefact) error {
	s := l.set
	ca, ok := s.CA(a.Issuer)
	if !ok {
		return fmt.Errorf("%s: CRL %q names issuer %q, which is not a CA of this PKI", ManifestFile, a.Name, a.Issuer)
	}
	want := crlFiles(a.Issuer)
	if a.Files != want {
		return fmt.Errorf("%s: CRL %q lists files %s and %s, want %s and %s", ManifestFile, a.Name, a.Files.DER, a.Files.PEM, want.DER, want.PEM)
	}
	der, err := l.read(want.DER)
	if err != nil {
		return err
	}
	crl, format, err := ParseCRL(der)
	if err != nil {
		return fmt.Errorf("%s: %w", want.DER, err)
	}
	if format != FormatDER {
		return fmt.Errorf("%s holds a PEM CRL: the .crl file must be DER (convert it with `albmtls crl convert`)", want.DER)
	}
	if err := crl.CheckSignatureFrom(ca.Cert); err != nil {
		return fmt.Errorf("%s is not signed by CA %q: %w", want.DER, a.Issuer, err)
	}
	pemData, err := l.read(want.PEM)
	if err != nil {
		return err
	}
	pemCRL, format, err := ParseCRL(pemData)
	if err != nil {
		return fmt.Errorf("%s: %w", want.PEM, err)
	}
	if format != FormatPEM || !bytes.Equal(pemCRL.Raw, crl.Raw) {
		return fmt.Errorf("%s is not the PEM form of %s: re-issue the CRL with `albmtls pki revoke`", want.PEM, want.DER)
	}
	s.crls[a.Issuer] = &crlState{der: crl.Raw, crl: crl}
	return nil
}

// standardNote returns the fixed note of a standard client, so that a
// loaded set describes it as a generated one does.
func standardNote(name string) string {
	for _, c := range standardClients {
		if c.name == name {
			return c.note
		}
	}
	return ""
}
