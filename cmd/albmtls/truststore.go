package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/albmtls/albmtls/emulator/alb"
	"github.com/albmtls/albmtls/emulator/truststore"
)

// newTrustStoreCmd groups the trust store commands.
func newTrustStoreCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "truststore",
		Short: "Check ALB trust store files (CA bundle and CRLs)",
	}
	cmd.AddCommand(newTrustStoreCheckCmd(a))
	return cmd
}

// trustStoreCheckConfig is what `truststore check` was asked to do.
type trustStoreCheckConfig struct {
	bundle string
	crls   []string
	json   bool
	strict bool
	limits truststore.Limits
}

func newTrustStoreCheckCmd(a *app) *cobra.Command {
	var cfg trustStoreCheckConfig
	cmd := &cobra.Command{
		Use:   "check BUNDLE [--crl FILE]...",
		Short: "Lint a CA bundle and CRLs against ALB's trust store rules and quotas",
		Long: `Check a CA certificates bundle and certificate revocation lists the way an
Application Load Balancer checks them on CreateTrustStore and
AddTrustStoreRevocations: PEM only, no blank lines, '#' comments without '-',
no text outside PEM blocks, X.509v3 CAs with supported keys, at most 25 CAs of
at most 16 KB each; PEM CRLs issued and signed by a CA of the bundle, at most
50 MB per file, 30 files and 500,000 entries in all.

Each finding is printed as FILE:LINE: ALBError: problem; fix, followed by a
one-line verdict. The exit status is 1 when ALB would refuse the upload (or,
with --strict, when there is any warning) and 0 otherwise; 2 when BUNDLE or
a --crl file does not exist. The same code loads trust stores in the
emulator, so what passes here loads there.`,
		Example: `  albmtls truststore check pki/ca/bundle.pem --crl pki/crl/intermediate.crl.pem
  albmtls truststore check bundle.pem --crl ca.crl.pem --json
  albmtls truststore check bundle.pem --strict    # in CI: warnings fail too`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: fileArgs(extPEM...),
		RunE: func(_ *cobra.Command, args []string) error {
			cfg.bundle = args[0]
			return runTrustStoreCheck(a, cfg)
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&cfg.crls, "crl", nil, "a PEM CRL `FILE` to add to the trust store (repeatable)")
	f.BoolVar(&cfg.json, "json", false, "print the report as JSON")
	f.BoolVar(&cfg.strict, "strict", false, "fail (exit status 1) on warnings too, not only on what ALB would refuse")
	f.IntVar(&cfg.limits.MaxCACertificates, "max-ca-certificates", 25, "`N` CA certificates per trust store (adjustable quota L-43FE5A42)")
	f.IntVar(&cfg.limits.MaxRevocationEntries, "max-revocation-entries", alb.DefaultMaxRevocationEntries, "`N` revocation entries per trust store (adjustable quota L-37E1617B)")
	f.IntVar(&cfg.limits.MaxRevocationLists, "max-revocation-lists", 30, "`N` revocation lists per trust store (adjustable quota L-332EE142)")
	completeFiles(cmd, "crl", extCRL...)
	return cmd
}

// runTrustStoreCheck prints the report and fails with status 1 when ALB
// would refuse the files, or with --strict when there is any finding.
// A file that cannot be opened at all is an input error (status 2): there
// is nothing to check.
func runTrustStoreCheck(a *app, cfg trustStoreCheckConfig) error {
	for _, f := range append([]string{cfg.bundle}, cfg.crls...) {
		if _, err := os.Stat(f); err != nil {
			return configError(fmt.Errorf("truststore check: %w", err))
		}
	}
	r := truststore.Check(truststore.Spec{BundleFile: cfg.bundle, RevocationFiles: cfg.crls, Limits: cfg.limits})
	write := r.WriteText
	if cfg.json {
		write = r.WriteJSON
	}
	if err := write(a.stdout); err != nil {
		return err
	}
	if !r.Accepted() {
		return silentExit(exitFailed)
	}
	if _, warnings := r.Counts(); cfg.strict && warnings > 0 {
		fmt.Fprintf(a.stderr, "albmtls: --strict: %d warning(s) fail the check\n", warnings)
		return silentExit(exitFailed)
	}
	return nil
}
