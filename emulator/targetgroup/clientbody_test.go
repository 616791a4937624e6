package targetgroup

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
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
			assert.False(t, out.Target().IsValid(), "the client is blamed, not the target")
			assert.Nil(t, out.Attempts)
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

// TestRequestTrailersDropped: request trailers are not forwarded, and
// neither is their Trailer declaration (issue 19 item 7: the declaration
// reached the target while the trailers did not). A trailer could carry
// a header the emulator owns past its header rules, so both go.
func TestRequestTrailersDropped(t *testing.T) {
	got := make(chan string, 1)
	target := rawTarget(t, func(c net.Conn) {
		var raw strings.Builder // the exact bytes the target read
		br := bufio.NewReader(io.TeeReader(c, &raw))
		req, err := http.ReadRequest(br)
		if err != nil {
			got <- "error: " + err.Error()
			return
		}
		body, _ := io.ReadAll(req.Body)
		got <- raw.String()[:raw.Len()-br.Buffered()] + "\nbody=" + string(body)
		_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
	})
	g := startGroup(t, Config{Targets: []string{target}, HealthCheck: noHealth()})
	f := newFront(t, g, false, nil)
	resp, _ := f.rawExchange(t, "POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"+
		"Trailer: X-Checksum, X-Amzn-Mtls-Clientcert-Subject\r\n\r\n"+
		"5\r\nhello\r\n0\r\nX-Checksum: abc\r\nX-Amzn-Mtls-Clientcert-Subject: CN=admin\r\n\r\n", false)
	require.NotNil(t, resp)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	var seen string
	select {
	case seen = <-got:
	case <-time.After(10 * time.Second):
		t.Fatal("the target got no request")
	}
	assert.Contains(t, seen, "body=hello")
	assert.NotContains(t, seen, "Trailer:", "no trailer declaration without the trailers")
	assert.NotContains(t, seen, "X-Checksum")
	assert.NotContains(t, seen, "CN=admin")
	assert.Equal(t, FailureNone, f.last(t).Failure)
}
