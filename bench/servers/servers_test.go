package servers_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
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

// TestCeilingForward: the forwarding ceiling relays each request to the
// backend over real mTLS with the client certificate's subject and leaf
// in ALB's headers, which the backend echoes.
func TestCeilingForward(t *testing.T) {
	backend := httptest.NewServer(servers.Backend())
	t.Cleanup(backend.Close)
	tc, ln := ceilingTLS(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- servers.Serve(ctx, ln, servers.CeilingForward(backend.Listener.Addr().String()), tc) }()
	t.Cleanup(func() { cancel(); <-done })

	resp := getOK(t, validClient(t, nil), "https://"+ln.Addr().String()+"/")
	assert.NotEqual(t, "0", resp.Header.Get(servers.EchoLeafBytes), "the leaf was forwarded")
}

// getOK gets url with c and checks the backend's answer: 200 "ok" with the
// valid client's subject echoed.
func getOK(t *testing.T, c *http.Client, url string) *http.Response {
	t.Helper()
	resp, err := c.Get(url)
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "ok\n", string(body))
	assert.Contains(t, resp.Header.Get(servers.EchoSubject), "CN=valid")
	return resp
}

// validClient is an HTTPS client with the standard test PKI's valid
// client certificate, trusting its CAs; dial, when set, dials.
func validClient(t *testing.T, dial func(ctx context.Context, network, addr string) (net.Conn, error)) *http.Client {
	t.Helper()
	set := pkitest.Standard(t)
	roots := x509.NewCertPool()
	roots.AddCert(set.Root.Cert)
	roots.AddCert(set.Intermediate.Cert)
	valid, ok := set.Client("valid")
	require.True(t, ok)
	c := &http.Client{Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: roots, ServerName: "localhost", Certificates: []tls.Certificate{valid.TLSCertificate()}},
		DialContext:     dial,
	}}
	t.Cleanup(c.CloseIdleConnections)
	return c
}

// ceilingTLS is the ceiling's TLS configuration over the test PKI and a
// loopback listener for it.
func ceilingTLS(t *testing.T) (*tls.Config, net.Listener) {
	t.Helper()
	dir := pkitest.Dir(t)
	p := func(f string) string { return filepath.Join(dir, f) }
	tc, err := servers.CeilingTLS(p("server/server-chain.pem"), p("server/server-key.pem"), p("ca/bundle.pem"))
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	return tc, ln
}

// TestRelay: the relay forwards kept-alive requests over real mTLS to the
// backend with the client certificate's subject and leaf, the backend's
// answers come back on the same connection, and a request with a body
// (which the relay does not serve) ends the connection rather than being
// half-relayed.
func TestRelay(t *testing.T) {
	var seen []http.Header
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = append(seen, r.Header.Clone())
		servers.Backend().ServeHTTP(w, r)
	}))
	t.Cleanup(backend.Close)
	tc, ln := ceilingTLS(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- servers.Relay(ctx, ln, tc, backend.Listener.Addr().String()) }()
	t.Cleanup(func() { cancel(); <-done })

	conns := 0
	client := validClient(t, func(ctx context.Context, network, addr string) (net.Conn, error) {
		conns++
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	})
	for range 3 {
		getOK(t, client, "https://"+ln.Addr().String()+"/")
	}
	assert.Equal(t, 1, conns, "the three requests were kept alive on one connection")
	require.Len(t, seen, 3)
	for _, name := range []string{servers.LeafHeader, "X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Port", "X-Amzn-Trace-Id"} {
		assert.NotEmpty(t, seen[0].Get(name), name)
	}
	assert.Equal(t, "127.0.0.1", seen[0].Get("X-Forwarded-For"))
	assert.NotEqual(t, seen[0].Get("X-Amzn-Trace-Id"), seen[1].Get("X-Amzn-Trace-Id"), "a trace id per request")

	_, err := client.Post("https://"+ln.Addr().String()+"/", "text/plain", strings.NewReader("a body"))
	assert.Error(t, err, "a request with a body is not relayed")
	assert.Len(t, seen, 3, "nothing of it reached the backend")
}
