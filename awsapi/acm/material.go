package acm

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/albmtls/albmtls/emulator/certfmt"
)

// The length constraints of ImportCertificate's blobs in ACM's API model
// (CertificateBodyBlob, PrivateKeyBlob, CertificateChainBlob;
// https://docs.aws.amazon.com/acm/latest/APIReference/API_ImportCertificate.html).
const (
	maxCertificateBytes = 32768
	maxPrivateKeyBytes  = 5120
	maxChainBytes       = 2097152
	// maxOCSPURL is the import guideline "The OCSP authority URL, if
	// present, must not exceed 1000 characters".
	maxOCSPURL = 1000
)

// material is a validated certificate, key and chain, with the facts
// DescribeCertificate and ListCertificates report, computed once at import.
type material struct {
	cert     *x509.Certificate
	certPEM  []byte // the leaf re-encoded as one PEM block
	chainPEM []byte // the chain re-encoded, one block per certificate; nil without one
	keyPEM   []byte // the key's PEM block as given, re-encoded without surrounding text

	domainName   string
	sans         []string
	keyAlgorithm string
}

// parseMaterial applies ACM's import rules to the three blobs. Every
// refusal is a ValidationException whose message names the field and says
// what to change.
func parseMaterial(certBlob, keyBlob, chainBlob []byte, now time.Time) (*material, *apiError) {
	cert, certPEM, aerr := parseCertificateField(certBlob)
	if aerr != nil {
		return nil, aerr
	}
	m := &material{cert: cert, certPEM: certPEM}
	if cert.Version != 3 {
		return nil, errorf(codeValidation, "Certificate: the certificate is X.509 version %d; ACM imports only X.509 version 3 certificates", cert.Version)
	}
	if len(cert.Issuer.Names) == 0 {
		return nil, errorf(codeValidation, "Certificate: the certificate's Issuer field is empty; ACM requires an issuer")
	}
	for _, u := range cert.OCSPServer {
		if len(u) > maxOCSPURL {
			return nil, errorf(codeValidation, "Certificate: the OCSP authority URL is %d characters; ACM accepts at most %d", len(u), maxOCSPURL)
		}
	}
	if now.Before(cert.NotBefore) {
		return nil, errorf(codeValidation, "Certificate: the certificate is not valid yet (NotBefore %s, now %s); ACM imports a certificate only within its validity period",
			cert.NotBefore.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	if now.After(cert.NotAfter) {
		return nil, errorf(codeValidation, "Certificate: the certificate has expired (NotAfter %s, now %s); ACM imports a certificate only within its validity period",
			cert.NotAfter.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	alg, ok := keyAlgorithm(cert.PublicKey)
	if !ok {
		return nil, errorf(codeValidation, "Certificate: the certificate's key (%s) is not one ACM imports: RSA 1024, 2048, 3072 or 4096 bits, or ECDSA P-256, P-384 or P-521", describeKey(cert.PublicKey))
	}
	m.keyAlgorithm = alg
	if !signatureMatchesKey(cert) {
		return nil, errorf(codeValidation, "Certificate: the certificate's key is %s but its issuer signed it with %s; ACM requires the certificate's algorithm to match the signing CA's", describeKey(cert.PublicKey), cert.SignatureAlgorithm)
	}
	m.domainName, m.sans = names(cert)
	if m.domainName == "" {
		return nil, errorf(codeValidation, "Certificate: the certificate names no domain (no subject common name, DNS name or IP address); ACM requires the FQDN or IP address of the site")
	}

	key, keyPEM, aerr := parsePrivateKeyField(keyBlob)
	if aerr != nil {
		return nil, aerr
	}
	m.keyPEM = keyPEM
	if pub, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool }); !ok || !pub.Equal(cert.PublicKey) {
		return nil, errorf(codeValidation, "PrivateKey: the private key does not match the certificate's public key; import the key the certificate was issued for")
	}

	if chainBlob != nil {
		chain, chainPEM, aerr := parseChainField(chainBlob)
		if aerr != nil {
			return nil, aerr
		}
		m.chainPEM = chainPEM
		if !selfSigned(cert) && !issuedByOneOf(cert, chain) {
			return nil, errorf(codeValidation, "CertificateChain: could not validate the certificate with the certificate chain: no certificate in the chain is the certificate's issuer (%s) with a key that verifies its signature", certfmtDN(cert.RawIssuer))
		}
	}
	return m, nil
}

// pemBlocks splits a PEM field into its blocks. Only whitespace may come
// before, between and after them; DER, or PEM with text around it, is not
// the PEM encoding ACM asks for.
func pemBlocks(field string, data []byte) ([]*pem.Block, *apiError) {
	var blocks []*pem.Block
	rest := data
	for {
		trimmed := bytes.TrimLeft(rest, " \t\r\n")
		if len(trimmed) == 0 {
			break
		}
		if !bytes.HasPrefix(trimmed, []byte("-----BEGIN ")) {
			return nil, errorf(codeValidation, "%s: unable to parse the field; make sure it is PEM-encoded (-----BEGIN ...----- lines, base64, -----END ...-----) with nothing around the blocks, not DER", field)
		}
		b, r := pem.Decode(trimmed)
		if b == nil {
			return nil, errorf(codeValidation, "%s: unable to parse the field: a PEM block is malformed (bad base64 or no matching END line)", field)
		}
		blocks = append(blocks, b)
		rest = r
	}
	if len(blocks) == 0 {
		return nil, errorf(codeValidation, "%s: the field is empty; it must hold a PEM-encoded value", field)
	}
	return blocks, nil
}

func parseCertificateField(data []byte) (*x509.Certificate, []byte, *apiError) {
	blocks, aerr := pemBlocks("Certificate", data)
	if aerr != nil {
		return nil, nil, aerr
	}
	if len(blocks) > 1 {
		return nil, nil, errorf(codeValidation, "Certificate: the field contains %d PEM blocks; it must contain exactly one certificate (put the CA certificates in CertificateChain)", len(blocks))
	}
	if blocks[0].Type != "CERTIFICATE" {
		return nil, nil, errorf(codeValidation, "Certificate: the PEM block is %q; it must be a CERTIFICATE", blocks[0].Type)
	}
	cert, err := x509.ParseCertificate(blocks[0].Bytes)
	if err != nil {
		return nil, nil, errorf(codeValidation, "Certificate: unable to parse the certificate: %v", err)
	}
	return cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}), nil
}

