package albresponse

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// rawResponse is an HTTP/1.1 response as it crossed the wire.
type rawResponse struct {
	StatusLine string
	Headers    []string // "Name: value", in wire order
	Body       []byte
}

// header returns the first value of name, or "".
func (r rawResponse) header(name string) string {
	for _, h := range r.Headers {
		if k, v, ok := strings.Cut(h, ": "); ok && strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

// names lists the header names in wire order.
func (r rawResponse) names() []string {
	var out []string
	for _, h := range r.Headers {
		k, _, _ := strings.Cut(h, ":")
		out = append(out, k)
	}
	return out
}

var dateLine = regexp.MustCompile(`(?m)^Date: .*\r$`)

// wire renders the response with the Date masked, for golden files.
func (r rawResponse) wire() []byte {
	s := r.StatusLine + "\r\n" + strings.Join(r.Headers, "\r\n") + "\r\n\r\n" + string(r.Body)
	return []byte(dateLine.ReplaceAllString(s, "Date: <masked>\r"))
}

// dialRaw opens a plain TCP connection, or a TLS one trusting ts's
// certificate when ts serves TLS.
func dialRaw(t *testing.T, ts *httptest.Server) net.Conn {
	t.Helper()
	addr := ts.Listener.Addr().String()
	if ts.TLS == nil {
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		require.NoError(t, err)
		t.Cleanup(func() { c.Close() })
		return c
	}
	pool := x509.NewCertPool()
	pool.AddCert(ts.Certificate())
	c, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pool, ServerName: "example.com", NextProtos: []string{"http/1.1"}})
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}

// exchange writes req on c and reads one response.
func exchange(t *testing.T, c net.Conn, br *bufio.Reader, req string, head bool) rawResponse {
	t.Helper()
	require.NoError(t, c.SetDeadline(time.Now().Add(10*time.Second)))
	_, err := io.WriteString(c, req)
	require.NoError(t, err)
	return readRaw(t, br, head)
}

// readRaw reads one HTTP/1.1 response with a Content-Length body.
func readRaw(t *testing.T, br *bufio.Reader, head bool) rawResponse {
	t.Helper()
	var resp rawResponse
	line, err := br.ReadString('\n')
	require.NoError(t, err)
	resp.StatusLine = strings.TrimSuffix(line, "\r\n")
	for {
		line, err := br.ReadString('\n')
		require.NoError(t, err)
		line = strings.TrimSuffix(line, "\r\n")
		if line == "" {
			break
		}
		resp.Headers = append(resp.Headers, line)
	}
	if head {
		return resp
	}
	n, err := strconv.Atoi(resp.header("Content-Length"))
	require.NoError(t, err, "response without Content-Length: %v", resp.Headers)
	resp.Body = make([]byte, n)
	_, err = io.ReadFull(br, resp.Body)
	require.NoError(t, err)
	return resp
}

// expectClosed asserts that the server closed c after the response.
func expectClosed(t *testing.T, c net.Conn, br *bufio.Reader) {
	t.Helper()
	require.NoError(t, c.SetReadDeadline(time.Now().Add(5*time.Second)))
	_, err := br.ReadByte()
	require.ErrorIs(t, err, io.EOF, "connection should be closed after the response")
}

// handlerServer starts a server (TLS when tlsOn) whose handler is h, after
// applying configure to its http.Server.
func handlerServer(t *testing.T, h http.Handler, tlsOn, h2 bool, configure ...func(*http.Server)) *httptest.Server {
	t.Helper()
	ts := httptest.NewUnstartedServer(h)
	for _, f := range configure {
		f(ts.Config)
	}
	if tlsOn {
		ts.EnableHTTP2 = h2
		ts.StartTLS()
	} else {
		ts.Start()
	}
	t.Cleanup(ts.Close)
	return ts
}
