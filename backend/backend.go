// Package backend is the sample target that sits behind the emulated ALB (and
// behind a real one): a web page that shows what a target receives from an
// ALB with mutual TLS, and the application-side checks a target must make.
//
// It answers every path except /healthz with a report of the request, as
// HTML by default (the instance name in large type, so that round robin
// between web-1 and web-2 is obvious), or as JSON with
// "Accept: application/json" or "?format=json":
//
//   - every X-Amzn-* and X-Forwarded-* header received;
//   - the client certificate decoded: subject, issuer, serial, validity,
//     subject alternative names, SHA-256 fingerprint.
//
// Behind a verify-mode listener it reads the five detail headers and trusts
// the ALB's verification. Behind a passthrough listener nothing was checked
// (alb-behaviour §2.2: "Targets should verify the client certificate chain"), so it
// verifies the forwarded chain itself against Config.Roots and Config.CRLs.
// With Config.RequireO / RequireOU it also does what a certificate from a
// public CA needs: the CA issues certificates to others too, so the subject's
// O and OU must match the organisation's own base DN, or the answer is 403
// with the reason. Malformed mTLS headers get 400 with the reason, never 500.
package backend

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/albmtls/albmtls/emulator/albheader"
)

// Config is one backend instance.
type Config struct {
	// Name is the instance name shown in large type (web-1, web-2).
	Name string
	// RequireO and RequireOU, when set, are the organisation's base DN: a
	// request is authorized only if the client certificate's subject has
	// an O equal to RequireO and an OU equal to RequireOU.
	RequireO, RequireOU string
	// RequirePathPrefix limits RequireO and RequireOU to request paths
	// under it ("" means every path): the demo protects /members/ and
	// leaves / open to every authenticated client.
	RequirePathPrefix string
	// Trust verifies the chains of passthrough mode; nil leaves them
	// unverified (shown as such, and never authorized). See LoadTrust.
	Trust *Trust
	// Now is the clock for chain verification (default time.Now).
	Now func() time.Time
	// Logger receives one debug line per request (nil discards).
	Logger *slog.Logger
	// Names are the mTLS header names the listener sends: a listener's
	// routing.http.request.*.header_name attributes rename them
	// (alb-behaviour §4.3), and a target that looks for the default names
	// would find no certificate. Empty fields keep the default names; the
	// TLS version and cipher names are not read. See NamesFromAttributes.
	Names albheader.Names
}

// names are the header names in use (Config.Names with defaults filled).
type names albheader.Names

// Backend is an http.Handler serving the report page and /healthz.
type Backend struct {
	cfg   Config
	names names
}

// New returns a backend for cfg.
func New(cfg Config) (*Backend, error) {
	if cfg.Name == "" {
		return nil, errors.New("backend: a name is required (it is what the page shows, e.g. web-1)")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	n, d := cfg.Names, albheader.DefaultNames()
	for _, f := range []struct {
		v   *string
		def string
	}{
		{&n.ClientCert, d.ClientCert}, {&n.ClientCertSerialNumber, d.ClientCertSerialNumber},
		{&n.ClientCertIssuer, d.ClientCertIssuer}, {&n.ClientCertSubject, d.ClientCertSubject},
		{&n.ClientCertValidity, d.ClientCertValidity}, {&n.ClientCertLeaf, d.ClientCertLeaf},
	} {
		if *f.v == "" {
			*f.v = f.def
		}
	}
	return &Backend{cfg: cfg, names: names(n)}, nil
}

// Name is the instance name.
func (b *Backend) Name() string { return b.cfg.Name }

// HealthPath answers 200 "ok": the path the load balancer's health check
// requests.
const HealthPath = "/healthz"

// ServeHTTP answers /healthz, or the report of the request.
func (b *Backend) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == HealthPath {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
		return
	}
	rep := b.Inspect(r)
	b.cfg.Logger.Debug("request", "instance", b.cfg.Name, "path", r.URL.Path, "mode", rep.Mode,
		"status", rep.Status, "error", rep.Error)
	w.Header().Set("Cache-Control", "no-store")
	if wantsJSON(r) {
		writeJSON(w, rep)
		return
	}
	writeHTML(w, rep)
}

// Serve serves HTTP on ln until ctx ends, then shuts down gracefully.
func (b *Backend) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{Handler: b, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return fmt.Errorf("backend %s: %w", b.cfg.Name, err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("backend %s: shutting down: %w", b.cfg.Name, err)
	}
	<-done
	return nil
}

// authorize applies the O/OU rule to a certificate that has already been
// authenticated. It returns "" when allowed, or why not.
func (b *Backend) authorize(c *x509.Certificate) string {
	okO := b.cfg.RequireO == "" || slices.Contains(c.Subject.Organization, b.cfg.RequireO)
	okOU := b.cfg.RequireOU == "" || slices.Contains(c.Subject.OrganizationalUnit, b.cfg.RequireOU)
	if okO && okOU {
		return ""
	}
	return fmt.Sprintf("the subject has O %s and OU %s, not the organisation's base DN (%s)",
		quoteList(c.Subject.Organization), quoteList(c.Subject.OrganizationalUnit), b.baseDN())
}

// quoteList writes ["a", "b"] as "a", "b", and nothing as (none).
func quoteList(vs []string) string {
	if len(vs) == 0 {
		return "(none)"
	}
	q := make([]string, len(vs))
	for i, v := range vs {
		q[i] = strconv.Quote(v)
	}
	return strings.Join(q, ", ")
}
