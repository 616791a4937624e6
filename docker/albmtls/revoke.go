package albmtls

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/albmtls/albmtls/pki"
)

// ServerName is the TLS server name ClientTLSConfig verifies: one of the
// SANs of the PKI's server certificate (localhost, 127.0.0.1, ::1, alb), so
// the check holds whatever address the Docker host is reached at.
const ServerName = "localhost"

// ClientTLSConfig returns a TLS client configuration that presents the
// named client certificate of the PKI (valid, revoked, expired, … see
// docs/pki.md) with the chain that client sends, and trusts the PKI's root
// for the server certificate. Each call returns a new *tls.Config.
func (c *Container) ClientTLSConfig(name string) (*tls.Config, error) {
	leaf, ok := c.set.Client(name)
	if !ok {
		return nil, fmt.Errorf("albmtls: no client %q in the PKI; valid names are %s", name, strings.Join(c.set.ClientNames(), ", "))
	}
	cfg := c.serverTrust()
	cfg.Certificates = []tls.Certificate{leaf.TLSCertificate()}
	return cfg, nil
}

// serverTrust is a client TLS config that trusts the PKI's root, which
// issued the server certificate, and presents no certificate.
func (c *Container) serverTrust() *tls.Config {
	roots := x509.NewCertPool()
	roots.AddCert(c.set.Root.Cert)
	return &tls.Config{RootCAs: roots, ServerName: ServerName, MinVersion: tls.VersionTLS12}
}

// revocation is the part of the admin API's DescribeTrustStoreRevocation
// answer Revoke uses.
type revocation struct {
	RevocationID int64  `json:"RevocationId"`
	Issuer       string `json:"Issuer"`
	CRLNumber    string `json:"CrlNumber"`
}

// Revoke revokes the named certificate (a client, the server or a non-root
// CA of the PKI) as a CA operator would: it re-issues the issuing CA's CRL
// with the certificate listed and the next CRL number, and, as an ALB user
// would, adds the new CRL to the trust store (the admin API's
// AddTrustStoreRevocations) and removes the CRLs of that CA it supersedes.
// The emulator swaps its trust store before it answers, so when Revoke
// returns the next handshake with that certificate fails with
// Failed:ClientCertCrlHit (in verify mode). Connections already established
// are not affected, as on ALB.
func (c *Container) Revoke(ctx context.Context, name string) error {
	if c.layout.trustStore == "" {
		return errNoTrustStore
	}
	c.revokeMu.Lock()
	defer c.revokeMu.Unlock()

	before := map[string][]byte{}
	for _, ca := range c.set.CANames() {
		before[ca] = c.set.CRL(ca)
	}
	if err := c.set.Revoke(name); err != nil {
		return fmt.Errorf("albmtls: revoking %q: %w", name, err)
	}
	if err := c.set.Save(); err != nil {
		return fmt.Errorf("albmtls: revoking %q: %w", name, err)
	}
	for _, ca := range c.set.CANames() {
		crl := c.set.CRL(ca)
		if crl == nil || bytes.Equal(crl, before[ca]) {
			continue
		}
		if err := c.replaceCRL(ctx, ca, crl); err != nil {
			return fmt.Errorf("albmtls: revoking %q: %w", name, err)
		}
	}
	return nil
}

// replaceCRL uploads the CA's new CRL and removes older CRLs of the same
// issuer from the trust store.
func (c *Container) replaceCRL(ctx context.Context, ca string, der []byte) error {
	base := "/trust-stores/" + url.PathEscape(c.layout.trustStore) + "/revocations"
	body, err := c.admin(ctx, http.MethodPost, base+"?key="+url.QueryEscape("crl/"+ca+".crl.pem"), pki.EncodeCRLPEM(der))
	if err != nil {
		return fmt.Errorf("adding the new CRL of %s to trust store %q: %w", ca, c.layout.trustStore, err)
	}
	var added struct{ TrustStoreRevocations []revocation }
	if err := decodeJSON(body, &added); err != nil || len(added.TrustStoreRevocations) != 1 {
		return fmt.Errorf("adding the new CRL of %s: unexpected answer %s", ca, body)
	}
	fresh := added.TrustStoreRevocations[0]

	body, err = c.admin(ctx, http.MethodGet, base, nil)
	if err != nil {
		return fmt.Errorf("listing the CRLs of trust store %q: %w", c.layout.trustStore, err)
	}
	var all struct{ TrustStoreRevocations []revocation }
	if err := decodeJSON(body, &all); err != nil {
		return fmt.Errorf("listing the CRLs of trust store %q: unexpected answer %s", c.layout.trustStore, body)
	}
	var stale []string
	found := false
	for _, r := range all.TrustStoreRevocations {
		switch {
		case r.RevocationID == fresh.RevocationID:
			found = true
		case r.Issuer == fresh.Issuer && older(r.CRLNumber, fresh.CRLNumber):
			stale = append(stale, strconv.FormatInt(r.RevocationID, 10))
		}
	}
	if !found {
		return fmt.Errorf("the new CRL of %s (revocation ID %d) is not in trust store %q after adding it", ca, fresh.RevocationID, c.layout.trustStore)
	}
	if len(stale) > 0 {
		slices.Sort(stale)
		if _, err := c.admin(ctx, http.MethodDelete, base+"/"+strings.Join(stale, ","), nil); err != nil {
			return fmt.Errorf("removing the superseded CRLs %s of %s: %w", strings.Join(stale, ","), ca, err)
		}
	}
	return nil
}

// older reports whether CRL number a (hex) is lower than b; a CRL without
// a number is never called older, so it is kept.
func older(a, b string) bool {
	x, okA := new(big.Int).SetString(a, 16)
	y, okB := new(big.Int).SetString(b, 16)
	return okA && okB && x.Cmp(y) < 0
}

func decodeJSON(data []byte, v any) error { return json.Unmarshal(data, v) }
