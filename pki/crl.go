package pki

import (
	"bytes"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"time"
)

// DefaultCRLLifetime is the gap between thisUpdate and nextUpdate. ALB (and
// s2n) apply a CRL whatever its dates (alb-behaviour §S1.4), so it only matters to
// other tools such as `openssl verify -crl_check`.
const DefaultCRLLifetime = 30 * 24 * time.Hour

// Revocation is one entry of a CRL.
type Revocation struct {
	Serial    *big.Int
	RevokedAt time.Time // defaults to the CRL's thisUpdate
	// Reason is an RFC 5280 reason code; 0 (unspecified) omits the
	// extension.
	Reason int
}

// CRLRequest describes one issue of a CA's CRL.
type CRLRequest struct {
	// Number is the CRL number; every re-issue needs a larger one
	// (default 1).
	Number *big.Int
	// ThisUpdate defaults to Clock().
	ThisUpdate time.Time
	// NextUpdate defaults to ThisUpdate + Lifetime.
	NextUpdate time.Time
	// Lifetime defaults to DefaultCRLLifetime.
	Lifetime time.Duration
	// Clock supplies "now" (default time.Now).
	Clock func() time.Time
	// Revoked lists the revoked serial numbers.
	Revoked []Revocation
	// Extensions are added to the CRL as given (e.g. an unknown critical
	// extension to provoke ClientCertCrlProcessingError).
	Extensions []pkix.Extension
}

// CRL issues a v2 CRL signed by the CA, in DER as CAs publish it. cfssl's
// crl package uses the deprecated x509.Certificate.CreateCRL (no CRL
// number, thisUpdate from the wall clock), so the standard library's
// x509.CreateRevocationList is used instead.
func (ca *CA) CRL(req CRLRequest) ([]byte, error) {
	if ca == nil {
		return nil, fmt.Errorf("issuing a CRL: the CA is nil")
	}
	clock := req.Clock
	if clock == nil {
		clock = time.Now
	}
	this := req.ThisUpdate
	if this.IsZero() {
		this = clock()
	}
	this = this.UTC().Truncate(time.Second)
	next := req.NextUpdate
	if next.IsZero() {
		lt := req.Lifetime
		if lt <= 0 {
			lt = DefaultCRLLifetime
		}
		next = this.Add(lt)
	}
	number := req.Number
	if number == nil {
		number = big.NewInt(1)
	}
	entries := make([]x509.RevocationListEntry, 0, len(req.Revoked))
	for _, r := range req.Revoked {
		if r.Serial == nil || r.Serial.Sign() < 0 {
			// ALB cannot revoke negative serial numbers (alb-behaviour §1.2).
			return nil, fmt.Errorf("CRL of %q: revoked serial %v must be a non-negative integer", ca.Cert.Subject.CommonName, r.Serial)
		}
		at := r.RevokedAt
		if at.IsZero() {
			at = this
		}
		entries = append(entries, x509.RevocationListEntry{SerialNumber: r.Serial, RevocationTime: at.UTC().Truncate(time.Second), ReasonCode: r.Reason})
	}
	der, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{
		Number:                    number,
		ThisUpdate:                this,
		NextUpdate:                next.UTC().Truncate(time.Second),
		RevokedCertificateEntries: entries,
		ExtraExtensions:           req.Extensions,
	}, ca.Cert, ca.Key)
	if err != nil {
		return nil, fmt.Errorf("signing the CRL of %q (number %v): %w", ca.Cert.Subject.CommonName, number, err)
	}
	return der, nil
}

// Format is an encoding of a CRL file.
type Format string

// The two CRL encodings: CAs publish DER, ALB accepts only PEM (alb-behaviour §1.2).
const (
	FormatDER Format = "der"
	FormatPEM Format = "pem"
)

const crlPEMType = "X509 CRL"

// EncodeCRLPEM wraps a DER CRL in an "X509 CRL" PEM block, the form ALB's
// trust store revocations require.
func EncodeCRLPEM(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: crlPEMType, Bytes: der})
}

// ParseCRL reads a CRL in either encoding and says which one it was. Errors
// name the problem precisely (wrong PEM type, certificate instead of CRL,
// truncated DER) so that the CLI can report them with the file name.
func ParseCRL(in []byte) (*x509.RevocationList, Format, error) {
	trimmed := bytes.TrimLeft(in, " \t\r\n")
	if bytes.HasPrefix(trimmed, []byte("-----BEGIN")) {
		block, rest := pem.Decode(trimmed)
		if block == nil {
			return nil, FormatPEM, fmt.Errorf("malformed PEM: a -----BEGIN line without a matching -----END line or with invalid base64")
		}
		if block.Type != crlPEMType {
			return nil, FormatPEM, fmt.Errorf("PEM block is %q, want %q: %s", block.Type, crlPEMType, whatIsIt(block.Type))
		}
		if len(bytes.TrimSpace(rest)) != 0 {
			return nil, FormatPEM, fmt.Errorf("unexpected data after the %s block: a CRL file holds exactly one CRL", crlPEMType)
		}
		crl, err := parseCRLDER(block.Bytes)
		return crl, FormatPEM, err
	}
	if len(in) == 0 {
		return nil, "", fmt.Errorf("empty input: want a CRL in DER or PEM")
	}
	if in[0] != 0x30 {
		return nil, "", fmt.Errorf("not a CRL: neither PEM (no -----BEGIN %s----- line) nor DER (first byte is 0x%02x, a DER CRL starts with 0x30)", crlPEMType, in[0])
	}
	crl, err := parseCRLDER(in)
	return crl, FormatDER, err
}

func parseCRLDER(der []byte) (*x509.RevocationList, error) {
	crl, err := x509.ParseRevocationList(der)
	if err == nil {
		if len(crl.Raw) != len(der) {
			// ParseRevocationList ignores bytes after the CRL; a file
			// with such bytes is damaged, so say so.
			return nil, fmt.Errorf("%d bytes of trailing data after the DER CRL", len(der)-len(crl.Raw))
		}
		return crl, nil
	}
	if _, cerr := x509.ParseCertificate(der); cerr == nil {
		return nil, fmt.Errorf("this is a DER certificate, not a CRL")
	}
	return nil, fmt.Errorf("invalid DER CRL (truncated or corrupt?): %w", err)
}

func whatIsIt(pemType string) string {
	switch pemType {
	case "CERTIFICATE":
		return "this is a certificate, not a CRL"
	case "PRIVATE KEY", "EC PRIVATE KEY", "RSA PRIVATE KEY":
		return "this is a private key, not a CRL"
	case "CERTIFICATE REQUEST", "NEW CERTIFICATE REQUEST":
		return "this is a certificate request, not a CRL"
	}
	return "not a CRL"
}

// ConvertCRL turns a DER CRL into PEM and a PEM CRL into DER, detecting the
// input's encoding: the one-step answer to
// `openssl crl -inform der -outform pem`. The input must be a well-formed
// CRL; nothing is returned otherwise.
func ConvertCRL(in []byte) (out []byte, to Format, err error) {
	crl, from, err := ParseCRL(in)
	if err != nil {
		return nil, "", err
	}
	if from == FormatPEM {
		return crl.Raw, FormatDER, nil
	}
	return EncodeCRLPEM(crl.Raw), FormatPEM, nil
}
