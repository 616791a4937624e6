package verify_test

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/albmtls/albmtls/emulator/truststore"
	tt "github.com/albmtls/albmtls/emulator/truststore/truststoretest"
	"github.com/albmtls/albmtls/emulator/verify"
)

func pemBlock(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

func parse(t testing.TB, raw [][]byte) []*x509.Certificate {
	t.Helper()
	out := make([]*x509.Certificate, len(raw))
	for i, r := range raw {
		c, err := x509.ParseCertificate(r)
		require.NoError(t, err)
		out[i] = c
	}
	return out
}

// kit is root → intermediate → leaf, shared by the crafted cases.
type kit struct {
	root, inter, leaf *tt.Cert
}

var (
	kitOnce sync.Once
	theKit  *kit
)

func testKit(t testing.TB) *kit {
	t.Helper()
	kitOnce.Do(func() {
		root := tt.NewRoot(t, "Verify Root CA")
		inter := root.Intermediate(t, "Verify Intermediate CA")
		theKit = &kit{root: root, inter: inter, leaf: inter.Leaf(t, "client")}
	})
	return theKit
}

// storeSpec describes a trust store for a test: bundle certificates and
// DER CRLs, written to files and loaded as the emulator would.
type storeSpec struct {
	bundle []*tt.Cert
	crls   [][]byte
	limits truststore.Limits
}

func (s storeSpec) load(t testing.TB) *truststore.Store {
	t.Helper()
	dir := t.TempDir()
	spec := truststore.Spec{Name: "test", BundleFile: filepath.Join(dir, "bundle.pem"), Limits: s.limits}
	require.NoError(t, os.WriteFile(spec.BundleFile, tt.Bundle(s.bundle...), 0o644))
	for i, der := range s.crls {
		p := filepath.Join(dir, fmt.Sprintf("crl%d.pem", i))
		require.NoError(t, os.WriteFile(p, tt.CRLPEM(der), 0o644))
		spec.RevocationFiles = append(spec.RevocationFiles, p)
	}
	st, err := truststore.Load(spec)
	require.NoError(t, err)
	return st
}

// verifyWith runs both entry points and requires them to agree.
func verifyWith(t testing.TB, st *truststore.Store, opts verify.Options, chain [][]byte) verify.Result {
	t.Helper()
	v := verify.New(func() *truststore.Store { return st }, opts)
	r := v.Verify(tls.VersionTLS13, chain)
	if certs, err := parseAll(chain); err == nil {
		p := v.VerifyParsed(tls.VersionTLS13, certs)
		require.Equal(t, r.Code, p.Code, "Verify and VerifyParsed disagree: %q vs %q", r.Reason, p.Reason)
	}
	return r
}

func parseAll(raw [][]byte) ([]*x509.Certificate, error) {
	out := make([]*x509.Certificate, len(raw))
	for i, r := range raw {
		c, err := x509.ParseCertificate(r)
		if err != nil {
			return nil, err
		}
		out[i] = c
	}
	return out, nil
}
