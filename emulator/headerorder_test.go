package emulator_test

import (
	"bufio"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/albmtls/albmtls/internal/golden"
	"github.com/albmtls/albmtls/pki"
	"github.com/albmtls/albmtls/pki/pkitest"
)

// orderRequest is what the client writes, byte for byte: its own headers
// in an order that is neither sorted nor Go's (Host first, User-Agent
// second), so only an emulator that keeps the client's order passes.
const orderRequest = "GET /order?q=1 HTTP/1.1\r\n" +
	"Host: app.example.com\r\n" +
	"User-Agent: order-test/1.0\r\n" +
	"X-Zeta: last-letter\r\n" +
	"Accept: */*\r\n" +
	"X-Alpha: first-letter\r\n" +
	"Cookie: a=b\r\n" +
	"Accept-Language: en\r\n" +
	"Connection: close\r\n" +
	"\r\n"

// variable are the headers whose values differ between runs (a fresh PKI,
// a random trace id): the golden file keeps their names and positions.
var variable = map[string]bool{
	"x-amzn-mtls-clientcert":               true,
	"x-amzn-mtls-clientcert-serial-number": true,
	"x-amzn-mtls-clientcert-issuer":        true,
	"x-amzn-mtls-clientcert-subject":       true,
	"x-amzn-mtls-clientcert-validity":      true,
	"x-amzn-mtls-clientcert-leaf":          true,
	"x-amzn-trace-id":                      true,
	"x-forwarded-port":                     true, // the listener port is chosen at start
}

// rawOrder sends orderRequest over TLS with the client certificate "valid"
// and returns the header block the raw-socket target received, values of
// the variable headers replaced by "<set>".
func rawOrder(t *testing.T, addr string, cfg *tls.Config) string {
	t.Helper()
	return rawOrders(t, addr, cfg, orderRequest)[0]
}

// rawOrders sends requests, pipelined on one connection, and returns what
// the target received for each.
func rawOrders(t *testing.T, addr string, cfg *tls.Config, requests ...string) []string {
	t.Helper()
	out, _ := rawOrdersBodies(t, addr, cfg, requests...)
	return out
}

// rawOrdersBodies is rawOrders, with the request bodies the target read.
func rawOrdersBodies(t *testing.T, addr string, cfg *tls.Config, requests ...string) ([]string, []string) {
	t.Helper()
	_, port, err := net.SplitHostPort(addr)
	require.NoError(t, err)
	c, err := tls.Dial("tcp", addr, cfg)
	require.NoError(t, err)
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	_, err = io.WriteString(c, strings.Join(requests, ""))
	require.NoError(t, err)
	br := bufio.NewReader(c)
	var out, bodies []string
	for range requests {
		resp, err := http.ReadResponse(br, nil)
		require.NoError(t, err)
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
		var v cgiView
		require.NoError(t, json.Unmarshal(body, &v), string(body))
		var b strings.Builder
		for _, line := range v.Lines {
			name, _, _ := strings.Cut(line, ":")
			switch {
			case variable[strings.ToLower(name)]:
				line = name + ": <set>"
			case name == "Host": // ALB's default Host carries the listener port
				line = strings.TrimSuffix(line, ":"+port) + ":<port>"
			}
			b.WriteString(line + "\n")
		}
		out = append(out, b.String())
		bodies = append(bodies, v.Body)
	}
	return out, bodies
}

