package albmtls_test

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/testcontainers/testcontainers-go"

	"github.com/albmtls/albmtls/docker/albmtls"
)

// TestHTTPClient: HTTPClient(name) presents that client's certificate and
// trusts the emulator's server certificate with no further set-up;
// HTTPClient("") presents none, which verify mode refuses.
func TestHTTPClient(t *testing.T) {
	ctr := run(t, albmtls.WithHostTarget(backend(t)))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	base, err := ctr.HTTPSEndpoint(ctx)
	require.NoError(t, err)

	hc, err := ctr.HTTPClient("member")
	require.NoError(t, err)
	resp, err := hc.Get(base + "/hello")
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)
	var e echo
	require.NoError(t, json.Unmarshal(body, &e))
	assert.Equal(t, "CN=member,OU=Engineering,O=Example Corp", e.Header.Get("X-Amzn-Mtls-Clientcert-Subject"))

	none, err := ctr.HTTPClient("")
	require.NoError(t, err)
	_, err = none.Get(base + "/")
	require.Error(t, err, "verify mode refuses a client without a certificate")
	assert.NotContains(t, err.Error(), "x509", "the server certificate is trusted; the failure is the missing client certificate")

	_, err = ctr.HTTPClient("nobody")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "valid names are")
}

// healthTarget serves 200 on /ready and 500 elsewhere, so ALB's default
// health check path "/" fails, and counts the checks on /ready.
func healthTarget(t *testing.T) (int, *atomic.Int64) {
	t.Helper()
	l, err := net.Listen("tcp", "0.0.0.0:0")
	require.NoError(t, err)
	var checks atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/ready" {
			checks.Add(1)
			return
		}
		w.WriteHeader(http.StatusInternalServerError)
	}))
	srv.Listener.Close()
	srv.Listener = l
	srv.Start()
	t.Cleanup(srv.Close)
	return l.Addr().(*net.TCPAddr).Port, &checks
}

// targetState asks the admin API (DescribeTargetHealth) for the state of
// the only target.
func targetState(t *testing.T, ctr *albmtls.Container) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	base, err := ctr.AdminEndpoint(ctx)
	require.NoError(t, err)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/target-groups/targets/health", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+ctr.AdminToken())
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var h struct {
		TargetHealthDescriptions []struct{ TargetHealth struct{ State string } }
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&h))
	require.Len(t, h.TargetHealthDescriptions, 1)
	return h.TargetHealthDescriptions[0].TargetHealth.State
}

// TestHealthCheckOptions: WithHealthCheck points ALB's checker at the
// service's health route at the given interval (the target turns healthy
// within a second); WithoutHealthCheck leaves the target unchecked, in
// ALB's "unavailable" state, and never calls it.
func TestHealthCheckOptions(t *testing.T) {
	port, checks := healthTarget(t)
	ctr := run(t, albmtls.WithHostTarget(port), albmtls.WithHealthCheck("/ready", 200*time.Millisecond))
	assert.Contains(t, string(ctr.Config()), "path: /ready")
	require.Eventually(t, func() bool { return targetState(t, ctr) == "healthy" }, 15*time.Second, 100*time.Millisecond)
	assert.Positive(t, checks.Load(), "the checker asked /ready")

	port2, checks2 := healthTarget(t)
	off := run(t, albmtls.WithHostTarget(port2), albmtls.WithoutHealthCheck())
	assert.Equal(t, "unavailable", targetState(t, off))
	time.Sleep(500 * time.Millisecond)
	assert.Zero(t, checks2.Load(), "no health check request reaches the target")

	_, err := albmtls.Run(context.Background(), image, albmtls.WithHealthCheck("ready", 0))
	require.ErrorContains(t, err, "must start with /")
}

