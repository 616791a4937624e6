package emulator_test

import (
	"crypto/tls"
	"encoding/json"
	"io"
	"net"
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

// adminDo sends one admin request with the given Host and extra headers.
func adminDo(t *testing.T, l *lb, method, path, host string, hdr map[string]string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(method, "http://"+l.srv.AdminAddr().String()+path, nil)
	require.NoError(t, err)
	if host != "" {
		req.Host = host
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

// stillRevoked checks with a real TLS client that the certificate revoked
// by the configured intermediate CRL (revocation ID 1) is still refused.
func stillRevoked(t *testing.T, l *lb) {
	t.Helper()
	n := l.connCount()
	assert.Error(t, l.get("revoked", tls.VersionTLS13, "/", nil).err)
	assert.Equal(t, "Failed:ClientCertCrlHit", l.lastConn(n).Entry.VerifyStatus)
}

// TestAdminRefusesForeignHost is issue 19 item 5: a DELETE of the
// revocation list with a foreign Host header (what a DNS-rebinding page
// sends) used to succeed and let the revoked certificate in.
func TestAdminRefusesForeignHost(t *testing.T) {
	l := startLB(t, params{})
	_, port, err := net.SplitHostPort(l.srv.AdminAddr().String())
	require.NoError(t, err)
	stillRevoked(t, l)

	for _, host := range []string{"evil.example:" + port, "evil.example", "127.0.0.1.nip.io:" + port, "127.0.0.1:1" + port} {
		code, _, body := adminDo(t, l, http.MethodDelete, "/trust-stores/ts/revocations/1", host, nil)
		assert.Equal(t, http.StatusForbidden, code, host)
		assert.Contains(t, body, "ForbiddenHost", host)
		assert.Contains(t, body, "Host header", host)
		code, _, _ = adminDo(t, l, http.MethodGet, "/trust-stores", host, nil)
		assert.Equal(t, http.StatusForbidden, code, "reads check the Host too: %s", host)
	}
	stillRevoked(t, l)

	// Health checks and scrapers may use any name.
	code, _, _ := adminDo(t, l, http.MethodGet, "/healthz", "evil.example:"+port, nil)
	assert.Equal(t, http.StatusOK, code)
	code, _, _ = adminDo(t, l, http.MethodGet, "/metrics", "evil.example:"+port, nil)
	assert.Equal(t, http.StatusOK, code)

	// The loopback names with the right port are accepted.
	for _, host := range []string{"localhost:" + port, "LOCALHOST:" + port, "127.0.0.1:" + port, "[::1]:" + port} {
		code, _, body := adminDo(t, l, http.MethodGet, "/trust-stores", host, nil)
		assert.Equal(t, http.StatusOK, code, "%s: %s", host, body)
	}
}

// TestAdminRefusesCrossOriginBrowserRequests: a page on another origin
// cannot mutate, even with a Host that passes.
func TestAdminRefusesCrossOriginBrowserRequests(t *testing.T) {
	l := startLB(t, params{})
	for _, hdr := range []map[string]string{
		{"Origin": "http://evil.example"},
		{"Origin": "null"},
		{"Sec-Fetch-Site": "cross-site"},
		{"Sec-Fetch-Site": "same-site"},
	} {
		code, _, body := adminDo(t, l, http.MethodDelete, "/trust-stores/ts/revocations/1", "", hdr)
		assert.Equal(t, http.StatusForbidden, code, "%v", hdr)
		assert.Contains(t, body, "CrossOriginRequest", "%v", hdr)
	}
	stillRevoked(t, l)
}

const testAdminToken = "test-admin-token-0123456789abcdef"

// TestAdminToken: with admin.token set, mutations need it (401 without or
// with a wrong one), /healthz and /metrics stay open, and the right token
// works, whatever the Host (a rebinding page cannot know the token).
func TestAdminToken(t *testing.T) {
	l := startLB(t, params{Admin: `{listen: "127.0.0.1:0", token: "` + testAdminToken + `"}`})
	_, port, err := net.SplitHostPort(l.srv.AdminAddr().String())
	require.NoError(t, err)
	for _, auth := range []string{"", "Bearer wrong-token-0123456789abcdef", "Bearer " + testAdminToken + "x", "Basic " + testAdminToken, testAdminToken} {
		hdr := map[string]string{}
		if auth != "" {
			hdr["Authorization"] = auth
		}
		code, h, body := adminDo(t, l, http.MethodDelete, "/trust-stores/ts/revocations/1", "", hdr)
		assert.Equal(t, http.StatusUnauthorized, code, "%q", auth)
		assert.Equal(t, `Bearer realm="albmtls admin"`, h.Get("WWW-Authenticate"))
		assert.Contains(t, body, "Unauthorized", "%q", auth)
		assert.NotContains(t, body, testAdminToken)
		code, _, _ = adminDo(t, l, http.MethodPost, "/reload", "", hdr)
		assert.Equal(t, http.StatusUnauthorized, code, "%q", auth)
	}
	stillRevoked(t, l)

	code, _, _ := adminDo(t, l, http.MethodGet, "/healthz", "", nil)
	assert.Equal(t, http.StatusOK, code)
	code, _, _ = adminDo(t, l, http.MethodGet, "/metrics", "", nil)
	assert.Equal(t, http.StatusOK, code)

	code, _, body := adminDo(t, l, http.MethodDelete, "/trust-stores/ts/revocations/1", "alb.internal:"+port,
		map[string]string{"Authorization": "Bearer " + testAdminToken})
	require.Equal(t, http.StatusOK, code, body)
	n := l.connCount()
	assert.NoError(t, l.get("revoked", tls.VersionTLS13, "/", nil).err)
	assert.Equal(t, "Success", l.lastConn(n).Entry.VerifyStatus, "the revocation list was removed")
}

// TestAdminLoopbackNoWarning: the default loopback listen logs no exposure
// warning (the non-loopback case is admin's TestExposureWarning, which
// does not bind outside loopback).
func TestAdminLoopbackNoWarning(t *testing.T) {
	l := startLB(t, params{})
	assert.NotContains(t, l.logs.String(), "admin endpoint listens on a non-loopback address")
	assert.Contains(t, l.logs.String(), "admin endpoint")
}