func parseChainField(data []byte) ([]*x509.Certificate, []byte, *apiError) {
	blocks, aerr := pemBlocks("CertificateChain", data)
	if aerr != nil {
		return nil, nil, aerr
	}
	var chain []*x509.Certificate
	var out []byte
	for i, b := range blocks {
		if b.Type != "CERTIFICATE" {
			return nil, nil, errorf(codeValidation, "CertificateChain: PEM block %d is %q; the chain may hold only CERTIFICATE blocks", i+1, b.Type)
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, nil, errorf(codeValidation, "CertificateChain: unable to parse certificate %d of the chain: %v", i+1, err)
		}
		chain = append(chain, c)
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	return chain, out, nil
}

func parsePrivateKeyField(data []byte) (crypto.Signer, []byte, *apiError) {
	blocks, aerr := pemBlocks("PrivateKey", data)
	if aerr != nil {
		return nil, nil, aerr
	}
	var keyBlock *pem.Block
	for _, b := range blocks {
		switch {
		case b.Type == "EC PARAMETERS":
			// openssl ecparam -genkey writes the curve before the key.
			continue
		case b.Type == "ENCRYPTED PRIVATE KEY" || strings.Contains(b.Headers["Proc-Type"], "ENCRYPTED"):
			return nil, nil, errorf(codeValidation, "PrivateKey: the private key is encrypted; ACM imports only unencrypted keys (decrypt it first, e.g. openssl pkey -in key.pem -out plain.pem)")
		case keyBlock != nil:
			return nil, nil, errorf(codeValidation, "PrivateKey: the field contains more than one private key; it must contain exactly one")
		}
		keyBlock = b
	}
	if keyBlock == nil {
		return nil, nil, errorf(codeValidation, "PrivateKey: the field holds no private key block")
	}
	var key any
	var err error
	switch keyBlock.Type {
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(keyBlock.Bytes)
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(keyBlock.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(keyBlock.Bytes)
	default:
		return nil, nil, errorf(codeValidation, "PrivateKey: the PEM block is %q; it must be a PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY", keyBlock.Type)
	}
	if err != nil {
		return nil, nil, errorf(codeValidation, "PrivateKey: unable to parse the %s block: %v", keyBlock.Type, err)
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, nil, errorf(codeValidation, "PrivateKey: the key type %T is not supported", key)
	}
	if _, ok := keyAlgorithm(signer.Public()); !ok {
		return nil, nil, errorf(codeValidation, "PrivateKey: the private key (%s) is not one ACM imports: RSA 1024, 2048, 3072 or 4096 bits, or ECDSA P-256, P-384 or P-521", describeKey(signer.Public()))
	}
	return signer, pem.EncodeToMemory(&pem.Block{Type: keyBlock.Type, Bytes: keyBlock.Bytes}), nil
}

// keyAlgorithm is ACM's KeyAlgorithm name of a public key, for the key
// types ACM imports (import-certificate-prerequisites: RSA_1024, RSA_2048,
// RSA_3072, RSA_4096, EC_prime256v1, EC_secp384r1, EC_secp521r1).
func keyAlgorithm(pub crypto.PublicKey) (string, bool) {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		switch k.N.BitLen() {
		case 1024, 2048, 3072, 4096:
			return fmt.Sprintf("RSA_%d", k.N.BitLen()), true
		}
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256():
			return "EC_prime256v1", true
		case elliptic.P384():
			return "EC_secp384r1", true
		case elliptic.P521():
			return "EC_secp521r1", true
		}
	}
	return "", false
}

