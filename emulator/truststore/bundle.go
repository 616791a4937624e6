package truststore

import (
	"bytes"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/albmtls/albmtls/emulator/alb"
)

const (
	pemBeginCert = "-----BEGIN CERTIFICATE-----"
	pemEndCert   = "-----END CERTIFICATE-----"
	// maxFindingsPerFile keeps a garbage file from producing thousands of
	// findings; the last one says that more were left out.
	maxFindingsPerFile = 50
)

// CheckBundle checks a CA certificates bundle against ALB's rules with the
// default quotas (alb-behaviour §1.2 "CA bundle format", §1.3). It returns the
// certificates it could parse, in file order, and every finding; the bundle
// is acceptable to ALB iff no finding is fatal.
func CheckBundle(file string, data []byte) ([]*x509.Certificate, []Finding) {
	return Limits{}.CheckBundle(file, data)
}

// CheckBundle is CheckBundle with these limits.
func (l Limits) CheckBundle(file string, data []byte) ([]*x509.Certificate, []Finding) {
	c := &bundleChecker{file: file, limits: l}
	c.run(data)
	return c.certs, c.findings
}

type bundleChecker struct {
	file     string
	limits   Limits
	certs    []*x509.Certificate
	lines    []int // BEGIN line of each cert in certs
	findings []Finding
	dropped  int
}

func (c *bundleChecker) add(f Finding) {
	f.File = c.file
	if f.ALBError == "" && f.Fatal {
		f.ALBError = ErrInvalidCaCertificatesBundle
	}
	if f.Basis == "" {
		f.Basis = BasisDOC
	}
	if len(c.findings) >= maxFindingsPerFile {
		c.dropped++
		return
	}
	c.findings = append(c.findings, f)
}

func (c *bundleChecker) run(data []byte) {
	defer func() {
		if c.dropped > 0 {
			c.findings = append(c.findings, Finding{Rule: "too-many-findings", File: c.file,
				Problem: fmt.Sprintf("%d more findings left out", c.dropped), Basis: BasisDOC,
				Fatal: HasFatal(c.findings), ALBError: ErrInvalidCaCertificatesBundle})
		}
	}()
	switch {
	case len(bytes.TrimSpace(data)) == 0:
		c.add(Finding{Rule: "bundle-empty", Fatal: true,
			Problem: "the bundle holds no certificate",
			Fix:     "put the root and intermediate CA certificates in it, PEM, one after the other"})
		if len(data) > 0 {
			c.add(Finding{Rule: "bundle-blank-line", Line: 1, Fatal: true,
				Problem: "blank line in the bundle", Fix: "remove empty lines (ALB rejects them)"})
		}
		return
	case data[0] == 0x30:
		c.add(Finding{Rule: "bundle-der", Fatal: true,
			Problem: "the bundle is binary DER, ALB reads PEM only",
			Fix:     fmt.Sprintf("convert it: openssl x509 -inform der -in %s -out %s.pem", c.file, c.file)})
		return
	case !utf8.Valid(data) || bytes.IndexByte(data, 0) >= 0:
		c.add(Finding{Rule: "bundle-binary", Fatal: true,
			Problem: "the bundle is not text",
			Fix:     "upload the CA certificates as concatenated PEM blocks (-----BEGIN CERTIFICATE-----)"})
		return
	}
	c.scan(data)
	c.checkCerts()
}

