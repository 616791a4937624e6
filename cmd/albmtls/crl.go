package main

import (
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/albmtls/albmtls/internal/boundedio"
	"github.com/albmtls/albmtls/pki"
)

func newCRLCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "crl",
		Short: "Work with certificate revocation lists",
	}
	cmd.AddCommand(newCRLConvertCmd(a))
	return cmd
}

// crlConvertConfig holds the arguments of `crl convert`.
type crlConvertConfig struct {
	in, out string
	to      string
}

func newCRLConvertCmd(a *app) *cobra.Command {
	var c crlConvertConfig
	cmd := &cobra.Command{
		Use:   "convert IN OUT",
		Short: "Convert a CRL between DER and PEM, detecting the input's encoding",
		Long: `convert reads a CRL in DER (as CAs publish it) or PEM (as ALB requires) and
writes it in the other encoding: the one-step answer to
  openssl crl -inform der -in IN -outform pem -out OUT
IN or OUT may be "-" for standard input or output. The input must be a
well-formed CRL; OUT is written through a temporary file, so a failed run
leaves no partial output.`,
		Example: `  albmtls crl convert ca.crl ca.crl.pem
  curl -s http://ca.example/ca.crl | albmtls crl convert - ca.crl.pem`,
		Args:              cobra.ExactArgs(2),
		ValidArgsFunction: fileArgs(extCRL...),
		RunE: func(cmd *cobra.Command, args []string) error {
			c.in, c.out = args[0], args[1]
			return runCRLConvert(a, os.Stdin, c)
		},
	}
	cmd.Flags().StringVar(&c.to, "to", "", "output `ENCODING`, pem or der (default: the other one)")
	completeValues(cmd, "to", string(pki.FormatPEM), string(pki.FormatDER))
	return cmd
}

// runCRLConvert converts; an input that cannot be read or is no CRL is an
// input error (status 2), a failed write a failure (status 1).
func runCRLConvert(a *app, stdin io.Reader, c crlConvertConfig) error {
	to := pki.Format(c.to)
	switch to {
	case "", pki.FormatDER, pki.FormatPEM:
	default:
		return usageErrorf("--to %q: valid values are pem and der", c.to)
	}
	var (
		data []byte
		err  error
	)
	if c.in == "-" {
		if data, err = io.ReadAll(io.LimitReader(stdin, boundedio.MaxRevocationFile+1)); err == nil && len(data) > boundedio.MaxRevocationFile {
			err = fmt.Errorf("standard input yields more than the revocation file limit of %d bytes", boundedio.MaxRevocationFile)
		}
	} else {
		data, err = boundedio.ReadFile(c.in, "revocation file", boundedio.MaxRevocationFile)
	}
	if err != nil {
		return configError(fmt.Errorf("reading the CRL: %w", err))
	}
	inName := c.in
	if inName == "-" {
		inName = "standard input"
	}
	crl, from, err := pki.ParseCRL(data)
	if err != nil {
		return configError(fmt.Errorf("%s: %w", inName, err))
	}
	if to == "" {
		to = pki.FormatPEM
		if from == pki.FormatPEM {
			to = pki.FormatDER
		}
	}
	out := crl.Raw
	if to == pki.FormatPEM {
		out = pki.EncodeCRLPEM(crl.Raw)
	}
	if c.out == "-" {
		_, err := a.stdout.Write(out)
		return err
	}
	if err := pki.WriteFileAtomic(c.out, out, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "%s (%s) -> %s (%s), CRL number %v, %d revoked\n",
		inName, from, c.out, to, crl.Number, len(crl.RevokedCertificateEntries))
	return nil
}
