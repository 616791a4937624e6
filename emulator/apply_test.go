package emulator_test

import (
	"crypto/tls"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/albmtls/albmtls/emulator"
	"github.com/albmtls/albmtls/emulator/config"
)

// reconfigure loads l's config with one text replacement, as the AWS API
// compiles a changed model.
func reconfigure(t *testing.T, l *lb, old, new string) *config.Config {
	t.Helper()
	file := filepath.Join(l.dir, "albmtls.yaml")
	text, err := os.ReadFile(file)
	require.NoError(t, err)
	require.Contains(t, string(text), old)
	next := filepath.Join(l.dir, "next.yaml")
	require.NoError(t, os.WriteFile(next, []byte(strings.Replace(string(text), old, new, 1)), 0o644))
	cfg, err := config.Load(next)
	require.NoError(t, err)
	return cfg
}

// TestApplyTrustStoreKeepsConnections: a trust store change applied to a
// running server (the AWS API's AddTrustStoreRevocations) takes effect on
// the next handshake, and a connection made before it keeps being served.
func TestApplyTrustStoreKeepsConnections(t *testing.T) {
	l := startLB(t, params{})
	kept := &http.Client{Transport: &http.Transport{TLSClientConfig: l.tlsConfig("member", tls.VersionTLS13)}}
	defer kept.CloseIdleConnections()
	get := func() (int, error) {
		resp, err := kept.Get("https://" + l.httpsAddr() + "/")
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		_, _ = io.Copy(io.Discard, resp.Body)
		return resp.StatusCode, nil
	}
	code, err := get()
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, code)
	before := l.connCount()

	require.NoError(t, os.WriteFile(filepath.Join(l.dir, "crl", "member.crl.pem"), revokeCRL(t, l, "member"), 0o644))
	require.NoError(t, l.srv.Apply(reconfigure(t, l, "crl/intermediate.crl.pem", "crl/member.crl.pem")))

	code, err = get()
	require.NoError(t, err, "the connection made before the change is still served")
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, before, l.connCount(), "no new connection was needed")

	n := l.connCount()
	assert.Error(t, l.get("member", tls.VersionTLS13, "/", nil).err)
	assert.Equal(t, "Failed:ClientCertCrlHit", l.lastConn(n).Entry.VerifyStatus)
	n = l.connCount()
	assert.NoError(t, l.get("valid", tls.VersionTLS13, "/", nil).err)
	assert.Equal(t, "Success", l.lastConn(n).Entry.VerifyStatus)
}

// TestApplyRefusedChangeKeepsServing: a CRL ALB would refuse fails Apply
// with the trust store's error and the previous trust store keeps serving.
func TestApplyRefusedChangeKeepsServing(t *testing.T) {
	l := startLB(t, params{})
	require.NoError(t, os.WriteFile(filepath.Join(l.dir, "crl", "bad.crl.pem"), []byte("-----BEGIN X509 CRL-----\nnot base64\n-----END X509 CRL-----\n"), 0o644))
	err := l.srv.Apply(reconfigure(t, l, "crl/intermediate.crl.pem", "crl/bad.crl.pem"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "trust_stores[0]")
	assert.Contains(t, err.Error(), "InvalidRevocationContent")
	n := l.connCount()
	assert.Error(t, l.get("revoked", tls.VersionTLS13, "/", nil).err)
	assert.Equal(t, "Failed:ClientCertCrlHit", l.lastConn(n).Entry.VerifyStatus, "the old CRLs still apply")
}

// TestApplyOtherChangesNeedRestart: Apply changes trust stores only; a
// listener change is reported with ErrRestartRequired and nothing changes.
func TestApplyOtherChangesNeedRestart(t *testing.T) {
	l := startLB(t, params{})
	err := l.srv.Apply(reconfigure(t, l, "mode: verify, trust_store: ts", "mode: passthrough"))
	require.ErrorIs(t, err, emulator.ErrRestartRequired)
	n := l.connCount()
	assert.Error(t, l.get("revoked", tls.VersionTLS13, "/", nil).err)
	assert.Equal(t, "Failed:ClientCertCrlHit", l.lastConn(n).Entry.VerifyStatus)
}
