package emulator_test

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/albmtls/albmtls/emulator"
	"github.com/albmtls/albmtls/emulator/config"
	"github.com/albmtls/albmtls/pki/pkitest"
)

// TestBadClientsAreLoggedAndClosed: garbage bytes, a plain HTTP request and
// a client that stalls mid-handshake on the HTTPS port are each logged as
// one failed connection and closed; other clients are served meanwhile and
// no goroutine is left behind after shutdown.
func TestBadClientsAreLoggedAndClosed(t *testing.T) {
	before := runtime.NumGoroutine()
	func() {
		l := startLB(t, params{Emulation: "  handshake_timeout: 300ms\n"})
		addr := l.httpsAddr()
		send := func(payload string) {
			c, err := net.Dial("tcp", addr)
			require.NoError(t, err)
			defer c.Close()
			_, _ = c.Write([]byte(payload))
			_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
			_, _ = io.ReadAll(c) // returns when the emulator closes
		}
		n := l.connCount()
		send("\x16\x03\x01\x00\x05garbage that is not a ClientHello")
		send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		stalled, err := net.Dial("tcp", addr) // sends nothing: handshake timeout
		require.NoError(t, err)
		defer stalled.Close()
		assert.NoError(t, l.get("valid", tls.VersionTLS13, "/", nil).err, "a good client is served meanwhile")
		evs := l.connEvents(n + 4)
		failed := 0
		for _, ev := range evs[n:] {
			if ev.Entry.VerifyStatus == "Failed:UnmappedConnectionError" {
				failed++
				assert.NotEmpty(t, ev.Reason)
			}
		}
		assert.Equal(t, 3, failed, "garbage, plain HTTP and the stalled client")
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		require.NoError(t, l.srv.Shutdown(ctx)) // the cleanup's second call is a no-op
	}()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<20)
		t.Fatalf("%d goroutines before, %d after shutdown:\n%s", before, n, buf[:runtime.Stack(buf, true)])
	}
}

// TestStartupRefusals: configs ALB would refuse never start a server, and
// the error names ALB's error and the key path.
func TestStartupRefusals(t *testing.T) {
	dir := pkitest.Dir(t)
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
		return p
	}
	bundle, err := os.ReadFile(filepath.Join(dir, "ca/bundle.pem"))
	require.NoError(t, err)
	write("blank-line-bundle.pem", strings.Replace(string(bundle), "-----END CERTIFICATE-----\n", "-----END CERTIFICATE-----\n\n", 1))
	listener := `listeners:
  - port: 0
    protocol: HTTPS
    certificates: [{certificate: server/server.pem, private_key: server/server-key.pem}]
    mutual_authentication: {mode: verify, trust_store: ts}
    default_action: {type: fixed-response, fixed_response: {status_code: "200"}}
`
	cases := []struct {
		name, trustStore string
		want             []string
	}{
		{"DER CRL", "{name: ts, ca_certificates_bundle: ca/bundle.pem, revocations: [crl/intermediate.crl]}",
			[]string{"trust_stores[0]", "InvalidRevocationContent", "albmtls crl convert"}},
		{"blank line in bundle", "{name: ts, ca_certificates_bundle: blank-line-bundle.pem}",
			[]string{"trust_stores[0]", "InvalidCaCertificatesBundle", "blank"}},
		{"missing bundle", "{name: ts, ca_certificates_bundle: nope.pem}",
			[]string{"trust_stores[0]", "nope.pem"}},
		{"CRL from a CA outside the bundle", "{name: ts, ca_certificates_bundle: ca/untrusted-root.pem, revocations: [crl/intermediate.crl.pem]}",
			[]string{"trust_stores[0]", "InvalidRevocationContent"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			file := write("albmtls.yaml", "trust_stores: ["+tc.trustStore+"]\n"+listener)
			cfg, err := config.Load(file)
			require.NoError(t, err)
			_, err = emulator.New(cfg, emulator.Options{})
			require.Error(t, err)
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}

	t.Run("bad policy and attribute", func(t *testing.T) {
		file := write("albmtls.yaml", `listeners:
  - port: 0
    protocol: HTTPS
    ssl_policy: ELBSecurityPolicy-TLS13-1-2-2021-6
    certificates: [{certificate: server/server.pem, private_key: server/server-key.pem}]
    attributes: {routing.http.made_up.enabled: "true"}
    default_action: {type: fixed-response, fixed_response: {status_code: "200"}}
`)
		// Refused at load, in one list with every other static problem
		// (issue 12), rather than later by New.
		_, err := config.Load(file)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "albmtls.yaml:4: listeners[0].ssl_policy")
		assert.Contains(t, err.Error(), "ELBSecurityPolicy-TLS13-1-2-2021-06", "suggests the closest policy")
		assert.Contains(t, err.Error(), "listeners[0].attributes.routing.http.made_up.enabled")
	})

	t.Run("port in use leaves nothing bound", func(t *testing.T) {
		busy, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		defer busy.Close()
		_, port, _ := net.SplitHostPort(busy.Addr().String())
		free, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		_, freePort, _ := net.SplitHostPort(free.Addr().String())
		free.Close()
		file := write("albmtls.yaml", `listeners:
  - {port: `+freePort+`, protocol: HTTP, default_action: {type: fixed-response, fixed_response: {status_code: "200"}}}
  - {port: `+port+`, protocol: HTTP, default_action: {type: fixed-response, fixed_response: {status_code: "200"}}}
`)
		cfg, err := config.Load(file)
		require.NoError(t, err)
		srv, err := emulator.New(cfg, emulator.Options{})
		require.NoError(t, err)
		err = srv.Start(context.Background())
		require.Error(t, err)
		assert.Contains(t, err.Error(), "listeners[1].port")
		assert.Contains(t, err.Error(), "already in use")
		again, err := net.Listen("tcp", "127.0.0.1:"+freePort)
		require.NoError(t, err, "the first listener must have been released")
		again.Close()
	})
}