func describeKey(pub crypto.PublicKey) string {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		return fmt.Sprintf("RSA %d bits", k.N.BitLen())
	case *ecdsa.PublicKey:
		return "ECDSA " + k.Curve.Params().Name
	default:
		return fmt.Sprintf("%T", pub)
	}
}

// signatureMatchesKey is the import guideline "The cryptographic algorithm
// of an imported certificate must match the algorithm of the signing CA":
// an RSA certificate signed with RSA, an ECDSA one with ECDSA.
func signatureMatchesKey(c *x509.Certificate) bool {
	switch c.PublicKeyAlgorithm {
	case x509.RSA:
		switch c.SignatureAlgorithm {
		case x509.SHA1WithRSA, x509.SHA256WithRSA, x509.SHA384WithRSA, x509.SHA512WithRSA,
			x509.SHA256WithRSAPSS, x509.SHA384WithRSAPSS, x509.SHA512WithRSAPSS, x509.MD5WithRSA:
			return true
		}
	case x509.ECDSA:
		switch c.SignatureAlgorithm {
		case x509.ECDSAWithSHA1, x509.ECDSAWithSHA256, x509.ECDSAWithSHA384, x509.ECDSAWithSHA512:
			return true
		}
	}
	return false
}

func selfSigned(c *x509.Certificate) bool {
	return bytes.Equal(c.RawIssuer, c.RawSubject) && c.CheckSignatureFrom(c) == nil
}

// issuedByOneOf is the import guideline "If a certificate chain is
// included, the issuer must be the subject of one of the certificates in
// the chain", with the signature checked too.
func issuedByOneOf(c *x509.Certificate, chain []*x509.Certificate) bool {
	for _, ca := range chain {
		if bytes.Equal(ca.RawSubject, c.RawIssuer) && c.CheckSignatureFrom(ca) == nil {
			return true
		}
	}
	return false
}

// names is the certificate's DomainName (the subject common name, else the
// first DNS name, else the first IP address) and SubjectAlternativeNames:
// the domain name first, then the DNS names and IP addresses, each once
// (ACM: "The subject alternative names include the canonical domain name
// (CN) of the certificate and additional domain names").
func names(c *x509.Certificate) (domain string, sans []string) {
	var all []string
	if c.Subject.CommonName != "" {
		all = append(all, c.Subject.CommonName)
	}
	all = append(all, c.DNSNames...)
	for _, ip := range c.IPAddresses {
		all = append(all, net.IP(ip).String())
	}
	seen := map[string]bool{}
	for _, n := range all {
		if !seen[n] {
			seen[n] = true
			sans = append(sans, n)
		}
	}
	if len(sans) == 0 {
		return "", nil
	}
	return sans[0], sans
}

func certfmtDN(raw []byte) string {
	s, err := certfmt.DN(raw)
	if err != nil {
		return "(unreadable name)"
	}
	return s
}

// serial is the serial number as ACM's DescribeCertificate writes it:
// lower-case hex bytes separated by colons (e.g. "0f:e1:7a").
func serial(c *x509.Certificate) string {
	b := c.SerialNumber.Bytes()
	if len(b) == 0 {
		b = []byte{0}
	}
	parts := make([]string, len(b))
	for i, x := range b {
		parts[i] = fmt.Sprintf("%02x", x)
	}
	return strings.Join(parts, ":")
}

// signatureAlgorithm is the SignatureAlgorithm name ACM reports
// (SHA256WITHRSA, SHA256WITHECDSA, …).
func signatureAlgorithm(c *x509.Certificate) string {
	switch c.SignatureAlgorithm {
	case x509.SHA1WithRSA:
		return "SHA1WITHRSA"
	case x509.SHA256WithRSA:
		return "SHA256WITHRSA"
	case x509.SHA384WithRSA:
		return "SHA384WITHRSA"
	case x509.SHA512WithRSA:
		return "SHA512WITHRSA"
	case x509.SHA256WithRSAPSS:
		return "SHA256WITHRSAANDMGF1"
	case x509.SHA384WithRSAPSS:
		return "SHA384WITHRSAANDMGF1"
	case x509.SHA512WithRSAPSS:
		return "SHA512WITHRSAANDMGF1"
	case x509.ECDSAWithSHA1:
		return "SHA1WITHECDSA"
	case x509.ECDSAWithSHA256:
		return "SHA256WITHECDSA"
	case x509.ECDSAWithSHA384:
		return "SHA384WITHECDSA"
	case x509.ECDSAWithSHA512:
		return "SHA512WITHECDSA"
	}
	return strings.ToUpper(strings.ReplaceAll(c.SignatureAlgorithm.String(), "-", ""))
}
