package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/url"
	"slices"
	"time"

	"github.com/cloudflare/cfssl/config"
	"github.com/cloudflare/cfssl/csr"
	cflog "github.com/cloudflare/cfssl/log"
	"github.com/cloudflare/cfssl/signer"
	"github.com/cloudflare/cfssl/signer/local"
)

func init() {
	// cfssl logs every step at [INFO] on stderr. Its errors are returned to
	// us anyway, so only its critical messages are let through: the CLI's
	// output stays ours and test logs stay readable.
	cflog.Level = cflog.LevelCritical
}

// SANs are the subjectAltName entries of a certificate.
type SANs struct {
	DNSNames       []string
	IPAddresses    []net.IP
	EmailAddresses []string
	URIs           []*url.URL
}

func (s SANs) hosts() []string {
	var h []string
	h = append(h, s.DNSNames...)
	for _, ip := range s.IPAddresses {
		h = append(h, ip.String())
	}
	h = append(h, s.EmailAddresses...)
	for _, u := range s.URIs {
		h = append(h, u.String())
	}
	return h
}

func (s SANs) empty() bool {
	return len(s.DNSNames)+len(s.IPAddresses)+len(s.EmailAddresses)+len(s.URIs) == 0
}

// certSpec is everything needed to sign one certificate, whichever way it
// is signed.
type certSpec struct {
	subject        Name
	key            crypto.Signer // the subject's key
	sans           SANs
	ku             x509.KeyUsage
	eku            []x509.ExtKeyUsage
	isCA           bool
	maxPathLen     int
	maxPathLenZero bool
	notBefore      time.Time
	notAfter       time.Time
	extensions     []pkix.Extension
}

// sign issues a certificate for spec from issuer, or a self-signed one when
// issuer is nil. It uses cfssl's local signer with a profile built from the
// spec, and falls back to x509.CreateCertificate only where cfssl cannot
// produce the certificate (see needsStdlib).
func sign(issuer *CA, spec certSpec) ([]byte, error) {
	if why := needsStdlib(issuer, spec); why != "" {
		return signStdlib(issuer, spec)
	}
	return signCFSSL(issuer, spec)
}

// needsStdlib names the reason cfssl cannot make this certificate, or "".
func needsStdlib(issuer *CA, spec certSpec) string {
	if issuer == nil && !spec.isCA {
		// cfssl's local signer only self-signs CA templates (it refuses a
		// nil CA with a non-CA request), so self-signed leaves are built
		// directly.
		return "self-signed leaf"
	}
	if spec.ku == 0 && len(spec.eku) == 0 {
		// cfssl's FillTemplate refuses a profile without any key usage.
		return "no key usage"
	}
	if _, _, ok := cfsslUsages(spec.ku, spec.eku); !ok {
		// cfssl names only the common extended key usages.
		return "extended key usage unknown to cfssl"
	}
	return ""
}

// cfsslUsages translates key usages into the names cfssl profiles use.
func cfsslUsages(ku x509.KeyUsage, eku []x509.ExtKeyUsage) ([]string, []string, bool) {
	var kus, ekus []string
	for name, bit := range config.KeyUsage {
		if ku&bit != 0 && name != "signing" { // "signing" duplicates "digital signature"
			kus = append(kus, name)
		}
	}
	covered := x509.KeyUsage(0)
	for _, n := range kus {
		covered |= config.KeyUsage[n]
	}
	if covered != ku {
		return nil, nil, false
	}
	for _, e := range eku {
		found := ""
		for name, v := range config.ExtKeyUsage {
			if v == e && (found == "" || name < found) {
				found = name
			}
		}
		if found == "" {
			return nil, nil, false
		}
		ekus = append(ekus, found)
	}
	slices.Sort(kus)
	return kus, ekus, true
}

