package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/albmtls/albmtls/backend"
	"github.com/albmtls/albmtls/internal/boundedio"
)

// backendConfig holds the flags of `backend`.
type backendConfig struct {
	name      string
	listen    string
	ca        string
	crls      []string
	requireO  string
	requireOU string
	prefix    string
	// headerNames are --header-name KEY=NAME values, in order.
	headerNames []string
}

func newBackendCmd(a *app) *cobra.Command {
	var c backendConfig
	cmd := &cobra.Command{
		Use:   "backend --name web-1 --listen 127.0.0.1:9001",
		Short: "Run a sample target that shows what the load balancer forwards",
		Long: `backend runs a sample target for the emulated (or a real) ALB. Every path but
/healthz answers a page with the instance name in large type, every X-Amzn-*
and X-Forwarded-* header received and the decoded client certificate; JSON
with "Accept: application/json" or ?format=json.

Behind a verify-mode listener it reads the X-Amzn-Mtls-Clientcert-* headers.
Behind a passthrough listener the ALB checks nothing, so with --ca (and --crl)
the backend verifies the forwarded chain itself and answers 403 when it fails.
--require-subject-o and --require-subject-ou make it the application-side
authorization that a public-CA certificate needs: 403 with the reason unless
the subject's O and OU match the organisation's base DN. Malformed mTLS
headers get 400 with the reason.

A listener whose routing.http.request.*.header_name attributes rename the
mTLS headers needs the same renames here: --header-name subject=X-Client-Subject
(short names clientcert, serial-number, issuer, subject, validity, leaf, or
the listener attribute key itself).`,
		Example: `  albmtls backend --name web-1 --listen 127.0.0.1:9001
  albmtls backend --name web-2 --listen 127.0.0.1:9002 --ca pki/ca/bundle.pem \
      --crl pki/crl/intermediate.crl.pem --require-subject-o "Example Corp" --require-subject-ou Engineering
  albmtls backend --name web-1 --listen 127.0.0.1:9001 --header-name subject=X-Client-Subject`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return runBackend(ctx, a, c)
		},
	}
	f := cmd.Flags()
	f.StringVar(&c.name, "name", "web-1", "instance `NAME` the page shows")
	f.StringVar(&c.listen, "listen", "127.0.0.1:9001", "`ADDR` to serve HTTP on (0.0.0.0:9001 in a container)")
	f.StringVar(&c.ca, "ca", "", "PEM CA bundle `FILE` to verify passthrough-mode client chains against")
	f.StringArrayVar(&c.crls, "crl", nil, "CRL `FILE` (PEM or DER) of a CA of --ca, checked in passthrough mode (repeatable)")
	f.StringVar(&c.requireO, "require-subject-o", "", "authorize only client certificates whose subject has this `O`")
	f.StringVar(&c.requireOU, "require-subject-ou", "", "authorize only client certificates whose subject has this `OU`")
	f.StringVar(&c.prefix, "require-path-prefix", "", "apply --require-subject-o/-ou only to paths under this `PREFIX`, e.g. /members/ (default: every path)")
	f.StringArrayVar(&c.headerNames, "header-name", nil, "`KEY=NAME`: the listener renames an mTLS header (KEY subject, issuer, serial-number, validity, leaf, clientcert, or the attribute key routing.http.request.x_amzn_mtls_clientcert_subject.header_name); repeatable")
	completeFiles(cmd, "ca", extPEM...)
	completeFiles(cmd, "crl", extCRL...)
	// KEY= and no space: the user types the NAME next.
	_ = cmd.RegisterFlagCompletionFunc("header-name", cobra.FixedCompletions(
		[]string{"clientcert=", "serial-number=", "issuer=", "subject=", "validity=", "leaf="},
		cobra.ShellCompDirectiveNoFileComp|cobra.ShellCompDirectiveNoSpace))
	return cmd
}

// backendFromFlags builds the backend the flags describe.
func backendFromFlags(a *app, c backendConfig) (*backend.Backend, error) {
	cfg := backend.Config{Name: c.name, RequireO: c.requireO, RequireOU: c.requireOU, RequirePathPrefix: c.prefix, Logger: a.logger()}
	attrs := map[string]string{}
	for _, hn := range c.headerNames {
		key, name, ok := strings.Cut(hn, "=")
		if !ok || key == "" || name == "" {
			return nil, usageErrorf("--header-name %q: want KEY=NAME, e.g. subject=X-Client-Subject", hn)
		}
		if _, dup := attrs[key]; dup {
			return nil, usageErrorf("--header-name %q: %s is renamed twice", hn, key)
		}
		attrs[key] = name
	}
	names, err := backend.NamesFromAttributes(attrs)
	if err != nil {
		return nil, usageErrorf("--header-name: %w", err)
	}
	cfg.Names = names
	if c.ca == "" && len(c.crls) > 0 {
		return nil, usageError(errors.New("--crl needs --ca: a CRL is checked against the CA bundle that verifies the chain"))
	}
	if c.ca != "" {
		bundle, err := boundedio.ReadFile(c.ca, "CA certificates bundle", boundedio.MaxBundleFile)
		if err != nil {
			return nil, configError(fmt.Errorf("--ca: %w", err))
		}
		crls := make([][]byte, len(c.crls))
		for i, file := range c.crls {
			if crls[i], err = boundedio.ReadFile(file, "revocation file", boundedio.MaxRevocationFile); err != nil {
				return nil, configError(fmt.Errorf("--crl: %w", err))
			}
		}
		if cfg.Trust, err = backend.LoadTrust(bundle, crls...); err != nil {
			return nil, configError(fmt.Errorf("--ca %s / --crl: %w", c.ca, err))
		}
	}
	b, err := backend.New(cfg)
	if err != nil {
		return nil, usageError(err) // the flags' values: an empty --name, a bad header name
	}
	return b, nil
}

func runBackend(ctx context.Context, a *app, c backendConfig) error {
	b, err := backendFromFlags(a, c)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", c.listen)
	if err != nil {
		return fmt.Errorf("--listen %s: %v (is another process using it? choose another address)", c.listen, errors.Unwrap(err))
	}
	fmt.Fprintf(a.stdout, "backend %s serving http://%s\n", c.name, ln.Addr())
	return b.Serve(ctx, ln)
}
