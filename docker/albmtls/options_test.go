package albmtls_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/network"
	"github.com/testcontainers/testcontainers-go/wait"

	"github.com/albmtls/albmtls/docker/albmtls"
	"github.com/albmtls/albmtls/emulator/certfmt"
	"github.com/albmtls/albmtls/emulator/connlog"
	"github.com/albmtls/albmtls/pki"
)

func TestPassthroughForwardsTheChain(t *testing.T) {
	ctr := run(t, albmtls.WithMode(albmtls.ModePassthrough), albmtls.WithHostTarget(backend(t)))
	// In passthrough mode ALB checks nothing: even revoked gets through.
	e := getEcho(t, ctr, "revoked", "/")
	assert.Contains(t, e.Header.Get("X-Amzn-Mtls-Clientcert"), "-----BEGIN%20CERTIFICATE-----")
	assert.Empty(t, e.Header.Get("X-Amzn-Mtls-Clientcert-Serial-Number"), "passthrough sends only the chain")
}

func TestListenerAttributeRenamesHeader(t *testing.T) {
	ctr := run(t, albmtls.WithHostTarget(backend(t)),
		albmtls.WithListenerAttribute("routing.http.request.x_amzn_mtls_clientcert_subject.header_name", "X-Client-Subject"))
	e := getEcho(t, ctr, "member", "/")
	assert.Equal(t, "CN=member,OU=Engineering,O=Example Corp", e.Header.Get("X-Client-Subject"))
	assert.Empty(t, e.Header.Get("X-Amzn-Mtls-Clientcert-Subject"))
}

func TestNoTargetAnswersFixedResponse(t *testing.T) {
	ctr := run(t)
	resp, body, err := get(t, ctr, "valid", "/")
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, string(body), "no target configured")

	_, _, err = get(t, ctr, "expired", "/")
	require.Error(t, err, "verify mode rejects an expired certificate")
}

func TestIgnoreClientCertificateExpiry(t *testing.T) {
	ctr := run(t, albmtls.WithIgnoreClientCertificateExpiry())
	resp, _, err := get(t, ctr, "expired", "/")
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
}

// TestWithConfigAndPKI runs a user's own config and PKI; Revoke changes a
// copy of the PKI, never the user's directory.
func TestWithConfigAndPKI(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pki")
	set, err := pki.Generate(pki.GenerateOptions{})
	require.NoError(t, err)
	require.NoError(t, set.WriteDir(dir, false))
	crlBefore, err := os.ReadFile(filepath.Join(dir, "crl", "intermediate.crl.pem"))
	require.NoError(t, err)

	ctr := run(t, albmtls.WithConfig(filepath.Join("testdata", "user.yaml")), albmtls.WithPKI(dir))
	ctx := context.Background()
	resp, body, err := get(t, ctr, "valid", "/")
	require.NoError(t, err)
	assert.Equal(t, "corp ok", string(body))
	assert.Equal(t, http.StatusOK, resp.StatusCode)

	require.NoError(t, ctr.Revoke(ctx, "valid"))
	_, _, err = get(t, ctr, "valid", "/")
	require.Error(t, err)
	leaf, _ := set.Client("valid")
	serial := certfmt.Serial(leaf.Cert)
	entry, err := ctr.WaitForConnectionLog(ctx, func(e connlog.Entry) bool {
		return e.Serial == serial && e.VerifyStatus != "Success"
	})
	require.NoError(t, err)
	assert.Equal(t, "Failed:ClientCertCrlHit", entry.VerifyStatus)
	assert.Equal(t, 443, entry.ListenerPort)

	crlAfter, err := os.ReadFile(filepath.Join(dir, "crl", "intermediate.crl.pem"))
	require.NoError(t, err)
	assert.Equal(t, crlBefore, crlAfter, "Revoke must not change the WithPKI directory")
}

// TestTargetOnSharedNetwork puts the emulator in front of a service in
// another container on a shared network, reached by its alias. The service
// is a second emulator with an HTTP listener (the only image at hand
// without a registry).
func TestTargetOnSharedNetwork(t *testing.T) {
	requireDocker(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	nw, err := network.New(ctx)
	testcontainers.CleanupNetwork(t, nw)
	require.NoError(t, err)

	svc, err := testcontainers.Run(ctx, image,
		network.WithNetwork([]string{"service"}, nw),
		testcontainers.WithFiles(testcontainers.ContainerFile{
			Reader:            strings.NewReader(serviceConfig),
			ContainerFilePath: albmtls.ConfigPath, FileMode: 0o644,
		}),
		testcontainers.WithExposedPorts("9090/tcp"),
		// Asked inside the container, as Run does: this process need not
		// know how to reach published ports (see Environment in README.md).
		testcontainers.WithWaitStrategy(wait.ForExec([]string{"/albmtls", "healthcheck", "http://127.0.0.1:9090/healthz"})),
	)
	testcontainers.CleanupContainer(t, svc)
	require.NoError(t, err)

	ctr := run(t, albmtls.WithTarget("service:9001"), network.WithNetwork(nil, nw))
	resp, body, err := get(t, ctr, "valid", "/")
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "service ok", string(body))
}

const serviceConfig = `listeners:
  - port: 9001
    protocol: HTTP
    address: 0.0.0.0
    default_action:
      type: fixed-response
      fixed_response: {status_code: "200", content_type: text/plain, message_body: "service ok"}
admin:
  listen: 0.0.0.0:9090
`

// TestStartupTime measures Run until healthy, the figure the README quotes.
func TestStartupTime(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: no timing runs")
	}
	requireDocker(t)
	var times []time.Duration
	for range 3 {
		start := time.Now()
		ctr := run(t)
		times = append(times, time.Since(start))
		require.NoError(t, testcontainers.TerminateContainer(ctr))
	}
	t.Logf("Run until healthy (PKI generation included): %v", times)
}
