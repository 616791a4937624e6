package albmtls_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/albmtls/albmtls/docker/albmtls"
	"github.com/albmtls/albmtls/emulator/certfmt"
	"github.com/albmtls/albmtls/emulator/connlog"
)

// TestVerifyMode is the acceptance test: the emulator in front of a
// backend on the host; valid gets through with the mTLS headers, revoked is
// rejected and logged as ClientCertCrlHit, and a runtime Revoke takes
// effect on the next connection.
func TestVerifyMode(t *testing.T) {
	ctr := run(t, albmtls.WithHostTarget(backend(t)))
	ctx := context.Background()
	set := ctr.PKI()
	serial := func(name string) string {
		leaf, ok := set.Client(name)
		require.True(t, ok, name)
		return certfmt.Serial(leaf.Cert)
	}

	t.Run("valid reaches the backend with the mTLS headers", func(t *testing.T) {
		e := getEcho(t, ctr, "valid", "/hello")
		assert.Equal(t, "/hello", e.Path)
		assert.Equal(t, serial("valid"), e.Header.Get("X-Amzn-Mtls-Clientcert-Serial-Number"))
		assert.Equal(t, "CN=valid", e.Header.Get("X-Amzn-Mtls-Clientcert-Subject"))
		issuer, err := certfmt.DN(set.Intermediate.Cert.RawSubject)
		require.NoError(t, err)
		leaf, _ := set.Client("valid")
		assert.Equal(t, issuer, e.Header.Get("X-Amzn-Mtls-Clientcert-Issuer"))
		assert.Equal(t, certfmt.Validity(leaf.Cert), e.Header.Get("X-Amzn-Mtls-Clientcert-Validity"))
		assert.Contains(t, e.Header.Get("X-Amzn-Mtls-Clientcert-Leaf"), "-----BEGIN%20CERTIFICATE-----")

		entry, err := ctr.WaitForConnectionLog(ctx, func(e connlog.Entry) bool { return e.Serial == serial("valid") })
		require.NoError(t, err)
		assert.Equal(t, "Success", entry.VerifyStatus)
		assert.Equal(t, "CN=valid", entry.Subject)
		assert.Equal(t, 8443, entry.ListenerPort)
	})

	t.Run("revoked is rejected and logged as ClientCertCrlHit", func(t *testing.T) {
		_, _, err := get(t, ctr, "revoked", "/")
		require.Error(t, err, "the emulator must reset a revoked client's connection")
		entry, err := ctr.WaitForConnectionLog(ctx, func(e connlog.Entry) bool { return e.Serial == serial("revoked") })
		require.NoError(t, err)
		assert.Equal(t, "Failed:ClientCertCrlHit", entry.VerifyStatus)
		assert.Equal(t, connlog.NoLatency, entry.HandshakeLatency, "a failed handshake has no latency")
	})

	t.Run("the admin API needs the token to change revocations", func(t *testing.T) {
		admin, err := ctr.AdminEndpoint(ctx)
		require.NoError(t, err)
		req, err := http.NewRequestWithContext(ctx, http.MethodDelete, admin+"/trust-stores/"+albmtls.TrustStoreName+"/revocations/1", nil)
		require.NoError(t, err)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "the container's admin endpoint binds 0.0.0.0")
		assert.Len(t, ctr.AdminToken(), 64, "Run draws a 32-byte token")
		_, _, err = get(t, ctr, "revoked", "/")
		require.Error(t, err, "revoked stays revoked")
	})

	t.Run("Revoke takes effect on the next connection", func(t *testing.T) {
		getEcho(t, ctr, "member", "/")
		require.NoError(t, ctr.Revoke(ctx, "member"))
		_, _, err := get(t, ctr, "member", "/")
		require.Error(t, err, "member is revoked: its next connection must be rejected")

		_, err = ctr.WaitForConnectionLog(ctx, func(e connlog.Entry) bool {
			return e.Serial == serial("member") && e.VerifyStatus != "Success"
		})
		require.NoError(t, err)
		entries, err := ctr.ConnectionLog(ctx)
		require.NoError(t, err)
		var statuses []string
		for _, e := range entries {
			if e.Serial == serial("member") {
				statuses = append(statuses, e.VerifyStatus)
			}
		}
		assert.Equal(t, []string{"Success", "Failed:ClientCertCrlHit"}, statuses)

		// valid is still fine, and the superseded CRL of the intermediate is gone.
		getEcho(t, ctr, "valid", "/")
		revs := revocations(t, ctr)
		intermediate := 0
		for _, r := range revs {
			if r.NumberOfRevokedEntries == 2 {
				intermediate++
			}
		}
		assert.Len(t, revs, 2, "one CRL per CA (intermediate and root): %+v", revs)
		assert.Equal(t, 1, intermediate, "the new intermediate CRL lists revoked and member: %+v", revs)
	})

	t.Run("unknown names", func(t *testing.T) {
		_, err := ctr.ClientTLSConfig("nobody")
		require.Error(t, err)
		assert.Contains(t, err.Error(), `no client "nobody" in the PKI; valid names are`)
		err = ctr.Revoke(ctx, "nobody")
		require.Error(t, err)
		assert.Contains(t, err.Error(), `unknown name "nobody"`)
	})

	t.Run("access log", func(t *testing.T) {
		entries, err := ctr.AccessLog(ctx)
		require.NoError(t, err)
		require.NotEmpty(t, entries)
		for _, e := range entries {
			assert.Equal(t, 200, e.ELBStatusCode)
			assert.Equal(t, 200, e.TargetStatusCode)
		}
	})
}

type revocationInfo struct {
	RevocationID           int64  `json:"RevocationId"`
	NumberOfRevokedEntries int64  `json:"NumberOfRevokedEntries"`
	Issuer                 string `json:"Issuer"`
}

// revocations lists the trust store's CRLs through the admin API.
func revocations(t *testing.T, ctr *albmtls.Container) []revocationInfo {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	admin, err := ctr.AdminEndpoint(ctx)
	require.NoError(t, err)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, admin+"/trust-stores/"+albmtls.TrustStoreName+"/revocations", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+ctr.AdminToken())
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var out struct{ TrustStoreRevocations []revocationInfo }
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
	return out.TrustStoreRevocations
}
