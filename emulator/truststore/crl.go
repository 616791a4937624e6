package truststore

import (
	"bytes"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"fmt"
	"math/big"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/albmtls/albmtls/emulator/alb"
)

const (
	pemBeginCRL = "-----BEGIN X509 CRL-----"
	pemEndCRL   = "-----END X509 CRL-----"
)

// Unusable says why a loaded CRL cannot be applied. A handshake that needs
// an unusable CRL fails (alb-behaviour §S1.4, AWS-LC check_crl order: issuer key usage,
// scope, signature, then critical extensions).
type Unusable int

// Unusable values, in AWS-LC's checking order.
const (
	// Usable: the CRL is applied.
	Usable Unusable = iota
	// UnusableIssuerNoCRLSign: the issuer's keyUsage lacks cRLSign
	// (X509_V_ERR_KEYUSAGE_NO_CRL_SIGN → s2n CERT_UNTRUSTED).
	UnusableIssuerNoCRLSign
	// UnusableScope: delta, indirect or reason-partitioned CRL, which
	// AWS-LC never uses (→ S2N_ERR_CRL_LOOKUP_FAILED).
	UnusableScope
	// UnusableSignature: the signature does not verify with the issuer's
	// key (→ S2N_ERR_CRL_SIGNATURE). Loaded only with
	// Limits.AcceptBadCRLSignature.
	UnusableSignature
	// UnusableCriticalExtension: an extension AWS-LC does not handle is
	// critical (→ S2N_ERR_CRL_UNHANDLED_CRITICAL_EXTENSION).
	UnusableCriticalExtension
)

// CRL is a parsed, attributed certificate revocation list. It is immutable
// and shared by every Store snapshot that holds it.
type CRL struct {
	// File is the name the CRL was loaded under (path or S3-style key).
	File string
	// Issuer is the bundle CA that issued it (matched by subject and
	// signature).
	Issuer             *x509.Certificate
	Number             *big.Int // CRL number; nil if absent
	ThisUpdate         time.Time
	NextUpdate         time.Time // zero if absent
	SignatureAlgorithm x509.SignatureAlgorithm
	// NegativeSerials counts entries ALB cannot apply (alb-behaviour §1.2).
	NegativeSerials int
	// Unusable is Usable unless handshakes needing this CRL must fail;
	// UnusableReason then says why, in one sentence.
	Unusable       Unusable
	UnusableReason string

	entries int
	scope   idpScope
	set     *serialSet
}

// Len is the number of entries the CRL lists (ELBv2
// NumberOfRevokedEntries, counted against the 500,000-entry quota).
func (c *CRL) Len() int { return c.entries }

// Contains reports in O(1), without allocating, whether the CRL revokes the
// serial. Negative serials are never revoked (alb-behaviour §1.2).
func (c *CRL) Contains(serial *big.Int) bool { return c.set.containsInt(serial) }

// Stale reports whether the CRL is outside its validity window at now:
// thisUpdate in the future or nextUpdate passed. s2n still applies a stale
// CRL (alb-behaviour §S1.4); the verifier decides.
func (c *CRL) Stale(now time.Time) bool {
	return now.Before(c.ThisUpdate) || (!c.NextUpdate.IsZero() && !now.Before(c.NextUpdate))
}

// ScopeExcludes reports whether the CRL's issuingDistributionPoint says it
// does not cover cert (onlyContainsUserCerts for a CA, onlyContainsCACerts
// for a leaf); AWS-LC then fails with DIFFERENT_CRL_SCOPE.
func (c *CRL) ScopeExcludes(cert *x509.Certificate) bool {
	isCA := cert.BasicConstraintsValid && cert.IsCA
	return c.scope.onlyUser && isCA || c.scope.onlyCA && !isCA
}

// ParseCRL checks one revocation file against ALB's rules (alb-behaviour §1.2 "CRL
// format", quotas) and attributes it to the bundle CA that issued it. It
// returns nil when the file cannot be used at all; the findings say why.
// A fatal finding means ALB refuses the file (InvalidRevocationContent).
func ParseCRL(file string, data []byte, cas []*x509.Certificate) (*CRL, []Finding) {
	return Limits{}.ParseCRL(file, data, cas)
}