func signCFSSL(issuer *CA, spec certSpec) ([]byte, error) {
	req, err := spec.subject.cfsslRequest()
	if err != nil {
		return nil, err
	}
	req.Hosts = spec.sans.hosts()
	if spec.isCA {
		req.CA = &csr.CAConfig{PathLength: spec.maxPathLen, PathLenZero: spec.maxPathLenZero}
	}
	csrPEM, err := csr.Generate(spec.key, req)
	if err != nil {
		return nil, fmt.Errorf("cfssl: generating the certificate request for %q: %w", spec.subject.CommonName, err)
	}
	kus, ekus, _ := cfsslUsages(spec.ku, spec.eku)
	profile := &config.SigningProfile{
		Usage:  append(kus, ekus...),
		Expiry: spec.notAfter.Sub(spec.notBefore),
		CAConstraint: config.CAConstraint{
			IsCA:           spec.isCA,
			MaxPathLen:     spec.maxPathLen,
			MaxPathLenZero: spec.maxPathLenZero,
		},
		ExtensionWhitelist: map[string]bool{},
	}
	var exts []signer.Extension
	for _, e := range spec.extensions {
		profile.ExtensionWhitelist[e.Id.String()] = true
		exts = append(exts, signer.Extension{ID: config.OID(e.Id), Critical: e.Critical, Value: hex.EncodeToString(e.Value)})
	}
	policy := &config.Signing{Default: profile, Profiles: map[string]*config.SigningProfile{}}
	var (
		issuerCert *x509.Certificate
		issuerKey  = spec.key
	)
	if issuer != nil {
		issuerCert, issuerKey = issuer.Cert, issuer.Key
	}
	s, err := local.NewSigner(issuerKey, issuerCert, sigAlgo(issuerKey), policy)
	if err != nil {
		return nil, fmt.Errorf("cfssl: creating the signer for %q: %w", spec.subject.CommonName, err)
	}
	var hosts []string
	if !spec.sans.empty() {
		hosts = req.Hosts
	}
	certPEM, err := s.Sign(signer.SignRequest{
		Request:    string(csrPEM),
		Hosts:      hosts,
		NotBefore:  spec.notBefore,
		NotAfter:   spec.notAfter,
		Extensions: exts,
	})
	if err != nil {
		return nil, fmt.Errorf("cfssl: signing %q: %w", spec.subject.CommonName, err)
	}
	block, _ := pem.Decode(certPEM)
	if block == nil {
		return nil, fmt.Errorf("cfssl: signing %q returned no PEM certificate", spec.subject.CommonName)
	}
	return block.Bytes, nil
}

// signStdlib builds the certificate with the standard library, mirroring
// what cfssl would have set: a random 159-bit serial, a SHA-1 subject key
// identifier and basic constraints.
func signStdlib(issuer *CA, spec certSpec) ([]byte, error) {
	serial, err := randomSerial()
	if err != nil {
		return nil, err
	}
	ski, err := subjectKeyID(spec.key.Public())
	if err != nil {
		return nil, fmt.Errorf("computing the subject key identifier of %q: %w", spec.subject.CommonName, err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               spec.subject.pkix(),
		NotBefore:             spec.notBefore,
		NotAfter:              spec.notAfter,
		KeyUsage:              spec.ku,
		ExtKeyUsage:           spec.eku,
		BasicConstraintsValid: true,
		IsCA:                  spec.isCA,
		MaxPathLen:            spec.maxPathLen,
		MaxPathLenZero:        spec.maxPathLenZero,
		SubjectKeyId:          ski,
		DNSNames:              spec.sans.DNSNames,
		IPAddresses:           spec.sans.IPAddresses,
		EmailAddresses:        spec.sans.EmailAddresses,
		URIs:                  spec.sans.URIs,
		ExtraExtensions:       spec.extensions,
	}
	parent, parentKey := tmpl, spec.key
	if issuer != nil {
		parent, parentKey = issuer.Cert, issuer.Key
	}
	tmpl.SignatureAlgorithm = sigAlgo(parentKey)
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, spec.key.Public(), parentKey)
	if err != nil {
		return nil, fmt.Errorf("signing %q: %w", spec.subject.CommonName, err)
	}
	return der, nil
}

// sigAlgo picks the issuer's signature algorithm as cfssl does, except that
// small RSA keys sign with SHA-256, not SHA-1: ALB and Go reject SHA-1.
func sigAlgo(key crypto.Signer) x509.SignatureAlgorithm {
	switch a := signer.DefaultSigAlgo(key); a {
	case x509.SHA1WithRSA:
		return x509.SHA256WithRSA
	case x509.ECDSAWithSHA1:
		return x509.ECDSAWithSHA256
	default:
		return a
	}
}

