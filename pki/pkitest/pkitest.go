// Package pkitest gives tests a throw-away PKI without touching disk: the
// standard set of package pki, generated once per test process, and small
// fast ECDSA CAs built with functional options.
package pkitest

import (
	"crypto/x509"
	"net"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/albmtls/albmtls/pki"
)

var (
	standardOnce sync.Once
	standardSet  *pki.Set
	standardErr  error
)

// Standard returns the full standard set (root, intermediate, server, every
// client of the brief's table, both CRLs). It is generated once per test
// process, because RSA keys are slow, and each call returns a clone, so a
// test may Issue or Revoke on it without affecting others. It works in
// benchmarks too.
func Standard(tb testing.TB) *pki.Set {
	tb.Helper()
	standardOnce.Do(func() {
		standardSet, standardErr = pki.Generate(pki.GenerateOptions{})
	})
	if standardErr != nil {
		tb.Fatalf("pkitest: generating the standard PKI: %v", standardErr)
	}
	return standardSet.Clone()
}

// Dir writes the standard set into a fresh directory under tb.TempDir() and
// returns its path, for code that reads a PKI directory (pki.Load, the
// emulator's config, the CLI).
func Dir(tb testing.TB) string {
	tb.Helper()
	dir := filepath.Join(tb.TempDir(), "pki")
	if err := Standard(tb).WriteDir(dir, false); err != nil {
		tb.Fatalf("pkitest: writing the standard PKI: %v", err)
	}
	return dir
}

// Option changes a CA made by NewCA or Intermediate.
type Option func(*pki.CARequest)

// WithName sets the CA's subject.
func WithName(n pki.Name) Option { return func(r *pki.CARequest) { r.Subject = n } }

// WithCommonName sets the CA's common name.
func WithCommonName(cn string) Option {
	return func(r *pki.CARequest) { r.Subject.CommonName = cn }
}

// WithLifetime sets how long the CA is valid from its notBefore.
func WithLifetime(d time.Duration) Option { return func(r *pki.CARequest) { r.Lifetime = d } }

// WithClock makes the CA's validity start from clock() instead of the wall
// clock.
func WithClock(clock func() time.Time) Option { return func(r *pki.CARequest) { r.Clock = clock } }

// WithKeyType sets the CA's key type (default ECDSA P-256, the fastest).
func WithKeyType(kt pki.KeyType) Option { return func(r *pki.CARequest) { r.KeyType = kt } }

// WithRequest edits the CA request directly, for anything the other
// options do not cover (path length, key usage, extensions).
func WithRequest(f func(*pki.CARequest)) Option { return Option(f) }

// NewCA makes a self-signed ECDSA root CA in well under a millisecond of
// key generation.
func NewCA(tb testing.TB, opts ...Option) *pki.CA {
	tb.Helper()
	req := pki.CARequest{Subject: pki.Name{CommonName: "pkitest Root CA"}}
	for _, o := range opts {
		o(&req)
	}
	ca, err := pki.NewRootCA(req)
	if err != nil {
		tb.Fatalf("pkitest: creating root CA: %v", err)
	}
	return ca
}

// Intermediate makes a CA certified by parent.
func Intermediate(tb testing.TB, parent *pki.CA, opts ...Option) *pki.CA {
	tb.Helper()
	req := pki.CARequest{Subject: pki.Name{CommonName: "pkitest Intermediate CA"}}
	for _, o := range opts {
		o(&req)
	}
	ca, err := parent.NewIntermediate(req)
	if err != nil {
		tb.Fatalf("pkitest: creating intermediate CA: %v", err)
	}
	return ca
}

// Issue signs a leaf from ca with the full request.
func Issue(tb testing.TB, ca *pki.CA, req pki.LeafRequest) *pki.Leaf {
	tb.Helper()
	leaf, err := ca.Issue(req)
	if err != nil {
		tb.Fatalf("pkitest: issuing %q: %v", req.Subject.CommonName, err)
	}
	return leaf
}

// Client issues an ECDSA client certificate (clientAuth) with the given
// common name: the one-line happy path.
func Client(tb testing.TB, ca *pki.CA, commonName string) *pki.Leaf {
	tb.Helper()
	return Issue(tb, ca, pki.LeafRequest{Subject: pki.Name{CommonName: commonName}})
}

// Server issues an ECDSA server certificate (serverAuth) for the given
// host names and IP addresses; with none, for localhost and 127.0.0.1.
func Server(tb testing.TB, ca *pki.CA, hosts ...string) *pki.Leaf {
	tb.Helper()
	if len(hosts) == 0 {
		hosts = []string{"localhost", "127.0.0.1"}
	}
	var sans pki.SANs
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			sans.IPAddresses = append(sans.IPAddresses, ip)
		} else {
			sans.DNSNames = append(sans.DNSNames, h)
		}
	}
	return Issue(tb, ca, pki.LeafRequest{
		Subject:     pki.Name{CommonName: hosts[0]},
		SANs:        sans,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	})
}

// CRL issues a DER CRL from ca revoking the given leaves, with CRL number 1.
func CRL(tb testing.TB, ca *pki.CA, revoked ...*pki.Leaf) []byte {
	tb.Helper()
	var entries []pki.Revocation
	for _, l := range revoked {
		entries = append(entries, pki.Revocation{Serial: l.Cert.SerialNumber})
	}
	der, err := ca.CRL(pki.CRLRequest{Revoked: entries})
	if err != nil {
		tb.Fatalf("pkitest: issuing CRL: %v", err)
	}
	return der
}
