package albresponse

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func errorServer(t *testing.T, code int, opts ResponseOptions, tlsOn bool) (*httptest.Server, func() (*bufio.Reader, net.Conn)) {
	t.Helper()
	ts := handlerServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		WriteError(w, r, code, opts)
	}), tlsOn, false)
	return ts, func() (*bufio.Reader, net.Conn) {
		c := dialRaw(t, ts)
		return bufio.NewReader(c), c
	}
}

const getReq = "GET /x HTTP/1.1\r\nHost: example.com\r\n\r\n"

// TestWriteErrorStatusLine reads ALB's status line off a raw TCP and a raw
// TLS connection: net/http alone would write "503 Service Unavailable".
func TestWriteErrorStatusLine(t *testing.T) {
	for _, tc := range []struct {
		code       int
		statusLine string
		closed     bool // the server closes the connection after the page
	}{
		{503, "HTTP/1.1 503 Service Temporarily Unavailable", false},
		{504, "HTTP/1.1 504 Gateway Time-out", false},
		{463, "HTTP/1.1 463 ", false},
		{502, "HTTP/1.1 502 Bad Gateway", false},
		{400, "HTTP/1.1 400 Bad Request", true},
		{403, "HTTP/1.1 403 Forbidden", false},
	} {
		for _, tlsOn := range []bool{false, true} {
			t.Run(fmt.Sprintf("%d/tls=%v", tc.code, tlsOn), func(t *testing.T) {
				_, dial := errorServer(t, tc.code, ResponseOptions{}, tlsOn)
				br, c := dial()
				resp := exchange(t, c, br, getReq, false)
				assert.Equal(t, tc.statusLine, resp.StatusLine)
				assert.Equal(t, "awselb/2.0", resp.header("Server"))
				assert.Equal(t, "text/html", resp.header("Content-Type"))
				_, page := Page(tc.code)
				assert.Equal(t, string(page), string(resp.Body))
				assert.Equal(t, fmt.Sprint(len(page)), resp.header("Content-Length"))
				if tc.closed {
					assert.Equal(t, "close", resp.header("Connection"))
					expectClosed(t, c, br)
					return
				}
				// Still usable: a second request on the same connection.
				again := exchange(t, c, br, getReq, false)
				assert.Equal(t, tc.statusLine, again.StatusLine)
			})
		}
	}
}

func TestWriteErrorOptions(t *testing.T) {
	t.Run("server header disabled", func(t *testing.T) {
		for _, code := range []int{503, 502} { // hijacked and net/http paths
			_, dial := errorServer(t, code, ResponseOptions{DisableServerHeader: true}, false)
			br, c := dial()
			resp := exchange(t, c, br, getReq, false)
			assert.NotContains(t, resp.names(), "Server")
		}
	})
	t.Run("standard reason phrase keeps the connection", func(t *testing.T) {
		_, dial := errorServer(t, 503, ResponseOptions{StandardReasonPhrase: true}, false)
		br, c := dial()
		resp := exchange(t, c, br, getReq, false)
		assert.Equal(t, "HTTP/1.1 503 Service Unavailable", resp.StatusLine)
		assert.Len(t, resp.Body, 162, "the page keeps ALB's phrase")
		again := exchange(t, c, br, getReq, false)
		assert.Equal(t, "HTTP/1.1 503 Service Unavailable", again.StatusLine)
	})
	t.Run("reason override", func(t *testing.T) {
		_, dial := errorServer(t, 463, ResponseOptions{Reasons: map[int]string{463: "Too Many Forwarded"}}, false)
		br, c := dial()
		resp := exchange(t, c, br, getReq, false)
		assert.Equal(t, "HTTP/1.1 463 Too Many Forwarded", resp.StatusLine)
	})
}

// TestWriteErrorKeepsCallerHeaders: headers the listener already set (e.g.
// response header modification) survive the hijacked write.
func TestWriteErrorKeepsCallerHeaders(t *testing.T) {
	ts := handlerServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Strict-Transport-Security", "max-age=300")
		WriteError(w, r, 503, ResponseOptions{})
	}), false, false)
	c := dialRaw(t, ts)
	br := bufio.NewReader(c)
	resp := exchange(t, c, br, getReq, false)
	assert.Equal(t, "max-age=300", resp.header("Strict-Transport-Security"))
}

func TestWriteErrorHead(t *testing.T) {
	_, dial := errorServer(t, 503, ResponseOptions{}, false)
	br, c := dial()
	resp := exchange(t, c, br, "HEAD / HTTP/1.1\r\nHost: example.com\r\n\r\n", true)
	assert.Equal(t, "162", resp.header("Content-Length"))
	// No body bytes: the next bytes are the answer to the next request.
	again := exchange(t, c, br, getReq, false)
	assert.Equal(t, "HTTP/1.1 503 Service Temporarily Unavailable", again.StatusLine)
	assert.Len(t, again.Body, 162)
}

// TestWriteErrorUnreadBody: a client still uploading when ALB answers reads
// the whole page rather than a TCP reset.
func TestWriteErrorUnreadBody(t *testing.T) {
	_, dial := errorServer(t, 503, ResponseOptions{}, false)
	br, c := dial()
	body := strings.Repeat("x", 256<<10)
	go func() {
		_, _ = io.WriteString(c, fmt.Sprintf("POST / HTTP/1.1\r\nHost: example.com\r\nContent-Length: %d\r\n\r\n%s", len(body), body))
	}()
	resp := readRaw(t, br, false)
	assert.Equal(t, "HTTP/1.1 503 Service Temporarily Unavailable", resp.StatusLine)
	assert.Len(t, resp.Body, 162)
}

// TestWriteErrorHTTP2: HTTP/2 has no reason phrase; headers and body match.
func TestWriteErrorHTTP2(t *testing.T) {
	ts := handlerServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		WriteError(w, r, 503, ResponseOptions{})
	}), true, true)
	resp, err := ts.Client().Get(ts.URL)
	require.NoError(t, err)
	defer resp.Body.Close()
	assert.Equal(t, 2, resp.ProtoMajor)
	assert.Equal(t, 503, resp.StatusCode)
	assert.Equal(t, "awselb/2.0", resp.Header.Get("Server"))
	assert.Equal(t, "text/html", resp.Header.Get("Content-Type"))
	assert.Equal(t, int64(162), resp.ContentLength)
	got, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	_, page := Page(503)
	assert.Equal(t, page, got)
}
