package emulator_test

import (
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/albmtls/albmtls/pki"
)

// revokeCRL revokes a client in a copy of the test PKI and returns the
// issuer's new CRL as PEM (CRL number incremented).
func revokeCRL(t *testing.T, l *lb, names ...string) []byte {
	t.Helper()
	set := l.set.Clone()
	require.NoError(t, set.Revoke(names...))
	return pki.EncodeCRLPEM(set.CRL("intermediate"))
}

// TestRuntimeRevocationThroughAdminAPI revokes a certificate with
// AddTrustStoreRevocations on the admin endpoint; the next connection fails
// with ClientCertCrlHit without a restart, and removing the revocation ID
// lets it in again.
func TestRuntimeRevocationThroughAdminAPI(t *testing.T) {
	l := startLB(t, params{})
	admin := "http://" + l.srv.AdminAddr().String()

	n := l.connCount()
	require.NoError(t, l.get("member", tls.VersionTLS13, "/", nil).err)
	require.Equal(t, "Success", l.lastConn(n).Entry.VerifyStatus)

	resp, err := http.Post(admin+"/trust-stores/ts/revocations?key=member.crl.pem", "application/x-pem-file",
		strings.NewReader(string(revokeCRL(t, l, "member"))))
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	var added struct {
		TrustStoreRevocations []struct {
			TrustStoreArn          string
			RevocationId           int64
			RevocationType         string
			NumberOfRevokedEntries int64
		}
	}
	require.NoError(t, json.Unmarshal(body, &added))
	require.Len(t, added.TrustStoreRevocations, 1)
	rev := added.TrustStoreRevocations[0]
	assert.Equal(t, int64(3), rev.RevocationId, "two CRLs came from the config, so the upload is ID 3")
	assert.Equal(t, "CRL", rev.RevocationType)
	assert.Equal(t, int64(2), rev.NumberOfRevokedEntries, "revoked and member")
	assert.True(t, strings.HasPrefix(rev.TrustStoreArn, "arn:aws:elasticloadbalancing:eu-west-1:123456789012:truststore/ts/"), rev.TrustStoreArn)

	n = l.connCount()
	assert.Error(t, l.get("member", tls.VersionTLS13, "/", nil).err)
	assert.Equal(t, "Failed:ClientCertCrlHit", l.lastConn(n).Entry.VerifyStatus)

	req, _ := http.NewRequest(http.MethodDelete, admin+"/trust-stores/ts/revocations/3", nil)
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	n = l.connCount()
	assert.NoError(t, l.get("member", tls.VersionTLS13, "/", nil).err)
	assert.Equal(t, "Success", l.lastConn(n).Entry.VerifyStatus)

	// IDs are never reused; unknown ones are RevocationIdNotFound.
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	assert.Contains(t, string(body), "RevocationIdNotFound")

	// A DER CRL is refused as ALB refuses it.
	set := l.set.Clone()
	require.NoError(t, set.Revoke("member"))
	resp, err = http.Post(admin+"/trust-stores/ts/revocations", "application/pkix-crl", strings.NewReader(string(set.CRL("intermediate"))))
	require.NoError(t, err)
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	assert.Contains(t, string(body), "InvalidRevocationContent")
}

// TestReloadOnCRLFileChange rewrites the configured CRL file (as `albmtls
// pki revoke` does); the watcher reloads it. A broken file is refused and
// the previous trust store stays in force.
func TestReloadOnCRLFileChange(t *testing.T) {
	l := startLB(t, params{})
	crlFile := filepath.Join(l.dir, "crl/intermediate.crl.pem")

	require.NoError(t, os.WriteFile(crlFile, revokeCRL(t, l, "outsider"), 0o644))
	waitFor(t, "the new CRL to be applied", func() bool {
		n := l.connCount()
		l.get("outsider", tls.VersionTLS13, "/", nil)
		return l.lastConn(n).Entry.VerifyStatus == "Failed:ClientCertCrlHit"
	})

	// A file with a blank line in the PEM is refused; outsider stays revoked.
	require.NoError(t, os.WriteFile(crlFile, []byte("not a CRL\n"), 0o644))
	time.Sleep(200 * time.Millisecond) // several watch intervals
	n := l.connCount()
	l.get("outsider", tls.VersionTLS13, "/", nil)
	assert.Equal(t, "Failed:ClientCertCrlHit", l.lastConn(n).Entry.VerifyStatus)
	n = l.connCount()
	assert.NoError(t, l.get("valid", tls.VersionTLS13, "/", nil).err)
	assert.Equal(t, "Success", l.lastConn(n).Entry.VerifyStatus)

	// SIGHUP's path: an explicit reload reports the refusal with ALB's name.
	err := l.srv.Reload()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "InvalidRevocationContent")
	assert.Contains(t, err.Error(), "keeping the previous trust store")
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

var _ = fmt.Sprint