// TestForwardedHeaderOrder is issue 15 item 1: the target receives ALB's
// order (X-Forwarded-For, -Proto, -Port, the mTLS headers, Host, the trace
// id, then the client's headers in the client's order), in verify and
// passthrough mode (alb-behaviour §4.1). The golden files hold the header
// lines as the raw-socket target read them.
func TestForwardedHeaderOrder(t *testing.T) {
	target := cgiTarget(t)
	srv, set, _ := startVariantsLB(t, "", target, "")
	leaf, ok := set.Client("valid")
	require.True(t, ok)
	cfg := &tls.Config{InsecureSkipVerify: true, Certificates: []tls.Certificate{leaf.TLSCertificate()}, NextProtos: []string{"http/1.1"}} //nolint:gosec // the server certificate is not under test
	ls := srv.Listeners()
	for _, tc := range []struct {
		name string
		addr net.Addr
	}{
		{"verify", ls[0].Addr},
		{"passthrough", ls[2].Addr},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := rawOrder(t, tc.addr.String(), cfg)
			golden.Assert(t, filepath.Join("testdata", "headerorder", tc.name+".txt"), got)
		})
	}
	// A request with a body goes through http.Transport, whose header
	// block is reordered on the way out; Content-Length stays where the
	// client put it.
	t.Run("with a body", func(t *testing.T) {
		req := "POST /order HTTP/1.1\r\nHost: app.example.com\r\nX-Zeta: z\r\nContent-Length: 5\r\n" +
			"Content-Type: text/plain\r\nX-Alpha: a\r\nConnection: close\r\n\r\nhello"
		got, bodies := rawOrdersBodies(t, ls[0].Addr.String(), cfg, req)
		golden.Assert(t, filepath.Join("testdata", "headerorder", "verify-body.txt"), got[0])
		require.Equal(t, "hello", bodies[0], "the body arrives untouched after the reordered block")
	})
	// Two requests pipelined on one connection, each in its own order:
	// the order is recorded per request.
	t.Run("keep-alive", func(t *testing.T) {
		first := strings.Replace(orderRequest, "Connection: close\r\n", "", 1)
		second := "GET /second HTTP/1.1\r\nX-Alpha: 1\r\nAccept-Language: en\r\nHost: app.example.com\r\nX-Zeta: 2\r\nConnection: close\r\n\r\n"
		got := rawOrders(t, ls[0].Addr.String(), cfg, first, second)
		golden.Assert(t, filepath.Join("testdata", "headerorder", "verify.txt"), got[0])
		golden.Assert(t, filepath.Join("testdata", "headerorder", "keep-alive-second.txt"), got[1])
	})
}

// TestForwardedHeaderOrderSorted: emulation.forwarded_header_order: sorted
// gives Go's order back (Host, User-Agent, the rest by name).
func TestForwardedHeaderOrderSorted(t *testing.T) {
	target := cgiTarget(t)
	srv, set, _ := startVariantsLB(t, "", target, ", forwarded_header_order: sorted")
	leaf, ok := set.Client("valid")
	require.True(t, ok)
	cfg := &tls.Config{InsecureSkipVerify: true, Certificates: []tls.Certificate{leaf.TLSCertificate()}, NextProtos: []string{"http/1.1"}} //nolint:gosec // the server certificate is not under test
	got := rawOrder(t, srv.Listeners()[0].Addr.String(), cfg)
	golden.Assert(t, filepath.Join("testdata", "headerorder", "sorted.txt"), got)
}

// tlsCGITarget is cgiTarget behind TLS (httptest's certificate; ALB does
// not verify target certificates).
func tlsCGITarget(t *testing.T) string {
	t.Helper()
	hs := httptest.NewUnstartedServer(nil)
	hs.StartTLS()
	cfg := hs.TLS.Clone()
	hs.Close()
	cfg.NextProtos = []string{"http/1.1"}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	require.NoError(t, err)
	serveEach(t, ln, serveCGI)
	return ln.Addr().String()
}

// TestForwardedHeaderOrderHTTPSTarget: an HTTPS target group goes through
// http.Transport; its header block is reordered too.
func TestForwardedHeaderOrderHTTPSTarget(t *testing.T) {
	target := tlsCGITarget(t)
	dir := pkitest.Dir(t)
	set, err := pki.Load(dir)
	require.NoError(t, err)
	text := strings.Replace(fmt.Sprintf(variantsConfig, "", target, ""),
		"health_check: {enabled: false}}]", "protocol: HTTPS, health_check: {enabled: false}}]", 1)
	srv := serveConfig(t, dir, []byte(text))
	leaf, ok := set.Client("valid")
	require.True(t, ok)
	cfg := &tls.Config{InsecureSkipVerify: true, Certificates: []tls.Certificate{leaf.TLSCertificate()}, NextProtos: []string{"http/1.1"}} //nolint:gosec // the server certificate is not under test
	got := rawOrder(t, srv.Listeners()[0].Addr.String(), cfg)
	golden.Assert(t, filepath.Join("testdata", "headerorder", "verify.txt"), got)
}
