package emulator_test

import (
	"crypto/tls"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func adminGet(t *testing.T, l *lb, path string) (int, string) {
	t.Helper()
	resp, err := http.Get("http://" + l.srv.AdminAddr().String() + path)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestAdminEndpoint: health, metrics by tls_verify_status, trust store
// description and target health.
func TestAdminEndpoint(t *testing.T) {
	web := echoBackend(t, "web-1")
	l := startLB(t, params{Action: forwardWeb, Targets: []string{web.Listener.Addr().String()}})
	require.NoError(t, l.get("valid", tls.VersionTLS13, "/", nil).err)
	require.Error(t, l.get("revoked", tls.VersionTLS13, "/", nil).err)
	l.connEvents(2)

	code, body := adminGet(t, l, "/healthz")
	assert.Equal(t, 200, code)
	assert.Contains(t, body, `"Status": "ok"`)
	assert.Contains(t, body, "app/test-alb/")

	code, body = adminGet(t, l, "/metrics")
	assert.Equal(t, 200, code)
	port := strings.Split(l.httpsAddr(), ":")[1]
	assert.Contains(t, body, `albmtls_connections_total{listener_port="`+port+`",tls_verify_status="Success"} 1`)
	assert.Contains(t, body, `albmtls_connections_total{listener_port="`+port+`",tls_verify_status="Failed:ClientCertCrlHit"} 1`)
	assert.Contains(t, body, `albmtls_truststore_ca_certificates{trust_store="ts"} 2`)
	assert.Contains(t, body, `albmtls_requests_total{elb_status_code="200",listener_port="`+port+`"} 1`)

	code, body = adminGet(t, l, "/trust-stores")
	assert.Equal(t, 200, code)
	var ts struct{ TrustStores []map[string]any }
	require.NoError(t, json.Unmarshal([]byte(body), &ts))
	require.Len(t, ts.TrustStores, 1)
	assert.Equal(t, "ACTIVE", ts.TrustStores[0]["Status"])
	assert.EqualValues(t, 2, ts.TrustStores[0]["NumberOfCaCertificates"])

	code, body = adminGet(t, l, "/trust-stores/ts/revocations?ids=2")
	assert.Equal(t, 200, code)
	assert.Contains(t, body, `"RevocationId": 2`)
	assert.NotContains(t, body, `"RevocationId": 1`)

	code, body = adminGet(t, l, "/trust-stores/nope/revocations")
	assert.Equal(t, 400, code)
	assert.Contains(t, body, "TrustStoreNotFound")

	code, body = adminGet(t, l, "/target-groups/web/health")
	assert.Equal(t, 200, code)
	assert.Contains(t, body, `"TargetHealthDescriptions"`)
	assert.Contains(t, body, `"State": "unavailable"`, "health checks are disabled in these tests")
}