// scan walks the lines: outside blocks only "#" comments without "-" are
// allowed (alb-behaviour §1.2 "CA bundle format" [DOC: MA]); no line may be blank.
func (c *bundleChecker) scan(data []byte) {
	lines := strings.Split(string(data), "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1] // the final newline ends the last line
	}
	inBlock, begin := false, 0
	skipping := false // inside a block of another PEM type, reported at its BEGIN
	var body strings.Builder
	textRun := 0 // first line of a run of stray text, 0 if none
	flushText := func() {
		if textRun == 0 {
			return
		}
		c.add(strayText(lines, textRun))
		textRun = 0
	}
	for i, raw := range lines {
		n := i + 1
		line := strings.TrimRight(raw, " \t\r")
		if line == "" {
			flushText()
			c.add(Finding{Rule: "bundle-blank-line", Line: n, Fatal: true,
				Problem: "blank line in the bundle", Fix: "remove empty lines (ALB rejects them)"})
			continue
		}
		if skipping {
			skipping = !strings.HasPrefix(line, "-----END ")
			continue
		}
		if inBlock {
			switch {
			case line == pemEndCert:
				c.block(begin, body.String())
				inBlock = false
			case strings.HasPrefix(line, "-----END "):
				c.add(Finding{Rule: "bundle-pem-mismatch", Line: n, Fatal: true,
					Problem: fmt.Sprintf("%q closes the CERTIFICATE block opened at line %d", line, begin),
					Fix:     "end each block with " + pemEndCert})
				inBlock = false
			case strings.HasPrefix(line, "-----BEGIN "):
				c.add(Finding{Rule: "bundle-pem-unterminated", Line: begin, Fatal: true,
					Problem: "certificate block has no END line before the next BEGIN",
					Fix:     "add " + pemEndCert + " after the base64 lines"})
				inBlock, begin = c.begin(line, n)
				skipping = !inBlock
				body.Reset()
			case strings.Contains(line, ":"):
				c.add(Finding{Rule: "bundle-pem-headers", Line: n, Fatal: true,
					Problem: "PEM header line inside a certificate block",
					Fix:     "remove the header lines; a CA certificate block holds base64 only"})
			default:
				body.WriteString(line)
			}
			continue
		}
		switch {
		case strings.HasPrefix(line, "-----BEGIN "):
			flushText()
			inBlock, begin = c.begin(line, n)
			skipping = !inBlock
			body.Reset()
		case strings.HasPrefix(line, "#"):
			flushText()
			if strings.Contains(line, "-") {
				c.add(Finding{Rule: "bundle-comment-dash", Line: n, Fatal: true,
					Problem: "comment contains a '-' character",
					Fix:     "remove the '-' characters from the comment (ALB rejects them)"})
			}
		default:
			if textRun == 0 {
				textRun = n
			}
		}
	}
	flushText()
	if inBlock {
		c.add(Finding{Rule: "bundle-pem-unterminated", Line: begin, Fatal: true,
			Problem: "certificate block has no END line (file truncated?)",
			Fix:     "add " + pemEndCert + " after the base64 lines"})
	}
}

// begin handles a BEGIN line outside a block; it reports whether a
// certificate block starts.
func (c *bundleChecker) begin(line string, n int) (bool, int) {
	if line == pemBeginCert {
		return true, n
	}
	typ := strings.TrimSuffix(strings.TrimPrefix(line, "-----BEGIN "), "-----")
	fix := "keep only CERTIFICATE blocks in the bundle"
	if strings.Contains(typ, "PRIVATE KEY") {
		fix = "remove the private key: a trust store holds CA certificates only (and never upload keys to S3)"
	}
	c.add(Finding{Rule: "bundle-pem-type", Line: n, Fatal: true,
		Problem: fmt.Sprintf("PEM block of type %q; the bundle may hold CERTIFICATE blocks only", typ),
		Fix:     fix})
	return false, n
}

// strayText describes a run of text outside PEM blocks, recognising the
// `openssl x509 -text` dump that ALB refuses (alb-behaviour §1.2).
func strayText(lines []string, first int) Finding {
	l := strings.TrimSpace(lines[first-1])
	f := Finding{Rule: "bundle-text-outside-pem", Line: first, Fatal: true,
		Problem: fmt.Sprintf("text outside PEM blocks: %q", truncate(l, 40)),
		Fix:     "remove it, or turn it into a '#' comment without '-' characters"}
	if strings.HasPrefix(l, "Certificate:") || strings.HasPrefix(l, "subject=") || strings.HasPrefix(l, "issuer=") ||
		strings.HasPrefix(l, "Data:") || strings.HasPrefix(l, "Bag Attributes") {
		f.Problem = fmt.Sprintf("text outside PEM blocks (an `openssl x509 -text` dump?): %q", truncate(l, 40))
		f.Fix = "keep only the PEM blocks: openssl x509 -in CERT.pem -out CLEAN.pem, for each certificate"
	}
	return f
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// block decodes one certificate block and applies the per-certificate
// rules that need only the DER.
func (c *bundleChecker) block(line int, b64 string) {
	der, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		c.add(Finding{Rule: "bundle-corrupt-base64", Line: line, Fatal: true,
			Problem: fmt.Sprintf("certificate block is not valid base64: %v", err),
			Fix:     "re-export the certificate; the block was damaged (copy and paste?)"})
		return
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		c.add(Finding{Rule: "bundle-unparseable", Line: line, Fatal: true,
			Problem: fmt.Sprintf("certificate cannot be parsed: %v", err),
			Fix:     "re-export the certificate from the CA; check it with openssl x509 -noout -text"})
		return
	}
	c.certs = append(c.certs, cert)
	c.lines = append(c.lines, line)
}