// ParseCRL is ParseCRL with these limits (the clock for staleness
// warnings). A bad signature is always reported as fatal here; Load and
// Live demote it when AcceptBadCRLSignature is set.
func (l Limits) ParseCRL(file string, data []byte, cas []*x509.Certificate) (*CRL, []Finding) {
	var fs []Finding
	add := func(f Finding) {
		f.File = file
		if f.Fatal && f.ALBError == "" {
			f.ALBError = ErrInvalidRevocationContent
		}
		if f.Basis == "" {
			f.Basis = BasisINF
		}
		fs = append(fs, f)
	}
	der, line := crlPEM(data, file, add)
	if der == nil {
		return nil, fs
	}
	raw, err := parseCRLDER(der)
	if err != nil {
		add(Finding{Rule: "crl-unparseable", Line: line, Fatal: true, Basis: BasisDOC,
			Problem: fmt.Sprintf("not a valid X.509 CRL: %v", err),
			Fix:     "re-export the CRL from the CA; check it with openssl crl -noout -text -in " + file})
		return nil, fs
	}
	issuerName := nameString(raw.rawIssuer)
	issuer, sigErr := findIssuer(raw, cas)
	if issuer == nil {
		add(Finding{Rule: "crl-issuer-not-in-bundle", Line: line, Fatal: true,
			Problem: fmt.Sprintf("issued by %q, which is not a CA certificate in the bundle", issuerName),
			Fix:     "add the CA that issues this CRL to the bundle, or upload the CRL of a CA that is in it"})
		return nil, fs
	}
	crl := &CRL{File: file, Issuer: issuer, Number: raw.number, ThisUpdate: raw.thisUpdate, NextUpdate: raw.nextUpdate,
		SignatureAlgorithm: raw.sigAlgo, NegativeSerials: raw.negative, entries: raw.entries, scope: raw.idp, set: raw.set}
	if !supportedCRLSignature(raw.sigAlgo) {
		add(Finding{Rule: "crl-signature-algorithm", Line: line, Fatal: true,
			Problem: fmt.Sprintf("signed with %v; ALB supports SHA-256/384/512 with RSA, RSA-PSS or ECDSA", raw.sigAlgo),
			Fix:     "have the CA sign its CRL with SHA-256 or stronger (InvalidRevocationContent: \"uses an incorrect algorithm\")"})
		return nil, fs
	}
	if raw.idp.malformed {
		add(Finding{Rule: "crl-idp-malformed", Line: line, Fatal: true,
			Problem: "malformed issuingDistributionPoint extension (AWS-LC cannot decode the CRL)",
			Fix:     "re-issue the CRL"})
		return nil, fs
	}
	unusable := func(u Unusable, reason string) {
		if crl.Unusable == Usable || u < crl.Unusable {
			crl.Unusable, crl.UnusableReason = u, reason
		}
	}
	if issuer.KeyUsage != 0 && issuer.KeyUsage&x509.KeyUsageCRLSign == 0 {
		reason := fmt.Sprintf("issuer %s has a keyUsage without cRLSign", subjectString(issuer))
		unusable(UnusableIssuerNoCRLSign, reason)
		add(Finding{Rule: "crl-issuer-no-crlsign", Line: line, Problem: reason,
			Fix: "handshakes that need this CRL fail with ClientCertUntrusted (alb-behaviour §S1.4); re-issue the CA with cRLSign"})
	}
	if raw.delta || raw.idp.indirect || raw.idp.onlySomeReasons || raw.idp.onlyAttr {
		reason := "delta, indirect or reason-partitioned CRL, which AWS-LC never uses"
		unusable(UnusableScope, reason)
		add(Finding{Rule: "crl-scope-unsupported", Line: line, Problem: reason,
			Fix: "handshakes that need this CRL fail with ClientCertCrlProcessingError; upload a complete base CRL"})
	}
	if sigErr != nil {
		reason := fmt.Sprintf("signature does not verify with the key of %s: %v", subjectString(issuer), sigErr)
		unusable(UnusableSignature, reason)
		add(Finding{Rule: "crl-bad-signature", Line: line, Fatal: true, Problem: reason,
			Fix: "upload the CRL exactly as the CA published it (converting DER to PEM must not change the bytes)"})
	}
	if len(raw.unhandledCritical) > 0 {
		reason := fmt.Sprintf("critical extension(s) %v that AWS-LC does not handle", oidList(raw.unhandledCritical))
		unusable(UnusableCriticalExtension, reason)
		add(Finding{Rule: "crl-critical-extension", Line: line, Problem: reason,
			Fix: "handshakes that need this CRL fail with ClientCertCrlProcessingError (alb-behaviour §S1.4); re-issue it without them"})
	}
	if raw.negative > 0 {
		add(Finding{Rule: "crl-negative-serial", Line: line, Basis: BasisDOC,
			Problem: fmt.Sprintf("%d of %d entries have a negative serial number, which ALB can't revoke", raw.negative, raw.entries),
			Fix:     "those certificates stay valid; the CA must re-issue them with positive serials"})
	}
	now := l.now()
	if crl.Stale(now) {
		add(Finding{Rule: "crl-stale", Line: line,
			Problem: fmt.Sprintf("CRL is outside its validity window (thisUpdate %s, nextUpdate %s)",
				fmtTime(crl.ThisUpdate), fmtTime(crl.NextUpdate)),
			Fix: "ALB's TLS library still applies a stale CRL (alb-behaviour §S1.4); upload the CA's current CRL"})
	}
	return crl, fs
}

