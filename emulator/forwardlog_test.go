package emulator_test

import (
	"bufio"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/albmtls/albmtls/emulator/accesslog"
)

// rawTLSExchange sends raw bytes over a verified TLS connection with the
// named client certificate and returns the response.
func (l *lb) rawTLSExchange(client, raw string) (*http.Response, string) {
	l.t.Helper()
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", l.httpsAddr(), l.tlsConfig(client, tls.VersionTLS13))
	require.NoError(l.t, err)
	defer c.Close()
	require.NoError(l.t, c.SetDeadline(time.Now().Add(10*time.Second)))
	_, err = io.WriteString(c, raw)
	require.NoError(l.t, err)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	require.NoError(l.t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// lastRequest waits for the n-th access-log entry and returns it.
func (l *lb) lastRequest(n int) accesslog.Entry {
	l.t.Helper()
	require.Eventually(l.t, func() bool { return len(l.requests()) >= n }, 10*time.Second, 5*time.Millisecond, "access-log entries")
	reqs := l.requests()
	return reqs[len(reqs)-1]
}

// TestForwardFailureLogLines is issue 19 item 7 end to end: the access-log
// line of a malformed request body blames the client (400, no target), and
// a target that resets before any byte reached the client is logged as
// the 502 the client got, with the target's own status beside it.
func TestForwardFailureLogLines(t *testing.T) {
	target := rawEchoTargetResetting(t)
	l := startLB(t, params{Action: forwardWeb, Targets: []string{target}})

	resp, _ := l.rawTLSExchange("valid", "POST /upload HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n")
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	assert.Equal(t, "awselb/2.0", resp.Header.Get("Server"))
	e := l.lastRequest(1)
	assert.Equal(t, 400, e.ELBStatusCode)
	assert.Zero(t, e.TargetStatusCode, "target_status_code -")
	assert.False(t, e.Target.IsValid(), "target:port -")
	assert.Empty(t, e.TargetPortList)
	assert.Equal(t, accesslog.NotDispatched, e.RequestProcessingTime)
	assert.Equal(t, accesslog.NotDispatched, e.TargetProcessingTime)
	assert.Equal(t, accesslog.NotDispatched, e.ResponseProcessingTime)

	resp, _ = l.rawTLSExchange("valid", "GET /reset HTTP/1.1\r\nHost: localhost\r\n\r\n")
	assert.Equal(t, http.StatusBadGateway, resp.StatusCode, "the client got ALB's 502")
	assert.Empty(t, resp.Header.Get("X-Target"))
	e = l.lastRequest(2)
	assert.Equal(t, 502, e.ELBStatusCode, "logged as what the client got")
	assert.Equal(t, 200, e.TargetStatusCode)
	assert.True(t, e.Target.IsValid())
}

// rawEchoTargetResetting answers GET /reset with a status line, headers and
// a few body bytes of a longer response, then resets the connection; any
// other request it reads and drops.
func rawEchoTargetResetting(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				br := bufio.NewReader(c)
				req, err := http.ReadRequest(br)
				if err != nil {
					return
				}
				_, _ = io.Copy(io.Discard, req.Body)
				if req.URL.Path == "/reset" {
					_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\nX-Target: yes\r\n\r\npartial")
					time.Sleep(20 * time.Millisecond)
					_ = c.(*net.TCPConn).SetLinger(0)
				}
			}()
		}
	}()
	return ln.Addr().String()
}
