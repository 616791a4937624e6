package servers_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/albmtls/albmtls/bench/servers"
	"github.com/albmtls/albmtls/pki/pkitest"
)

func TestBackendEchoesTheClientCertificateHeaders(t *testing.T) {
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.Header.Set(servers.SubjectHeader, "CN=valid,O=Example")
	req.Header.Set(servers.LeafHeader, "-----BEGIN%20CERTIFICATE-----")
	rec := httptest.NewRecorder()
	servers.Backend().ServeHTTP(rec, req)
	assert.Equal(t, 200, rec.Code)
	assert.Equal(t, "ok\n", rec.Body.String())
	assert.Equal(t, "CN=valid,O=Example", rec.Header().Get(servers.EchoSubject))
	assert.Equal(t, "29", rec.Header().Get(servers.EchoLeafBytes))
}

func TestCeilingTLS(t *testing.T) {
	dir := pkitest.Dir(t)
	p := func(rel string) string { return filepath.Join(dir, rel) }
	tc, err := servers.CeilingTLS(p("server/server-chain.pem"), p("server/server-key.pem"), p("ca/bundle.pem"))
	require.NoError(t, err)
	assert.True(t, tc.SessionTicketsDisabled, "no resumption, as ALB mTLS")
	assert.Len(t, tc.Certificates[0].Certificate, 2, "the chain: leaf and intermediate")

	_, err = servers.CeilingTLS(p("server/missing.pem"), p("server/server-key.pem"), p("ca/bundle.pem"))
	assert.ErrorContains(t, err, "loading the ceiling's server certificate")
	empty := filepath.Join(t.TempDir(), "empty.pem")
	require.NoError(t, os.WriteFile(empty, []byte("# nothing\n"), 0o644))
	_, err = servers.CeilingTLS(p("server/server-chain.pem"), p("server/server-key.pem"), empty)
	assert.ErrorContains(t, err, "holds no PEM certificate")
}

func TestServeStopsWithTheContext(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- servers.Serve(ctx, ln, servers.Backend(), nil) }()
	resp, err := http.Get("http://" + ln.Addr().String() + "/")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 200, resp.StatusCode)
	cancel()
	assert.NoError(t, <-done)
}