// crlPEM extracts the DER of the one X509 CRL block in a revocation file
// and the block's first line, or reports why it cannot.
func crlPEM(data []byte, file string, add func(Finding)) ([]byte, int) {
	fix := fmt.Sprintf("convert it: albmtls crl convert %s %s.pem (or openssl crl -inform der -in %s -outform pem -out %s.pem)",
		file, file, file, file)
	switch {
	case len(data) > alb.MaxRevocationFileSize:
		add(Finding{Rule: "crl-file-too-large", ALBError: QuotaRevocationListFileSize, Fatal: true,
			Problem: fmt.Sprintf("the file is %d bytes; the revocation list file size quota is 50 MB", len(data)),
			Fix:     "split the revocations across several CRLs (this quota is not adjustable)"})
		return nil, 0
	case len(bytes.TrimSpace(data)) == 0:
		add(Finding{Rule: "crl-empty", Fatal: true, Basis: BasisDOC, Problem: "the revocation file is empty",
			Fix: "upload the CA's CRL in PEM form (-----BEGIN X509 CRL-----)"})
		return nil, 0
	case data[0] == 0x30:
		add(Finding{Rule: "crl-der", Fatal: true, Basis: BasisDOC,
			Problem: "the CRL is DER (binary); ALB accepts PEM CRLs only", Fix: fix})
		return nil, 0
	case !utf8.Valid(data) || bytes.IndexByte(data, 0) >= 0:
		add(Finding{Rule: "crl-binary", Fatal: true, Basis: BasisDOC,
			Problem: "the revocation file is neither PEM nor DER", Fix: "upload the CA's CRL in PEM form (-----BEGIN X509 CRL-----)"})
		return nil, 0
	}
	begin := bytes.Index(data, []byte("-----BEGIN "))
	if begin < 0 {
		add(Finding{Rule: "crl-no-pem", Line: 1, Fatal: true, Basis: BasisDOC,
			Problem: "no PEM block in the file", Fix: "upload the CA's CRL in PEM form (-----BEGIN X509 CRL-----)"})
		return nil, 0
	}
	line := 1 + bytes.Count(data[:begin], []byte("\n"))
	rest := data[begin:]
	if !bytes.HasPrefix(rest, []byte(pemBeginCRL)) {
		typ, _, _ := strings.Cut(strings.TrimPrefix(firstLine(rest), "-----BEGIN "), "-----")
		add(Finding{Rule: "crl-pem-type", Line: line, Fatal: true,
			Problem: fmt.Sprintf("PEM block of type %q; a revocation file holds one X509 CRL block", typ),
			Fix:     "upload the CA's CRL (-----BEGIN X509 CRL-----), not a certificate or key"})
		return nil, 0
	}
	bodyStart := begin + len(pemBeginCRL)
	endRel := bytes.Index(data[bodyStart:], []byte(pemEndCRL))
	if endRel < 0 {
		add(Finding{Rule: "crl-pem-unterminated", Line: line, Fatal: true,
			Problem: "the X509 CRL block has no END line (file truncated?)", Fix: "upload the complete CRL file"})
		return nil, 0
	}
	body := data[bodyStart : bodyStart+endRel]
	after := data[bodyStart+endRel+len(pemEndCRL):]
	if i := bytes.Index(after, []byte("-----BEGIN ")); i >= 0 {
		l := line + bytes.Count(data[begin:bodyStart+endRel], []byte("\n")) + bytes.Count(after[:i], []byte("\n"))
		add(Finding{Rule: "crl-multiple-blocks", Line: l, Fatal: true,
			Problem: "more than one PEM block; a revocation file holds one CRL",
			Fix:     "upload each CRL as its own file (each gets its own revocation ID)"})
		return nil, 0
	}
	if len(bytes.TrimSpace(data[:begin])) > 0 || len(bytes.TrimSpace(after)) > 0 {
		add(Finding{Rule: "crl-text-outside-pem", Line: 1,
			Problem: "text outside the PEM block (ALB's handling of it is not documented)",
			Fix:     "keep only the PEM block: openssl crl -in " + file + " -out CLEAN.pem"})
	}
	if bytes.ContainsAny(body, " \t") { // trailing blanks on lines, as PEM readers tolerate
		body = bytes.Map(func(r rune) rune {
			if r == ' ' || r == '\t' {
				return -1
			}
			return r
		}, body)
	}
	der := make([]byte, base64.StdEncoding.DecodedLen(len(body)))
	n, err := base64.StdEncoding.Decode(der, body)
	if err != nil {
		add(Finding{Rule: "crl-corrupt-base64", Line: line, Fatal: true, Basis: BasisDOC,
			Problem: fmt.Sprintf("the X509 CRL block is not valid base64: %v", err),
			Fix:     "re-convert the CRL from the CA's original"})
		return nil, 0
	}
	return der[:n], line
}

