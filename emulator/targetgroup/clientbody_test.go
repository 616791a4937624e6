package targetgroup

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/albmtls/albmtls/emulator/albresponse"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// rawExchange writes raw bytes to the front on a new connection, half-closes
// it when closeWrite is set, and returns the response the front sent
// (nil if none).
func (f *front) rawExchange(t *testing.T, raw string, closeWrite bool) (*http.Response, string) {
	t.Helper()
	c, err := net.DialTimeout("tcp", f.srv.Listener.Addr().String(), 5*time.Second)
	require.NoError(t, err)
	defer c.Close()
	require.NoError(t, c.SetDeadline(time.Now().Add(10*time.Second)))
	_, err = io.WriteString(c, raw)
	require.NoError(t, err)
	if closeWrite {
		require.NoError(t, c.(*net.TCPConn).CloseWrite())
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return nil, ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// TestMalformedRequestBody: a chunked request body that breaks the chunked
// syntax is the client's fault: ALB's 400 page (not a 502 blamed on the
// target), elb_status_code 400, no target status, -1 times (issue 19 item
// 7). A client that stops mid-body and leaves is a 460.
func TestMalformedRequestBody(t *testing.T) {
	for _, tc := range []struct {
		name       string
		raw        string
		closeWrite bool
		code       int
		failure    Failure
	}{
		{"bad chunk size", "POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n", false, 400, FailureMalformedRequest},
		{"chunk data overruns its size", "POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhello\r\n0\r\n\r\n", false, 400, FailureMalformedRequest},
		{"client leaves mid-body", "POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel", true, StatusClientClosed, FailureClientClosed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := newBackend(t, "a")
			g := startGroup(t, Config{Targets: []string{a.addr()}, HealthCheck: noHealth(), LogErrorReason: true})
			f := newFront(t, g, false, nil)
			resp, body := f.rawExchange(t, tc.raw, tc.closeWrite)
			out := f.last(t)
			assert.Equal(t, tc.code, out.ELBStatus)
			assert.Equal(t, tc.failure, out.Failure)
			assert.Equal(t, string(tc.failure), out.ErrorReason)
			assert.Zero(t, out.TargetStatus, "the target sent nothing")
			assert.Empty(t, out.Target, "the client is blamed, not the target")
			assert.Nil(t, out.TargetList)
			assert.Equal(t, time.Duration(-1), out.RequestTime)
			assert.Equal(t, time.Duration(-1), out.TargetTime)
			assert.Equal(t, time.Duration(-1), out.ResponseTime)
			if tc.code != 400 {
				return
			}
			require.NotNil(t, resp, "a response")
			_, page := albresponse.Page(400)
			assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
			assert.Equal(t, "awselb/2.0", resp.Header.Get("Server"))
			assert.True(t, resp.Close, "Connection: close, as observed for ALB's 400")
			assert.Equal(t, string(page), body)
		})
	}
}
