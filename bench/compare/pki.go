package compare

import (
	"crypto/tls"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"time"

	"github.com/albmtls/albmtls/pki"
	"github.com/albmtls/albmtls/pki/crlgen"
)

// crlSize names a CRL variant of the comparison: how many entries the
// intermediate's CRL lists.
type crlSize int

// The two CRL variants. The big one lists 499,999 serials so that, with
// the root's one-entry CRL that every proxy also loads, the trust store
// holds exactly ALB's quota of 500,000 revocation entries.
const (
	crlSmall crlSize = 10
	crlLarge crlSize = 499_999
)

// material is the PKI every server of the comparison uses, on disk.
type material struct {
	dir         string
	bundle      string // ca/bundle.pem: intermediate + root
	serverChain string // server leaf + intermediate, sent by every server
	serverKey   string
	serverPEM   string // chain + key in one file, as HAProxy's crt wants
	rootCRL     string
	// interCRL and combinedCRL are, per variant, the intermediate's PEM CRL
	// alone (albmtls takes one file per CRL, as ALB does) and concatenated
	// with the root's (nginx and HAProxy take one file).
	interCRL, combinedCRL map[crlSize]string

	valid, revoked tls.Certificate
	serverLeaf     []byte
}

// writeMaterial generates one PKI (albmtls pki init's layout) under dir and
// the CRL variants. Every CRL also lists the serial of the PKI's revoked
// client, so that each server can be checked to refuse it.
func writeMaterial(dir string, now time.Time) (*material, error) {
	set, err := pki.Generate(pki.GenerateOptions{})
	if err != nil {
		return nil, fmt.Errorf("generating the PKI: %w", err)
	}
	pdir := filepath.Join(dir, "pki")
	if err := set.WriteDir(pdir, false); err != nil {
		return nil, fmt.Errorf("writing the PKI: %w", err)
	}
	valid, _ := set.Client("valid")
	revoked, _ := set.Client("revoked")
	m := &material{
		dir:         pdir,
		bundle:      filepath.Join(pdir, "ca/bundle.pem"),
		serverChain: filepath.Join(pdir, "server/server-chain.pem"),
		serverKey:   filepath.Join(pdir, "server/server-key.pem"),
		serverPEM:   filepath.Join(pdir, "server/server-chain-and-key.pem"),
		rootCRL:     filepath.Join(pdir, "crl/root.crl.pem"),
		interCRL:    map[crlSize]string{},
		combinedCRL: map[crlSize]string{},
		valid:       valid.TLSCertificate(),
		revoked:     revoked.TLSCertificate(),
		serverLeaf:  set.Server.Cert.Raw,
	}
	chain, err := os.ReadFile(m.serverChain)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(m.serverPEM, append(chain, set.Server.KeyPEM...), 0o600); err != nil {
		return nil, err
	}
	rootPEM, err := os.ReadFile(m.rootCRL)
	if err != nil {
		return nil, err
	}
	for _, size := range []crlSize{crlSmall, crlLarge} {
		der, err := crlgen.Build(set.Intermediate.Cert, set.Intermediate.Key, crlgen.Spec{
			Entries:    int(size) - 1,
			Seed:       uint64(size),
			Extra:      []*big.Int{revoked.Cert.SerialNumber},
			ThisUpdate: now.Add(-time.Hour),
			NextUpdate: now.Add(7 * 24 * time.Hour),
			Number:     big.NewInt(int64(size)),
		})
		if err != nil {
			return nil, fmt.Errorf("building the %d-entry CRL: %w", size, err)
		}
		p := pki.EncodeCRLPEM(der)
		m.interCRL[size] = filepath.Join(pdir, fmt.Sprintf("crl/intermediate-%d.crl.pem", size))
		m.combinedCRL[size] = filepath.Join(pdir, fmt.Sprintf("crl/intermediate-%d-and-root.crl.pem", size))
		if err := os.WriteFile(m.interCRL[size], p, 0o644); err != nil {
			return nil, err
		}
		if err := os.WriteFile(m.combinedCRL[size], append(p, rootPEM...), 0o644); err != nil {
			return nil, err
		}
	}
	return m, nil
}