// findIssuer picks the bundle CA that issued the CRL: same subject as the
// CRL's issuer, the signature verifying with its key (s2n matches CRLs to
// certificates by issuer name hash, alb-behaviour §S2). It returns the signature error
// when only name matches exist.
func findIssuer(raw *rawCRL, cas []*x509.Certificate) (*x509.Certificate, error) {
	var first *x509.Certificate
	var firstErr error
	for _, ca := range cas {
		if !bytes.Equal(ca.RawSubject, raw.rawIssuer) {
			continue
		}
		err := ca.CheckSignature(raw.sigAlgo, raw.tbs, raw.signature)
		if err == nil {
			return ca, nil
		}
		if first == nil || (raw.authKeyID != nil && bytes.Equal(ca.SubjectKeyId, raw.authKeyID)) {
			first, firstErr = ca, err
		}
	}
	return first, firstErr
}

func supportedCRLSignature(a x509.SignatureAlgorithm) bool {
	switch a {
	case x509.SHA256WithRSA, x509.SHA384WithRSA, x509.SHA512WithRSA,
		x509.ECDSAWithSHA256, x509.ECDSAWithSHA384, x509.ECDSAWithSHA512,
		x509.SHA256WithRSAPSS, x509.SHA384WithRSAPSS, x509.SHA512WithRSAPSS:
		return true
	}
	return false
}

func nameString(raw []byte) string {
	var rdn pkix.RDNSequence
	if _, err := asn1.Unmarshal(raw, &rdn); err != nil {
		return "(unreadable name)"
	}
	var n pkix.Name
	n.FillFromRDNSequence(&rdn)
	return n.String()
}

func oidList(oids []asn1.ObjectIdentifier) string {
	s := make([]string, len(oids))
	for i, o := range oids {
		s[i] = o.String()
	}
	return strings.Join(s, ", ")
}

func firstLine(b []byte) string {
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		b = b[:i]
	}
	return strings.TrimSpace(string(b))
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "absent"
	}
	return t.UTC().Format("2006-01-02T15:04:05Z")
}
