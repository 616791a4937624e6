package main

import (
	"bytes"
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/albmtls/albmtls/internal/testbin"
	"github.com/albmtls/albmtls/pki/pkitest"
)

// runBenchCLI runs the CLI in-process (its own helper, so this file does
// not depend on other command tests).
func runBenchCLI(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return code, out.String(), errb.String()
}

// benchServer is an mTLS test server over the standard PKI's server
// certificate that answers with status.
func benchServer(t *testing.T, dir string, status int) string {
	t.Helper()
	cert, err := tls.LoadX509KeyPair(filepath.Join(dir, "server/server-chain.pem"), filepath.Join(dir, "server/server-key.pem"))
	require.NoError(t, err)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(status)
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, ClientAuth: tls.RequireAnyClientCert, SessionTicketsDisabled: true}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv.URL + "/"
}

func TestBenchLoad(t *testing.T) {
	dir := pkitest.Dir(t)
	p := func(rel string) string { return filepath.Join(dir, rel) }
	creds := []string{"--cert", p("clients/valid-chain.pem"), "--key", p("clients/valid-key.pem")}
	okURL := benchServer(t, dir, 200)

	code, stdout, stderr := runBenchCLI(append([]string{"bench", "load", okURL, "-n", "20", "-c", "2", "--ca", p("ca/bundle.pem"), "--server-name", "localhost"}, creds...)...)
	assert.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, "mode         handshake (a new connection and full handshake per request)")
	assert.Contains(t, stdout, "requests     20 ok, 0 errors")
	assert.Contains(t, stdout, "tls          TLS 1.3 TLS_AES_128_GCM_SHA256 X25519; 20 handshakes, none resumed")

	code, stdout, _ = runBenchCLI(append([]string{"bench", "load", okURL, "-n", "20", "-c", "2", "--mode", "keepalive", "-H", "X-Test: 1"}, creds...)...)
	assert.Equal(t, 0, code)
	assert.Contains(t, stdout, "; 2 handshakes, none resumed")

	code, stdout, _ = runBenchCLI(append([]string{"bench", "load", benchServer(t, dir, 503), "-n", "3", "-c", "1"}, creds...)...)
	assert.Equal(t, 1, code, "failed requests make the exit status 1")
	assert.Contains(t, stdout, "error        3 × status 503")

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"bench", "load", "https://203.0.113.5/"}, "not a loopback address"},
		{[]string{"bench", "load", okURL, "--cert", p("clients/valid-chain.pem")}, "--cert and --key go together"},
		{[]string{"bench", "load", okURL, "--mode", "h2"}, `"h2" is not a load mode`},
		{[]string{"bench", "load", okURL, "-H", "novalue"}, `--header "novalue"`},
		{[]string{"bench", "load", okURL, "--ca", p("clients/valid-key.pem")}, "holds no PEM certificate"},
		{[]string{"bench", "compare", "--servers", "nginx"}, "must include albmtls"},
	} {
		code, _, stderr := runBenchCLI(tc.args...)
		assert.Equal(t, 2, code, "usage or configuration error: %v", tc.args)
		assert.Contains(t, stderr, tc.want, "%v", tc.args)
	}
}

// TestBenchCompare runs a tiny comparison with the real binary: albmtls and
// the ceiling always, nginx and HAProxy when they are installed.
func TestBenchCompare(t *testing.T) {
	if testing.Short() {
		t.Skip("starts servers and runs load")
	}
	servers := []string{"albmtls", "ceiling"}
	for _, name := range []string{"nginx", "haproxy"} {
		if _, err := exec.LookPath(name); err == nil {
			servers = append(servers, name)
		}
	}
	out := filepath.Join(t.TempDir(), "table.md")
	cmd := testbin.Command(t, "bench", "compare", "--servers", strings.Join(servers, ","),
		"--scenarios", "handshake-crl10,keepalive", "--rounds", "1", "-d", "300ms", "--warmup", "-1s", "-c", "4", "-o", out)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(t, cmd.Run(), stderr.String())
	table := stdout.String()
	assert.Contains(t, table, "| handshakes/s, 10-entry CRL |")
	assert.Contains(t, table, "| keep-alive requests/s |")
	assert.NotContains(t, table, "⚠", "no errors")
	assert.FileExists(t, out)
	for _, s := range servers {
		assert.Contains(t, stderr.String(), "bench:   "+s+" ready in")
	}
}
