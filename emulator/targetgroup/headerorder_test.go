package targetgroup

import (
	"bufio"
	"bytes"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestWriteOrderedMatchesRequestWrite: for the requests the synchronous
// path sends, writeOrdered writes what Request.Write writes, read back by
// net/http (method, URI, Host, every header value, Content-Length, close),
// only the order of the lines differs.
func TestWriteOrderedMatchesRequestWrite(t *testing.T) {
	mk := func(method, url string, h http.Header, mod func(*http.Request)) *http.Request {
		req, err := http.NewRequest(method, url, nil)
		require.NoError(t, err)
		req.Header = h
		if _, ok := h["User-Agent"]; !ok {
			h["User-Agent"] = []string{""} // as ReverseProxy leaves it
		}
		if mod != nil {
			mod(req)
		}
		return req
	}
	for name, req := range map[string]*http.Request{
		"get":               mk("GET", "http://10.0.0.1:8080/a/b?q=1&r=%20", http.Header{"X-Zeta": {"1"}, "Accept": {"*/*"}, "User-Agent": {"curl/8"}}, nil),
		"host":              mk("GET", "http://10.0.0.1:8080/", http.Header{}, func(r *http.Request) { r.Host = "app.example.com:443" }),
		"post-no-body":      mk("POST", "http://10.0.0.1:8080/p", http.Header{"X-A": {"1"}}, nil),
		"put-client-length": mk("PUT", "http://10.0.0.1:8080/p", http.Header{"Content-Length": {"0"}, "X-A": {"1"}}, nil),
		"head":              mk("HEAD", "http://10.0.0.1:8080/", http.Header{}, nil),
		"close":             mk("GET", "http://10.0.0.1:8080/", http.Header{}, func(r *http.Request) { r.Close = true }),
		"multi":             mk("GET", "http://10.0.0.1:8080/", http.Header{"Cookie": {"a=1", "b=2"}, "X-Crlf": {" bad\r\nX-Injected: 1 "}}, nil),
		"zone":              mk("GET", "http://[fe80::1%25eth0]:8080/", http.Header{}, nil),
		"invalid-name":      mk("GET", "http://10.0.0.1:8080/", http.Header{"Bad Name": {"x"}, "X-Ok": {"1"}}, nil),
	} {
		t.Run(name, func(t *testing.T) {
			var std, ord bytes.Buffer
			require.NoError(t, req.Write(&std))
			bw := bufio.NewWriter(&ord)
			order := HeaderOrder{Before: []string{"X-Zeta", "X-A"}, After: []string{"Cookie"}, Client: []string{"User-Agent", "Content-Length", "Missing"}}
			require.True(t, writeOrdered(bw, req, order))
			require.NoError(t, bw.Flush())
			a, err := http.ReadRequest(bufio.NewReader(&std))
			require.NoError(t, err, std.String())
			b, err := http.ReadRequest(bufio.NewReader(&ord))
			require.NoError(t, err, ord.String())
			assert.Equal(t, a.Method, b.Method)
			assert.Equal(t, a.RequestURI, b.RequestURI)
			assert.Equal(t, a.Host, b.Host)
			assert.Equal(t, a.ContentLength, b.ContentLength)
			assert.Equal(t, a.Close, b.Close)
			assert.Equal(t, a.Header, b.Header, "ordered:\n%s\nRequest.Write:\n%s", ord.String(), std.String())
		})
	}
}

// TestWriteOrderedOrder pins the order itself: Before, Host, After,
// Client, then the rest sorted, each name once.
func TestWriteOrderedOrder(t *testing.T) {
	req, err := http.NewRequest("GET", "http://10.0.0.1:8080/", nil)
	require.NoError(t, err)
	req.Host = "app.example.com"
	req.Header = http.Header{
		"X-Forwarded-For": {"1.2.3.4"}, "X-Amzn-Trace-Id": {"Root=1"}, "User-Agent": {"u"},
		"Accept": {"*/*"}, "X-Zeta": {"z"}, "X-Alpha": {"a"}, "Unlisted-B": {"b"}, "Unlisted-A": {"a"},
	}
	var out bytes.Buffer
	bw := bufio.NewWriter(&out)
	require.True(t, writeOrdered(bw, req, HeaderOrder{
		Before: []string{"X-Forwarded-For", "X-Forwarded-Proto"},
		After:  []string{"X-Amzn-Trace-Id"},
		Client: []string{"Host", "X-Zeta", "User-Agent", "X-Zeta", "Accept", "X-Alpha"},
	}))
	require.NoError(t, bw.Flush())
	assert.Equal(t, strings.Join([]string{
		"GET / HTTP/1.1", "X-Forwarded-For: 1.2.3.4", "Host: app.example.com", "X-Amzn-Trace-Id: Root=1",
		"X-Zeta: z", "User-Agent: u", "Accept: */*", "X-Alpha: a", "Unlisted-A: a", "Unlisted-B: b", "", "",
	}, "\r\n"), out.String())
}

// recConn records what is written to it.
type recConn struct {
	net.Conn
	buf bytes.Buffer
}

func (c *recConn) Write(p []byte) (int, error) { return c.buf.Write(p) }
func (c *recConn) String() string              { return c.buf.String() }

// TestOrderConn: an armed connection reorders the next header block,
// written in pieces, and passes the body and everything after it
// untouched; unarmed it passes everything through.
func TestOrderConn(t *testing.T) {
	block := "POST /p HTTP/1.1\r\nHost: h\r\nUser-Agent: u\r\nContent-Length: 4\r\nX-Amzn-Trace-Id: t\r\nX-B: 1\r\nX-B: 2\r\nX-Forwarded-For: f\r\n\r\n"
	body := "a\r\n\r" // looks like the end of a header block: not touched
	o := HeaderOrder{Before: []string{"X-Forwarded-For"}, After: []string{"X-Amzn-Trace-Id"}, Client: []string{"X-B", "Content-Length", "User-Agent"}}
	want := "POST /p HTTP/1.1\r\nX-Forwarded-For: f\r\nHost: h\r\nX-Amzn-Trace-Id: t\r\nX-B: 1\r\nX-B: 2\r\nContent-Length: 4\r\nUser-Agent: u\r\n\r\n"
	for _, step := range []int{1, 5, len(block) + len(body)} {
		rc := &recConn{}
		c := &orderConn{Conn: rc}
		c.arm(o)
		all := block + body
		for i := 0; i < len(all); i += step {
			n, err := c.Write([]byte(all[i:min(i+step, len(all))]))
			require.NoError(t, err)
			require.Equal(t, min(step, len(all)-i), n)
		}
		_, _ = c.Write([]byte(block)) // not armed again: as is
		assert.Equal(t, want+body+block, rc.String(), "step %d", step)
	}
	rc := &recConn{}
	_, _ = (&orderConn{Conn: rc}).Write([]byte(block))
	assert.Equal(t, block, rc.String(), "unarmed")
}

// TestWriteValueMatchesHeaderWrite pins writeValue to what http.Header.Write
// writes for the same value.
func TestWriteValueMatchesHeaderWrite(t *testing.T) {
	for _, v := range []string{
		"plain", "  padded\t", "a\r\nb", "\r\nlead", "trail\r\n", "\t \r\n", "", "in  side", "x\ny\rz",
		strings.Repeat("%2B%3D", 300),
	} {
		var want bytes.Buffer
		http.Header{"X": {v}}.Write(&want)
		var got bytes.Buffer
		w := bufio.NewWriter(&got)
		w.WriteString("X: ")
		writeValue(w, v)
		w.WriteString("\r\n")
		w.Flush()
		assert.Equal(t, want.String(), got.String(), "value %q", v)
	}
}
