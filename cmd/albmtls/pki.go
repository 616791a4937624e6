package main

import (
	"crypto/x509/pkix"
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/albmtls/albmtls/emulator/certfmt"
	"github.com/albmtls/albmtls/pki"
)

func newPKICmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "pki",
		Short: "Create the test PKI, issue and revoke certificates in it",
		Long: `pki builds a test PKI with cfssl: a root and an intermediate CA (the trust
store), a server certificate, one client certificate per ALB verification
outcome, CRLs in DER and PEM, and manifest.json saying what each is for.`,
	}
	cmd.AddCommand(newPKIInitCmd(a), newPKIIssueCmd(a), newPKIRevokeCmd(a))
	return cmd
}

// pkiInitConfig holds the flags of `pki init`.
type pkiInitConfig struct {
	out     string
	keyType string
	force   bool
	quiet   bool
	json    bool
	org     string
	orgUnit string
}

func newPKIInitCmd(a *app) *cobra.Command {
	var c pkiInitConfig
	cmd := &cobra.Command{
		Use:   "init --out DIR",
		Short: "Create the standard test PKI in DIR",
		Example: `  albmtls pki init --out pki
  albmtls pki init --out pki --key-type rsa-2048 --force
  albmtls pki init --out pki -q --json | jq -r '.clients[] | .name + " " + .expect_verify'`,
		Long: `init generates the standard test PKI with cfssl and writes it to DIR: the
CAs and their CRLs, the server certificate, one client certificate per ALB
verification outcome and manifest.json. With --json it prints what it wrote
as one JSON object (fields in docs/pki.md) instead of the summary.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runPKIInit(a, c) },
	}
	f := cmd.Flags()
	f.StringVar(&c.out, "out", "", "`DIR` to create (required)")
	f.StringVar(&c.keyType, "key-type", string(pki.DefaultKeyType), "`TYPE` of the keys of the server and of clients without a fixed one: "+pki.KeyTypeNames())
	f.BoolVar(&c.force, "force", false, "replace an existing PKI in DIR")
	f.BoolVarP(&c.quiet, "quiet", "q", false, "do not show progress on stderr")
	f.BoolVar(&c.json, "json", false, "print what was written as JSON (fields in docs/pki.md)")
	f.StringVar(&c.org, "org", "Example Corp", "organisation (O) of the base DN that the member client carries, as `NAME`")
	f.StringVar(&c.orgUnit, "org-unit", "Engineering", "organisational unit (OU) of the base DN, as `NAME`")
	_ = cmd.MarkFlagRequired("out")
	completeDirs(cmd, "out")
	completeValues(cmd, "key-type", keyTypeNames()...)
	return cmd
}

func runPKIInit(a *app, c pkiInitConfig) error {
	kt, err := pki.ParseKeyType(c.keyType)
	if err != nil {
		return usageErrorf("--key-type: %w", err)
	}
	if err := pki.CheckOutputDir(c.out, c.force); err != nil {
		return usageError(err)
	}
	progress := func(step string) { fmt.Fprintf(a.stderr, "pki: %s\n", step) }
	if c.quiet {
		progress = nil
	}
	set, err := pki.Generate(pki.GenerateOptions{
		KeyType:      kt,
		Organization: pki.BaseDN{O: c.org, OU: c.orgUnit},
		Progress:     progress,
	})
	if err != nil {
		return fmt.Errorf("generating the PKI: %w", err)
	}
	if progress != nil {
		progress("writing " + c.out)
	}
	if err := set.WriteDir(c.out, c.force); err != nil {
		return err
	}
	if progress != nil {
		progress("writing a PKCS#12 file per client for browsers (password " + pki.P12Password + ")")
	}
	if _, err := set.WriteP12s(c.out, pki.P12Password); err != nil {
		return err
	}
	m := set.Manifest()
	if c.json {
		return writeJSON(a.stdout, pkiInitReport(c.out, m))
	}
	counts := map[pki.Kind]int{}
	for _, art := range m.Artefacts {
		counts[art.Kind]++
	}
	fmt.Fprintf(a.stdout, "wrote the test PKI to %s: %d CAs, %d CRLs, %d server, %d clients\n",
		c.out, counts[pki.KindCA], counts[pki.KindCRL], counts[pki.KindServer], counts[pki.KindClient])
	fmt.Fprintf(a.stdout, "  trust store bundle: %s\n", filepath.Join(c.out, m.TrustStore.Bundle))
	for _, r := range m.TrustStore.Revocations {
		fmt.Fprintf(a.stdout, "  revocations (PEM):  %s\n", filepath.Join(c.out, r))
	}
	fmt.Fprintf(a.stdout, "  PKCS#12 (browsers): %s, one per client, password %s\n", filepath.Join(c.out, pki.P12File("NAME")), pki.P12Password)
	fmt.Fprintf(a.stdout, "  manifest:           %s\n", filepath.Join(c.out, pki.ManifestFile))
	return nil
}

// pkiIssueConfig holds the flags of `pki issue`.
type pkiIssueConfig struct {
	dir, name, issuer, purpose string
	cn, o, ou, c, st, l        string
	attrs                      []string
	notBefore, notAfter        string
	keyType                    string
	eku, ku                    []string
	dns, ips, emails, uris     []string
}

func newPKIIssueCmd(a *app) *cobra.Command {
	var c pkiIssueConfig
	cmd := &cobra.Command{
		Use:   "issue --pki DIR --name NAME --cn CN",
		Short: "Issue a client certificate from the intermediate and add it to the manifest",
		Long: `issue signs a new client certificate, writes DIR/clients/NAME.pem, NAME-key.pem
and NAME-chain.pem, and adds it to DIR/manifest.json with its expected ALB
outcome.

Times (--not-before, --not-after) are RFC 3339 (2026-01-02T15:04:05Z), a date
(2026-01-02), "now", or an offset from now such as -48h, +30d or -1d.`,
		Example: `  albmtls pki issue --pki pki --name alice --cn alice --o "Example Corp" --ou Engineering
  albmtls pki issue --pki pki --name old --cn old --not-before -30d --not-after -1d
  albmtls pki issue --pki pki --name web --cn web --eku server --dns web.example`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runPKIIssue(a, c) },
	}
	f := cmd.Flags()
	f.StringVar(&c.dir, "pki", "", "PKI `DIR` made by albmtls pki init (required)")
	f.StringVar(&c.name, "name", "", "artefact `NAME` and file stem: clients/NAME.pem (required)")
	f.StringVar(&c.cn, "cn", "", "subject common name, `CN` (required)")
	f.StringVar(&c.o, "o", "", "subject organisation, `O`")
	f.StringVar(&c.ou, "ou", "", "subject organisational unit, `OU`")
	f.StringVar(&c.c, "country", "", "subject country, `C`")
	f.StringVar(&c.st, "province", "", "subject state or province, `ST`")
	f.StringVar(&c.l, "locality", "", "subject locality, `L`")
	f.StringArrayVar(&c.attrs, "attr", nil, "extra subject attribute `OID=VALUE`, e.g. 1.2.840.113549.1.9.1=a@example.com (repeatable)")
	f.StringVar(&c.notBefore, "not-before", "", "start of validity, a `TIME` (default: 5 minutes ago)")
	f.StringVar(&c.notAfter, "not-after", "", "end of validity, a `TIME` (default: not-before + 365 days)")
	f.StringVar(&c.keyType, "key-type", "", "key `TYPE` (default: the PKI's default): "+pki.KeyTypeNames())
	f.StringSliceVar(&c.eku, "eku", []string{"client"}, "extended key `USAGES`: "+strings.Join(pki.ExtKeyUsageNames(), ", "))
	f.StringSliceVar(&c.ku, "ku", nil, "key `USAGES` (default digital-signature, plus key-encipherment for RSA): "+strings.Join(pki.KeyUsageNames(), ", "))
	f.StringSliceVar(&c.dns, "dns", nil, "`NAME`: a DNS subjectAltName (repeatable)")
	f.StringSliceVar(&c.ips, "ip", nil, "`IP`: an IP subjectAltName (repeatable)")
	f.StringSliceVar(&c.emails, "email", nil, "`ADDRESS`: an email subjectAltName (repeatable)")
	f.StringSliceVar(&c.uris, "uri", nil, "`URI`: a URI subjectAltName (repeatable)")
	f.StringVar(&c.issuer, "issuer", "intermediate", "issuing CA, by manifest `NAME`")
	f.StringVar(&c.purpose, "purpose", "", "one `SENTENCE` for the manifest")
	for _, n := range []string{"pki", "name", "cn"} {
		_ = cmd.MarkFlagRequired(n)
	}
	completeDirs(cmd, "pki")
	completeValues(cmd, "key-type", keyTypeNames()...)
	completeValues(cmd, "eku", pki.ExtKeyUsageNames()...)
	completeValues(cmd, "ku", pki.KeyUsageNames()...)
	_ = cmd.RegisterFlagCompletionFunc("issuer", completeManifest(pki.KindCA))
	return cmd
}

func runPKIIssue(a *app, c pkiIssueConfig) error {
	req, err := c.request(time.Now())
	if err != nil {
		return usageError(err)
	}
	set, err := pki.Load(c.dir)
	if err != nil {
		return configError(err)
	}
	leaf, err := set.Issue(req)
	if err != nil {
		// What Issue refuses is the request: a used or unsafe name, an
		// unknown issuer, an empty validity window.
		return usageErrorf("issuing %q in %s: %w", c.name, c.dir, err)
	}
	if err := set.Save(); err != nil {
		return fmt.Errorf("saving %s: %w", c.dir, err)
	}
	art, _ := set.Manifest().Artefact(c.name)
	fmt.Fprintf(a.stdout, "issued %s (serial %s) from %s\n", c.name, certfmt.SerialNumber(leaf.Cert.SerialNumber), req.Issuer)
	for _, p := range []string{art.Files.Cert, art.Files.Key, art.Files.Chain} {
		fmt.Fprintf(a.stdout, "  %s\n", filepath.Join(c.dir, p))
	}
	if art.Expect != nil {
		fmt.Fprintf(a.stdout, "  expected in verify mode: %s\n", art.Expect.Verify)
	}
	return nil
}

// request turns the flags into an IssueRequest; now anchors relative times.
func (c pkiIssueConfig) request(now time.Time) (pki.IssueRequest, error) {
	req := pki.IssueRequest{Name: c.name, Issuer: c.issuer, Purpose: c.purpose}
	req.Subject = pki.Name{CommonName: c.cn, Organization: c.o, OrganizationalUnit: c.ou, Country: c.c, Province: c.st, Locality: c.l}
	for _, attr := range c.attrs {
		oid, value, ok := strings.Cut(attr, "=")
		parsed, err := pki.ParseOID(oid)
		if !ok || err != nil {
			return req, fmt.Errorf("--attr %q: want OID=VALUE with a dotted OID such as 0.9.2342.19200300.100.1.1=alice", attr)
		}
		req.Subject.Extra = append(req.Subject.Extra, pkix.AttributeTypeAndValue{Type: parsed, Value: value})
	}
	var err error
	if req.NotBefore, err = pki.ParseTime(c.notBefore, now); err != nil {
		return req, fmt.Errorf("--not-before: %w", err)
	}
	if req.NotAfter, err = pki.ParseTime(c.notAfter, now); err != nil {
		return req, fmt.Errorf("--not-after: %w", err)
	}
	if c.keyType != "" {
		if req.KeyType, err = pki.ParseKeyType(c.keyType); err != nil {
			return req, fmt.Errorf("--key-type: %w", err)
		}
	}
	if req.ExtKeyUsage, err = pki.ParseExtKeyUsages(c.eku); err != nil {
		return req, fmt.Errorf("--eku: %w", err)
	}
	if req.KeyUsage, err = pki.ParseKeyUsages(c.ku); err != nil {
		return req, fmt.Errorf("--ku: %w", err)
	}
	req.SANs.DNSNames = c.dns
	req.SANs.EmailAddresses = c.emails
	for _, s := range c.ips {
		ip := net.ParseIP(s)
		if ip == nil {
			return req, fmt.Errorf("--ip %q is not an IP address", s)
		}
		req.SANs.IPAddresses = append(req.SANs.IPAddresses, ip)
	}
	for _, s := range c.uris {
		u, err := url.Parse(s)
		if err != nil || u.Scheme == "" {
			return req, fmt.Errorf("--uri %q is not an absolute URI such as spiffe://example.org/alice", s)
		}
		req.SANs.URIs = append(req.SANs.URIs, u)
	}
	return req, nil
}

func newPKIRevokeCmd(a *app) *cobra.Command {
	var dir string
	cmd := &cobra.Command{
		Use:   "revoke --pki DIR NAME...",
		Short: "Revoke certificates and re-issue their CA's CRL in DER and PEM",
		Long: `revoke adds each NAME (a client, the server or a non-root CA of the manifest) to
the CRL of the CA that issued it, re-issues that CRL with the next CRL number
as DIR/crl/CA.crl (DER) and DIR/crl/CA.crl.pem (PEM, what ALB loads), and
updates DIR/manifest.json.`,
		Example: `  albmtls pki revoke --pki pki valid
  albmtls pki revoke --pki pki member outsider`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, names []string) error { return runPKIRevoke(a, dir, names) },
	}
	cmd.Flags().StringVar(&dir, "pki", "", "PKI `DIR` made by albmtls pki init (required)")
	_ = cmd.MarkFlagRequired("pki")
	completeDirs(cmd, "pki")
	cmd.ValidArgsFunction = completeManifest(pki.KindClient, pki.KindServer, pki.KindCA)
	return cmd
}

func runPKIRevoke(a *app, dir string, names []string) error {
	set, err := pki.Load(dir)
	if err != nil {
		return configError(err)
	}
	if err := set.Revoke(names...); err != nil {
		// An unknown NAME or a self-signed root: the arguments.
		return usageErrorf("revoking in %s: %w", dir, err)
	}
	if err := set.Save(); err != nil {
		return fmt.Errorf("saving %s: %w", dir, err)
	}
	m := set.Manifest()
	crls := map[string]bool{}
	for _, n := range names {
		art, _ := m.Artefact(n)
		fmt.Fprintf(a.stdout, "revoked %s (serial %s) on the CRL of %s\n", n, art.Serial, art.Issuer)
		crls[art.Issuer] = true
	}
	for _, art := range m.Artefacts {
		if art.Kind == pki.KindCRL && crls[art.Issuer] {
			fmt.Fprintf(a.stdout, "  %s and %s: CRL number %d, %d revoked\n",
				filepath.Join(dir, art.Files.DER), filepath.Join(dir, art.Files.PEM), art.CRLNumber, len(art.Revoked))
		}
	}
	return nil
}