func randomSerial() (*big.Int, error) {
	b := make([]byte, 20)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("reading random serial number: %w", err)
	}
	b[0] &= 0x7f // positive: ALB cannot revoke negative serials (alb-behaviour §1.2)
	return new(big.Int).SetBytes(b), nil
}

// subjectKeyID is the RFC 5280 method 1 key identifier, as cfssl computes it.
func subjectKeyID(pub crypto.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, err
	}
	var spki struct {
		Algorithm pkix.AlgorithmIdentifier
		Key       asn1.BitString
	}
	if _, err := asn1.Unmarshal(der, &spki); err != nil {
		return nil, err
	}
	sum := sha1.Sum(spki.Key.Bytes)
	return sum[:], nil
}

// window resolves a validity window from explicit times, a lifetime and a
// clock: NotBefore defaults to five minutes before now (cfssl's backdate),
// NotAfter to NotBefore plus the lifetime.
func window(clock func() time.Time, notBefore, notAfter time.Time, lifetime, defaultLifetime time.Duration) (time.Time, time.Time, error) {
	if clock == nil {
		clock = time.Now
	}
	if notBefore.IsZero() {
		notBefore = clock().Add(-5 * time.Minute)
	}
	if notAfter.IsZero() {
		if lifetime <= 0 {
			lifetime = defaultLifetime
		}
		notAfter = notBefore.Add(lifetime)
	}
	notBefore, notAfter = notBefore.UTC().Truncate(time.Second), notAfter.UTC().Truncate(time.Second)
	if !notAfter.After(notBefore) {
		return time.Time{}, time.Time{}, fmt.Errorf("validity window is empty: notAfter %s is not after notBefore %s", notAfter.Format(time.RFC3339), notBefore.Format(time.RFC3339))
	}
	return notBefore, notAfter, nil
}

// encodeKey writes a private key as PKCS #8 PEM, which Go, OpenSSL and curl
// all read for every key type (Ed25519 has no other PEM form).
func encodeKey(key crypto.Signer) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("encoding private key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

func encodeCert(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// parseKey reads a PKCS #8, SEC 1 (EC) or PKCS #1 (RSA) PEM private key.
func parseKey(data []byte) (crypto.Signer, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("no PEM block found: want a PRIVATE KEY block")
	}
	var (
		k   any
		err error
	)
	switch block.Type {
	case "PRIVATE KEY":
		k, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		k, err = x509.ParseECPrivateKey(block.Bytes)
	case "RSA PRIVATE KEY":
		k, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	default:
		return nil, fmt.Errorf("PEM block is %q, want PRIVATE KEY", block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("parsing %s: %w", block.Type, err)
	}
	s, ok := k.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("%T is not a signing key", k)
	}
	return s, nil
}

// parseCertPEM reads exactly one certificate from PEM.
func parseCertPEM(data []byte) (*x509.Certificate, error) {
	certs, err := parseCertsPEM(data)
	if err != nil {
		return nil, err
	}
	if len(certs) != 1 {
		return nil, fmt.Errorf("found %d certificates, want exactly 1", len(certs))
	}
	return certs[0], nil
}

// parseCertsPEM reads one or more CERTIFICATE blocks and nothing else.
func parseCertsPEM(data []byte) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	for n := 1; ; n++ {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("PEM block %d is %q, want CERTIFICATE", n, block.Type)
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("PEM block %d: %w", n, err)
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, fmt.Errorf("no PEM CERTIFICATE block found")
	}
	return certs, nil
}

// samePublicKey reports whether key is the private half of pub.
func samePublicKey(key crypto.Signer, pub crypto.PublicKey) bool {
	type equaler interface{ Equal(crypto.PublicKey) bool }
	switch k := key.Public().(type) {
	case *ecdsa.PublicKey, *rsa.PublicKey, ed25519.PublicKey:
		return k.(equaler).Equal(pub)
	}
	return false
}
