package pkitest_test

import (
	"crypto/tls"
	"crypto/x509"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/albmtls/albmtls/pki"
	"github.com/albmtls/albmtls/pki/pkitest"
)

func TestStandardIsCachedAndCloned(t *testing.T) {
	a := pkitest.Standard(t)
	b := pkitest.Standard(t)
	require.Same(t, a.Root, b.Root, "the set is generated once per process")
	require.NoError(t, a.Revoke("valid"))
	m := b.Manifest()
	valid, ok := m.Artefact("valid")
	require.True(t, ok)
	assert.Equal(t, "Success", valid.Expect.Verify, "revoking in one clone must not change another")
	av, _ := a.Manifest().Artefact("valid")
	assert.Equal(t, "Failed:ClientCertCrlHit", av.Expect.Verify)
}

func TestDirWritesALoadableLayout(t *testing.T) {
	dir := pkitest.Dir(t)
	_, err := os.Stat(filepath.Join(dir, "manifest.json"))
	require.NoError(t, err)
	s, err := pki.Load(dir)
	require.NoError(t, err)
	assert.Equal(t, pkitest.Standard(t).ClientNames(), s.ClientNames())
}

func TestNewCAOptions(t *testing.T) {
	at := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	ca := pkitest.NewCA(t,
		pkitest.WithCommonName("Test CA"),
		pkitest.WithClock(func() time.Time { return at }),
		pkitest.WithLifetime(48*time.Hour))
	assert.Equal(t, "Test CA", ca.Cert.Subject.CommonName)
	assert.Equal(t, at.Add(-5*time.Minute), ca.Cert.NotBefore)
	assert.Equal(t, at.Add(-5*time.Minute+48*time.Hour), ca.Cert.NotAfter)
	assert.True(t, ca.Cert.IsCA)

	ca2 := pkitest.NewCA(t, pkitest.WithName(pki.Name{CommonName: "Named", Organization: "Org"}), pkitest.WithKeyType(pki.ECDSAP384))
	assert.Equal(t, []string{"Org"}, ca2.Cert.Subject.Organization)
	assert.Equal(t, pki.ECDSAP384, pki.KeyTypeOf(ca2.Cert.PublicKey))
}

// TestHelpersMakeAWorkingMTLSPair proves the helpers' output is usable as
// is: a real TLS handshake on 127.0.0.1 with client authentication.
func TestHelpersMakeAWorkingMTLSPair(t *testing.T) {
	root := pkitest.NewCA(t)
	inter := pkitest.Intermediate(t, root)
	server := pkitest.Server(t, inter)
	client := pkitest.Client(t, inter, "alice")
	pool := x509.NewCertPool()
	pool.AddCert(root.Cert)

	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{
		Certificates: []tls.Certificate{server.TLSCertificate()},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    pool,
	})
	require.NoError(t, err)
	defer ln.Close()
	got := make(chan string, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			got <- err.Error()
			return
		}
		defer c.Close()
		tc := c.(*tls.Conn)
		if err := tc.Handshake(); err != nil {
			got <- err.Error()
			return
		}
		got <- tc.ConnectionState().PeerCertificates[0].Subject.CommonName
	}()
	conn, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{
		RootCAs:      pool,
		ServerName:   "localhost",
		Certificates: []tls.Certificate{client.TLSCertificate()},
	})
	require.NoError(t, err)
	require.NoError(t, conn.Handshake())
	conn.Close()
	assert.Equal(t, "alice", <-got)
}

func TestCRLHelper(t *testing.T) {
	ca := pkitest.NewCA(t)
	leaf := pkitest.Client(t, ca, "bob")
	crl, err := x509.ParseRevocationList(pkitest.CRL(t, ca, leaf))
	require.NoError(t, err)
	require.NoError(t, crl.CheckSignatureFrom(ca.Cert))
	require.Len(t, crl.RevokedCertificateEntries, 1)
	assert.Equal(t, leaf.Cert.SerialNumber, crl.RevokedCertificateEntries[0].SerialNumber)
}

func BenchmarkStandard(b *testing.B) {
	for b.Loop() {
		_ = pkitest.Standard(b)
	}
}