// checkCerts applies the rules on the parsed certificates (alb-behaviour §1.2
// quotas, §1.3, §10 item 8).
func (c *bundleChecker) checkCerts() {
	if len(c.certs) == 0 && !HasFatal(c.findings) {
		c.add(Finding{Rule: "bundle-empty", Fatal: true,
			Problem: "the bundle holds no certificate",
			Fix:     "put the root and intermediate CA certificates in it, PEM, one after the other"})
	}
	now := c.limits.now()
	subjects := 0
	seen := make(map[string]int, len(c.certs))
	for i, cert := range c.certs {
		line := c.lines[i]
		name := subjectString(cert)
		subjects += 2 + len(cert.RawSubject)
		if prev, dup := seen[string(cert.Raw)]; dup {
			c.add(Finding{Rule: "bundle-duplicate", Line: line, Basis: BasisINF,
				Problem: fmt.Sprintf("%s duplicates the certificate at line %d", name, prev),
				Fix:     "remove the duplicate (ALB's TLS library ignores it)"})
			continue
		}
		seen[string(cert.Raw)] = line
		if len(cert.Raw) > alb.MaxCACertificateSize {
			c.add(Finding{Rule: "bundle-cert-too-large", ALBError: QuotaCACertificateSize, Line: line, Fatal: true, Basis: BasisINF,
				Problem: fmt.Sprintf("%s is %d bytes (DER); the CA certificate size quota is 16 KB", name, len(cert.Raw)),
				Fix:     "use a smaller CA certificate (this quota is not adjustable)"})
		}
		if cert.Version != 3 {
			c.add(Finding{Rule: "bundle-not-v3", Line: line, Fatal: true, Basis: BasisINF,
				Problem: fmt.Sprintf("%s is X.509v%d; ALB supports X.509v3 only", name, cert.Version),
				Fix:     "re-issue the CA certificate as v3 (with basicConstraints CA:TRUE)"})
		}
		if desc, ok := alb.SupportedPublicKey(cert.PublicKey); !ok {
			c.add(Finding{Rule: "bundle-key-type", Line: line, Fatal: true, Basis: BasisINF,
				Problem: fmt.Sprintf("%s has a %s key; ALB supports RSA 2048-8192 and ECDSA P-256/P-384/P-521", name, desc),
				Fix:     "use a CA with a supported key type"})
		}
		if !cert.BasicConstraintsValid || !cert.IsCA {
			c.add(Finding{Rule: "bundle-not-ca", Line: line, Basis: BasisINF,
				Problem: fmt.Sprintf("%s is not a CA certificate (no basicConstraints CA:TRUE)", name),
				Fix:     "a trust store should hold CA certificates; a leaf here only trusts itself"})
		}
		switch {
		case !now.Before(cert.NotAfter):
			c.add(Finding{Rule: "bundle-ca-expired", Line: line, Basis: BasisINF,
				Problem: fmt.Sprintf("%s expired on %s", name, cert.NotAfter.UTC().Format("2006-01-02T15:04:05Z")),
				Fix:     "clients chaining to it fail with ClientCertExpired; replace it with the renewed CA"})
		case now.Before(cert.NotBefore):
			c.add(Finding{Rule: "bundle-ca-not-yet-valid", Line: line, Basis: BasisINF,
				Problem: fmt.Sprintf("%s is not valid before %s", name, cert.NotBefore.UTC().Format("2006-01-02T15:04:05Z")),
				Fix:     "clients chaining to it fail with ClientCertNotYetValid until then"})
		}
	}
	if max := c.limits.maxCAs(); len(c.certs) > max {
		c.add(Finding{Rule: "bundle-too-many-cas", ALBError: QuotaCACertificatesPerTrustStore, Line: c.lines[max], Fatal: true, Basis: BasisINF,
			Problem: fmt.Sprintf("the bundle holds %d CA certificates; the quota is %d per trust store", len(c.certs), max),
			Fix:     "remove CAs you do not need, or raise the quota (L-43FE5A42, adjustable)"})
	}
	if subjects > alb.MaxCASubjectSize {
		c.add(Finding{Rule: "bundle-subject-size", ALBError: QuotaCASubjectSize, Basis: BasisINF,
			Problem: fmt.Sprintf("the CA subjects total %d bytes; the quota for advertised CA names is %d", subjects, alb.MaxCASubjectSize),
			Fix:     "fine unless advertise_trust_store_ca_names is on; then raise the quota (L-F31E307C) or trim the bundle"})
	}
}

// subjectString names a certificate in messages: its subject, or its
// serial when the subject is empty.
func subjectString(c *x509.Certificate) string {
	if s := c.Subject.String(); s != "" {
		return s
	}
	return "certificate with serial " + fmt.Sprintf("%X", c.SerialNumber)
}
