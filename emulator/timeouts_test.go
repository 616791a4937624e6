package emulator_test

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/albmtls/albmtls/emulator"
	"github.com/albmtls/albmtls/pki"
	"github.com/albmtls/albmtls/pki/pkitest"
)

// timeoutConfig has a verify HTTPS listener and a plain HTTP listener, both
// answering with a fixed response, and the two timeouts under test.
const timeoutConfig = `load_balancer: {name: test-alb, account_id: "123456789012", region: eu-west-1, idle_timeout: %s}
trust_stores:
  - name: ts
    ca_certificates_bundle: ca/bundle.pem
listeners:
  - port: 0
    protocol: HTTPS
    certificates: [{certificate: server/server.pem, private_key: server/server-key.pem}]
    mutual_authentication: {mode: verify, trust_store: ts}
    default_action: {type: fixed-response, fixed_response: {status_code: "200", content_type: text/plain, message_body: ok}}
  - port: 0
    protocol: HTTP
    default_action: {type: fixed-response, fixed_response: {status_code: "200", content_type: text/plain, message_body: ok}}
emulation:
  watch_interval: 0s
  request_header_timeout: %s
`

type timeoutLB struct {
	srv *emulator.Server
	set *pki.Set
}

func startTimeoutLB(t *testing.T, idle, header string) *timeoutLB {
	t.Helper()
	dir := pkitest.Dir(t)
	set, err := pki.Load(dir)
	require.NoError(t, err)
	srv := serveConfig(t, dir, fmt.Appendf(nil, timeoutConfig, idle, header))
	return &timeoutLB{srv: srv, set: set}
}

// dial opens a connection to listener i; for HTTPS it completes a verified
// handshake with the "valid" client certificate first.
func (l *timeoutLB) dial(t *testing.T, i int) net.Conn {
	t.Helper()
	a := l.srv.Listeners()[i]
	c, err := net.Dial("tcp", a.Addr.String())
	require.NoError(t, err)
	if a.Protocol != "HTTPS" {
		return c
	}
	leaf, ok := l.set.Client("valid")
	require.True(t, ok)
	roots := x509.NewCertPool()
	require.True(t, roots.AppendCertsFromPEM(l.set.Bundle()))
	tc := tls.Client(c, &tls.Config{RootCAs: roots, ServerName: "localhost", NextProtos: []string{"http/1.1"},
		Certificates: []tls.Certificate{leaf.TLSCertificate()}})
	require.NoError(t, tc.Handshake())
	return tc
}

// closedWithin reads from c until the server closes it; it fails the test
// if that takes longer than bound (the connection was held).
func closedWithin(t *testing.T, c net.Conn, bound time.Duration, what string) {
	t.Helper()
	if err := waitClosed(c, bound, what); err != nil {
		t.Fatal(err)
	}
}

func waitClosed(c net.Conn, bound time.Duration, what string) error {
	_ = c.SetReadDeadline(time.Now().Add(bound))
	_, err := io.Copy(io.Discard, c)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return fmt.Errorf("%s: the connection was still open after %s", what, bound)
	}
	return nil
}

// TestSilentConnectionClosedAtIdleTimeout: a client that completes the
// handshake (or connects, on HTTP) and never sends a request is closed
// once the load balancer's idle timeout passes (ALB: "no data being sent
// or received"), even with a long header timeout.
func TestSilentConnectionClosedAtIdleTimeout(t *testing.T) {
	l := startTimeoutLB(t, "1", "1h")
	for i, name := range []string{"HTTPS", "HTTP"} {
		t.Run(name, func(t *testing.T) {
			c := l.dial(t, i)
			defer c.Close()
			closedWithin(t, c, 20*time.Second, "silent "+name+" connection")
		})
	}
}

// TestTrickledHeadersClosedAtHeaderTimeout: a client that keeps sending
// header bytes slowly resets the idle timeout forever; the header timeout
// bounds it.
func TestTrickledHeadersClosedAtHeaderTimeout(t *testing.T) {
	l := startTimeoutLB(t, "60", "1s")
	for i, name := range []string{"HTTPS", "HTTP"} {
		t.Run(name, func(t *testing.T) {
			c := l.dial(t, i)
			defer c.Close()
			closed := make(chan struct{})
			var held error
			go func() {
				defer close(closed)
				held = waitClosed(c, 20*time.Second, "trickling "+name+" connection")
			}()
			defer func() {
				if held != nil {
					t.Error(held)
				}
			}()
			req := "GET / HTTP/1.1\r\nHost: localhost\r\nX-Slow: " + strings.Repeat("a", 200)
			for _, b := range []byte(req) {
				select {
				case <-closed:
					return
				case <-time.After(100 * time.Millisecond):
				}
				if _, err := c.Write([]byte{b}); err != nil {
					<-closed
					return
				}
			}
			<-closed
		})
	}
}

// TestHeldConnectionsReleaseGoroutines: silent connections cost goroutines
// and memory only until the timeouts close them.
func TestHeldConnectionsReleaseGoroutines(t *testing.T) {
	l := startTimeoutLB(t, "1", "1s")
	time.Sleep(100 * time.Millisecond)
	base := runtime.NumGoroutine()
	var conns []net.Conn
	for range 20 {
		for i := range 2 {
			conns = append(conns, l.dial(t, i))
		}
	}
	for _, c := range conns {
		closedWithin(t, c, 20*time.Second, "silent connection")
		c.Close()
	}
	deadline := time.Now().Add(20 * time.Second)
	for runtime.NumGoroutine() > base+2 {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("goroutines: %d, baseline %d\n%s", runtime.NumGoroutine(), base, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(20 * time.Millisecond)
	}
}
