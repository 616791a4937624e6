package listener_test

import (
	"crypto/tls"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/albmtls/albmtls/emulator/listener"
	"github.com/albmtls/albmtls/emulator/sslpolicy"
	"github.com/albmtls/albmtls/emulator/truststore"
	"github.com/albmtls/albmtls/emulator/verify"
	"github.com/albmtls/albmtls/pki"
	"github.com/albmtls/albmtls/pki/pkitest"
)

// TestCachedChainRevokedAtRuntime: over real TLS, the "valid" client's
// chain is decided once and then served from the verifier's signature
// cache; a CRL added with truststore.Live.AddRevocations refuses the very
// next handshake with ClientCertCrlHit, and removing it (another new
// snapshot) lets the client in again, after a fresh signature check.
func TestCachedChainRevokedAtRuntime(t *testing.T) {
	dir := pkitest.Dir(t)
	set, err := pki.Load(dir)
	require.NoError(t, err)
	live, err := truststore.NewLive(truststore.Spec{Name: "ts", BundleFile: filepath.Join(dir, "ca", "bundle.pem")})
	require.NoError(t, err)
	v := verify.New(live.Current, verify.Options{})
	p, err := sslpolicy.Lookup("ELBSecurityPolicy-TLS13-1-2-2021-06")
	require.NoError(t, err)
	cfg := &tls.Config{Certificates: []tls.Certificate{set.Server.TLSCertificate()}}
	p.Apply(cfg)
	conns := make(chan *listener.Conn, 4)
	l, err := listener.Listen("127.0.0.1:0", listener.Config{
		Protocol:         "HTTPS",
		TLS:              &listener.TLSSettings{Config: cfg, Mode: listener.ModeVerify, Verifier: v},
		RejectWith:       listener.RejectAlert,
		HandshakeTimeout: 20 * time.Second,
		OnConnection:     func(c *listener.Conn) { conns <- c },
	})
	require.NoError(t, err)
	t.Cleanup(func() { _ = l.Close(); l.Wait() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	addr := l.Addr().String()

	for i := range 3 {
		tr := dial(t, addr, set, tls.VersionTLS13, nil)
		require.NoError(t, tr.err)
		assert.Equal(t, verify.Success, connRecord(t, conns).Status, "handshake %d", i+1)
	}
	require.Equal(t, verify.CacheStats{Hits: 2, Misses: 1, Entries: 1}, v.CacheStats())

	revoked := set.Clone()
	require.NoError(t, revoked.Revoke("valid"))
	added, err := live.AddRevocations("valid.crl.pem", pki.EncodeCRLPEM(revoked.CRL("intermediate")))
	require.NoError(t, err)
	_ = dial(t, addr, set, tls.VersionTLS13, nil)
	c := connRecord(t, conns)
	assert.Equal(t, verify.ClientCertCrlHit, c.Status, "%v", c.Err)
	assert.True(t, c.CertificateRejected)

	require.NoError(t, live.RemoveRevocations(added[0].RevocationID)) // a new snapshot, without the CRL
	tr := dial(t, addr, set, tls.VersionTLS13, nil)
	require.NoError(t, tr.err)
	assert.Equal(t, verify.Success, connRecord(t, conns).Status)
	assert.Equal(t, verify.CacheStats{Hits: 2, Misses: 2, Entries: 1}, v.CacheStats(),
		"the snapshot after the removal is a new generation: its first decision checks the signatures again")
}
