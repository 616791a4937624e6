package albresponse

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// limitsServer serves "ok" behind Limits and records rejections.
func limitsServer(t *testing.T, tlsOn, h2 bool) (s *httptest.Server, dial func() (*bufio.Reader, func(string) rawResponse), rejects func() []string) {
	t.Helper()
	var mu sync.Mutex
	var reasons []string
	h := Limits(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "ok")
	}), LimitOptions{OnReject: func(r *http.Request, reason string) {
		mu.Lock()
		defer mu.Unlock()
		reasons = append(reasons, reason)
	}})
	s = handlerServer(t, h, tlsOn, h2, func(srv *http.Server) { srv.MaxHeaderBytes = ServerMaxHeaderBytes })
	dial = func() (*bufio.Reader, func(string) rawResponse) {
		c := dialRaw(t, s)
		br := bufio.NewReader(c)
		return br, func(req string) rawResponse { return exchange(t, c, br, req, false) }
	}
	rejects = func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), reasons...)
	}
	return s, dial, rejects
}

func TestLimitsHTTP1(t *testing.T) {
	big := func(n int) string { return strings.Repeat("a", n) }
	for _, tc := range []struct {
		name   string
		req    string
		reject string // "" means the request passes
	}{
		{"small", "GET / HTTP/1.1\r\nHost: h\r\n\r\n", ""},
		// "X-Big: " + value: 7 + 16377 = 16384 bytes exactly.
		{"header at 16K", "GET / HTTP/1.1\r\nHost: h\r\nX-Big: " + big(16377) + "\r\n\r\n", ""},
		{"header at 16K+1", "GET / HTTP/1.1\r\nHost: h\r\nX-Big: " + big(16378) + "\r\n\r\n", "header X-Big of 16385 bytes exceeds 16384"},
		// "GET /" + path + " HTTP/1.1": 5 + n + 9.
		{"request line at 16K", "GET /" + big(16384-14) + " HTTP/1.1\r\nHost: h\r\n\r\n", ""},
		{"request line at 16K+1", "GET /" + big(16384-13) + " HTTP/1.1\r\nHost: h\r\n\r\n", "request line of 16385 bytes exceeds 16384"},
		{"total over 64K", "GET / HTTP/1.1\r\nHost: h\r\n" + strings.Repeat("X-Part: "+big(15000)+"\r\n", 5) + "\r\n", "request headers of"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, dial, rejects := limitsServer(t, false, false)
			br, do := dial()
			resp := do(tc.req)
			if tc.reject == "" {
				assert.Equal(t, "HTTP/1.1 200 OK", resp.StatusLine)
				assert.Equal(t, "ok", string(resp.Body))
				assert.Empty(t, rejects())
				return
			}
			assert.Equal(t, "HTTP/1.1 400 Bad Request", resp.StatusLine)
			assert.Equal(t, "awselb/2.0", resp.header("Server"))
			assert.Equal(t, "close", resp.header("Connection"))
			_, page := Page(400)
			assert.Equal(t, string(page), string(resp.Body))
			require.Len(t, rejects(), 1)
			assert.Contains(t, rejects()[0], tc.reject)
			_, err := br.ReadByte()
			assert.ErrorIs(t, err, io.EOF)
		})
	}
}

// TestLimitsHTTP2 sends the same oversized header over HTTP/2, where Go
// would otherwise answer 431 when past its own limit.
func TestLimitsHTTP2(t *testing.T) {
	s, _, rejects := limitsServer(t, true, true)
	url, client := s.URL, s.Client()
	for _, tc := range []struct {
		size int
		code int
	}{{16377, 200}, {16378, 400}} {
		t.Run(fmt.Sprint(tc.size), func(t *testing.T) {
			req, err := http.NewRequest(http.MethodGet, url, nil)
			require.NoError(t, err)
			req.Header.Set("X-Big", strings.Repeat("a", tc.size))
			resp, err := client.Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			assert.Equal(t, 2, resp.ProtoMajor)
			assert.Equal(t, tc.code, resp.StatusCode)
			body, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			if tc.code == 400 {
				_, page := Page(400)
				assert.Equal(t, page, body)
				assert.Equal(t, "awselb/2.0", resp.Header.Get("Server"))
			}
		})
	}
	assert.Len(t, rejects(), 1)
}
