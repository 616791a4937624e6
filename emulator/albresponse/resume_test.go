package albresponse

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type connTagKey struct{}

// TestResumeKeepsConnContext: after an ALB-generated response the
// connection is served again with the values the server's ConnContext
// attached to it (the emulator keeps its TLS record there), and a request
// forwarded after it works normally.
func TestResumeKeepsConnContext(t *testing.T) {
	ts := handlerServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tag, _ := r.Context().Value(connTagKey{}).(string)
		if r.URL.Path == "/fixed" {
			WriteFixed(w, r, FixedResponseConfig{StatusCode: "200", ContentType: "text/plain", MessageBody: tag}, ResponseOptions{})
			return
		}
		w.Header().Set("X-Tag", tag)
		_, _ = io.WriteString(w, "from handler")
	}), true, false, func(s *http.Server) {
		s.ConnContext = func(ctx context.Context, c net.Conn) context.Context {
			return context.WithValue(ctx, connTagKey{}, "conn-"+c.RemoteAddr().String())
		}
	})
	c := dialRaw(t, ts)
	br := bufio.NewReader(c)
	tag := "conn-" + c.LocalAddr().String()
	for i := range 3 {
		resp := exchange(t, c, br, "GET /fixed HTTP/1.1\r\nHost: example.com\r\n\r\n", false)
		assert.Equal(t, tag, string(resp.Body), "fixed response %d", i)
		resp = exchange(t, c, br, "GET /other HTTP/1.1\r\nHost: example.com\r\n\r\n", true)
		assert.Equal(t, tag, resp.header("X-Tag"), "handler response %d", i)
		// net/http's own response: chunked or with a length; read it whole.
		n := 0
		_, err := fmt.Sscan(resp.header("Content-Length"), &n)
		require.NoError(t, err)
		_, err = io.ReadFull(br, make([]byte, n))
		require.NoError(t, err)
	}
}

// TestResumeCloses lists when ALB-generated responses close the connection
// instead: the client asked for it, spoke HTTP/1.0, or left a body too
// long to discard; a short body is discarded and the connection kept.
func TestResumeCloses(t *testing.T) {
	long := strings.Repeat("x", maxDrainBody+1)
	for _, tc := range []struct {
		name   string
		req    string
		closed bool
	}{
		{"client close", "GET / HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n", true},
		{"http/1.0", "GET / HTTP/1.0\r\nHost: example.com\r\n\r\n", true},
		{"long body", fmt.Sprintf("POST / HTTP/1.1\r\nHost: example.com\r\nContent-Length: %d\r\n\r\n%s", len(long), long), true},
		{"short body", "POST / HTTP/1.1\r\nHost: example.com\r\nContent-Length: 5\r\n\r\nhello", false},
		{"chunked body", "POST / HTTP/1.1\r\nHost: example.com\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, dial := errorServer(t, 503, ResponseOptions{}, false)
			br, c := dial()
			go func() { _, _ = io.WriteString(c, tc.req) }()
			require.NoError(t, c.SetDeadline(time.Now().Add(10*time.Second)))
			resp := readRaw(t, br, false)
			assert.Equal(t, "HTTP/1.1 503 Service Temporarily Unavailable", resp.StatusLine)
			if tc.closed {
				assert.Equal(t, "close", resp.header("Connection"))
				expectClosed(t, c, br)
				return
			}
			assert.Equal(t, "keep-alive", resp.header("Connection"))
			again := exchange(t, c, br, getReq, false)
			assert.Equal(t, resp.StatusLine, again.StatusLine)
		})
	}
}

// TestResumeShutdown: shutting the server down also closes the idle
// connections it resumed.
func TestResumeShutdown(t *testing.T) {
	ts := handlerServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		WriteError(w, r, 503, ResponseOptions{})
	}), false, false)
	c := dialRaw(t, ts)
	br := bufio.NewReader(c)
	resp := exchange(t, c, br, getReq, false)
	require.Equal(t, "keep-alive", resp.header("Connection"))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	require.NoError(t, ts.Config.Shutdown(ctx))
	expectClosed(t, c, br)
}