// TestWithEmulation sets an emulation knob: reject_with alert ends a
// refused handshake with a TLS alert instead of ALB's TCP reset. An unknown
// knob fails Run before Docker is touched.
func TestWithEmulation(t *testing.T) {
	ctr := run(t, albmtls.WithEmulation("reject_with", "alert"))
	assert.Contains(t, string(ctr.Config()), "reject_with: alert")
	_, _, err := get(t, ctr, "revoked", "/")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "remote error: tls:", "a TLS alert, not a reset")

	_, err = albmtls.Run(context.Background(), image, albmtls.WithEmulation("no_such_knob", "1"))
	require.ErrorContains(t, err, `WithEmulation("no_such_knob", "1")`)
	require.ErrorContains(t, err, "docs/configuration.md")
}

// acceptableCAs connects to the HTTPS listener and returns the CA names
// the server's CertificateRequest carried.
func acceptableCAs(t *testing.T, ctr *albmtls.Container) [][]byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	base, err := ctr.HTTPSEndpoint(ctx)
	require.NoError(t, err)
	cfg, err := ctr.ClientTLSConfig("valid")
	require.NoError(t, err)
	var names [][]byte
	leaf := cfg.Certificates[0]
	cfg.Certificates = nil
	cfg.GetClientCertificate = func(cri *tls.CertificateRequestInfo) (*tls.Certificate, error) {
		names = cri.AcceptableCAs
		return &leaf, nil
	}
	conn, err := tls.Dial("tcp", strings.TrimPrefix(base, "https://"), cfg)
	require.NoError(t, err)
	conn.Close()
	return names
}

// TestAdvertiseTrustStoreCANames: the option puts the trust store's CA
// subjects into the CertificateRequest; by default, as on ALB, none.
func TestAdvertiseTrustStoreCANames(t *testing.T) {
	assert.Empty(t, acceptableCAs(t, run(t)))

	ctr := run(t, albmtls.WithAdvertiseTrustStoreCANames())
	names := acceptableCAs(t, ctr)
	require.NotEmpty(t, names)
	var subjects []string
	for _, n := range names {
		subjects = append(subjects, string(n))
	}
	assert.Contains(t, subjects, string(ctr.PKI().Root.Cert.RawSubject))

	_, err := albmtls.Run(context.Background(), image, albmtls.WithMode(albmtls.ModePassthrough), albmtls.WithAdvertiseTrustStoreCANames())
	require.ErrorContains(t, err, "needs ModeVerify")
}

// TestHTTPRedirectListener: the HTTP listener redirects to HTTPS on 8443
// with 301, keeping path and query, as ALB's redirect action does.
func TestHTTPRedirectListener(t *testing.T) {
	ctr := run(t, albmtls.WithHTTPRedirectListener())
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	base, err := ctr.HTTPEndpoint(ctx)
	require.NoError(t, err)
	hc, err := ctr.HTTPClient("valid")
	require.NoError(t, err)
	resp, err := hc.Get(base + "/a/b?c=d")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusMovedPermanently, resp.StatusCode)
	assert.Equal(t, "https://localhost:8443/a/b?c=d", resp.Header.Get("Location"))

	_, err = run(t).HTTPEndpoint(ctx)
	require.ErrorContains(t, err, "WithHTTPRedirectListener")
}

// TestHostResolution: Run needs no TESTCONTAINERS_HOST_OVERRIDE (the
// module finds the host that reaches the published ports), and when the
// variable names a host that does not reach them, Run says so instead of
// waiting for ever.
func TestHostResolution(t *testing.T) {
	requireDocker(t)
	t.Setenv("TESTCONTAINERS_HOST_OVERRIDE", "203.0.113.1") // TEST-NET-3: never answers
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ctr, err := albmtls.Run(ctx, image)
	testcontainers.CleanupContainer(t, ctr)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "not reachable from this process at 203.0.113.1:")
	assert.Contains(t, err.Error(), "TESTCONTAINERS_HOST_OVERRIDE is set to \"203.0.113.1\"")
}
