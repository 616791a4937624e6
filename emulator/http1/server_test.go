package http1

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/albmtls/albmtls/emulator/desync"
	"github.com/albmtls/albmtls/pki/pkitest"
)

// seen is what the handler saw of one request.
type seen struct {
	method, path, host string
	header             http.Header
	body               string
	bodyErr            bool
	chunked            bool
}

// tlsServer serves s over real TLS on 127.0.0.1 with the standard test
// PKI's server certificate, the handler recording each request.
type tlsServer struct {
	srv  *Server
	addr string
	pool *x509.CertPool
	mu   sync.Mutex
	reqs []seen
}

func startTLS(t *testing.T, mode desync.Mode, handler http.HandlerFunc) *tlsServer {
	t.Helper()
	return startTLSRecording(t, mode, handler, nil)
}

// startTLSRecording is startTLS with each connection's heads pushed to
// heads (ServeConnRecording); configure, when given, changes the Server
// before it serves (the timeouts).
func startTLSRecording(t *testing.T, mode desync.Mode, handler http.HandlerFunc, heads HeadRecorder, configure ...func(*Server)) *tlsServer {
	t.Helper()
	set := pkitest.Standard(t)
	ts := &tlsServer{pool: x509.NewCertPool()}
	ts.pool.AddCert(set.Root.Cert)
	ts.pool.AddCert(set.Intermediate.Cert)
	record := func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		ts.mu.Lock()
		ts.reqs = append(ts.reqs, seen{r.Method, r.URL.Path, r.Host, r.Header.Clone(), string(b), err != nil, len(r.TransferEncoding) > 0})
		ts.mu.Unlock()
		if err != nil {
			w.Header().Set("Connection", "close")
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		if handler != nil {
			handler(w, r)
			return
		}
		_, _ = io.WriteString(w, "ok "+r.URL.Path)
	}
	ts.srv = &Server{Handler: http.HandlerFunc(record), IdleTimeout: 2 * time.Second, ReadHeaderTimeout: 2 * time.Second,
		MaxHeaderBytes: 16 << 10, Desync: mode}
	for _, f := range configure {
		f(ts.srv)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{set.Server.TLSCertificate()}, NextProtos: []string{"http/1.1"}})
	require.NoError(t, err)
	ts.addr = ln.Addr().String()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go ts.srv.ServeConnRecording(context.Background(), c, heads)
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		ts.srv.Close()
	})
	return ts
}

func (ts *tlsServer) seen() []seen {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return append([]seen(nil), ts.reqs...)
}

// exchange writes raw on a fresh TLS connection and reads responses until
// the server closes it or goes quiet; it returns their statuses and
// whether the connection was closed.
func (ts *tlsServer) exchange(t *testing.T, raw string) (statuses []int, bodies []string, closed bool) {
	t.Helper()
	c, err := tls.Dial("tcp", ts.addr, &tls.Config{RootCAs: ts.pool, ServerName: "localhost"})
	require.NoError(t, err)
	defer c.Close()
	_, err = io.WriteString(c, raw)
	require.NoError(t, err)
	br := bufio.NewReader(c)
	for {
		_ = c.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			var ne net.Error
			if errorsAs(err, &ne) && ne.Timeout() {
				return statuses, bodies, false
			}
			return statuses, bodies, true
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		statuses = append(statuses, resp.StatusCode)
		bodies = append(bodies, string(b))
		if resp.Close {
			_, err := br.ReadByte()
			return statuses, bodies, err != nil
		}
	}
}

func errorsAs(err error, ne *net.Error) bool {
	v, ok := err.(net.Error)
	if ok {
		*ne = v
	}
	return ok
}

func TestKeepAliveAndBodies(t *testing.T) {
	ts := startTLS(t, desync.Defensive, nil)
	raw := "GET /a HTTP/1.1\r\nHost: x\r\n\r\n" +
		"POST /cl HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello" +
		"POST /chunked HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;ext=1\r\nde\r\n0\r\nTrailer: x\r\n\r\n" +
		"GET /last HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
	statuses, bodies, closed := ts.exchange(t, raw)
	assert.Equal(t, []int{200, 200, 200, 200}, statuses)
	assert.Equal(t, []string{"ok /a", "ok /cl", "ok /chunked", "ok /last"}, bodies)
	assert.True(t, closed, "Connection: close ends the connection")
	s := ts.seen()
	require.Len(t, s, 4)
	assert.Equal(t, "hello", s[1].body)
	assert.Equal(t, "abcde", s[2].body)
	assert.True(t, s[2].chunked)
	assert.Equal(t, "x", s[0].host)
	assert.NotContains(t, s[0].header, "Host", "Host is the request's Host, not a header (as net/http)")
}

func TestStreamedResponse(t *testing.T) {
	big := strings.Repeat("z", 100<<10)
	ts := startTLS(t, desync.Defensive, func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i < 100; i++ {
			_, _ = io.WriteString(w, big[:1<<10])
		}
	})
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ts.pool, ServerName: "localhost"}}}
	defer c.CloseIdleConnections()
	for i := 0; i < 3; i++ {
		resp, err := c.Get("https://" + ts.addr + "/big")
		require.NoError(t, err)
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.NoError(t, err)
		assert.Equal(t, big, string(b))
		assert.Equal(t, []string{"chunked"}, resp.TransferEncoding, "a long response without a length is chunked")
	}
}

// TestSmuggling sends the request-smuggling shapes on real TLS connections
// and checks what the parser hands on and what the client gets
// (docs/desync.md): no smuggled request ever reaches the handler inside
// or after a request the parser cannot frame.
func TestSmuggling(t *testing.T) {
	const smuggled = "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"
	cases := []struct {
		name     string
		mode     desync.Mode
		raw      string
		statuses []int
		closed   bool
		paths    []string
		check    func(t *testing.T, s []seen)
	}{
		{name: "CL and TE: chunked frames the body, Content-Length is dropped", mode: desync.Monitor,
			raw:      "POST /clte HTTP/1.1\r\nHost: x\r\nContent-Length: 50\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + smuggled,
			statuses: []int{200, 200}, paths: []string{"/clte", "/smuggled"},
			check: func(t *testing.T, s []seen) {
				assert.Empty(t, s[0].body)
				assert.NotContains(t, s[0].header, "Content-Length")
			}},
		{name: "differing Content-Length, monitor: refused here", mode: desync.Monitor,
			raw:      "POST /multi HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 30\r\n\r\nabc" + smuggled,
			statuses: []int{400}, closed: true},
		{name: "differing Content-Length, defensive: to the handler with no body", mode: desync.Defensive,
			raw:      "POST /multi HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 30\r\n\r\nabc" + smuggled,
			statuses: []int{200}, closed: true, paths: []string{"/multi"},
			check: func(t *testing.T, s []seen) { assert.Empty(t, s[0].body) }},
		{name: "duplicate equal Content-Length", mode: desync.Defensive,
			raw:      "POST /dup HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc",
			statuses: []int{200}, paths: []string{"/dup"},
			check: func(t *testing.T, s []seen) { assert.Equal(t, "abc", s[0].body) }},
		{name: "Content-Length list", mode: desync.Monitor,
			raw:      "POST /list HTTP/1.1\r\nHost: x\r\nContent-Length: 4, 4\r\n\r\nabcd",
			statuses: []int{400}, closed: true},
		{name: "obs-fold joined with a space", mode: desync.Defensive,
			raw:      "GET /fold HTTP/1.1\r\nHost: x\r\nX-A: one\r\n two\r\n\r\n",
			statuses: []int{200}, paths: []string{"/fold"},
			check: func(t *testing.T, s []seen) { assert.Equal(t, "one two", s[0].header.Get("X-A")) }},
		{name: "obs-fold hiding Transfer-Encoding", mode: desync.Defensive,
			raw:      "POST /fold-te HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nX-A: a\r\n Transfer-Encoding: chunked\r\n\r\nabc",
			statuses: []int{200}, paths: []string{"/fold-te"},
			check: func(t *testing.T, s []seen) { assert.Equal(t, "abc", s[0].body); assert.False(t, s[0].chunked) }},
		{name: "bare LF line ends", mode: desync.Defensive,
			raw:      "GET /lf HTTP/1.1\nHost: x\n\n",
			statuses: []int{200}, paths: []string{"/lf"}},
		{name: "invalid chunk size", mode: desync.Monitor,
			raw:      "POST /badchunk HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n" + smuggled,
			statuses: []int{400}, closed: true, paths: []string{"/badchunk"},
			check: func(t *testing.T, s []seen) { assert.True(t, s[0].bodyErr) }},
		{name: "chunk size overflow", mode: desync.Monitor,
			raw:      "POST /overflow HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000003\r\nabc\r\n0\r\n\r\n" + smuggled,
			statuses: []int{400}, closed: true, paths: []string{"/overflow"},
			check: func(t *testing.T, s []seen) { assert.True(t, s[0].bodyErr) }},
		{name: "unknown transfer coding", mode: desync.Monitor,
			raw:      "POST /gzip HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\nabc" + smuggled,
			statuses: []int{400}, closed: true},
		{name: "NUL in a header value", mode: desync.Monitor,
			raw:      "GET /nul HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n",
			statuses: []int{400}, closed: true},
		{name: "space before the colon", mode: desync.Monitor,
			raw:      "GET /sp HTTP/1.1\r\nHost: x\r\nContent-Length : 3\r\n\r\nabc",
			statuses: []int{400}, closed: true},
		{name: "oversized head", mode: desync.Monitor,
			raw:      "GET /big HTTP/1.1\r\nHost: x\r\nX-A: " + strings.Repeat("a", 40<<10) + "\r\n\r\n",
			statuses: []int{400}, closed: true},
		{name: "missing Host on HTTP/1.1", mode: desync.Monitor,
			raw:      "GET /nohost HTTP/1.1\r\n\r\n",
			statuses: []int{400}, closed: true},
		{name: "HTTP/1.0 closes after the response", mode: desync.Defensive,
			raw:      "GET /old HTTP/1.0\r\n\r\n",
			statuses: []int{200}, closed: true, paths: []string{"/old"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ts := startTLS(t, c.mode, nil)
			statuses, _, closed := ts.exchange(t, c.raw)
			assert.Equal(t, c.statuses, statuses, "statuses")
			assert.Equal(t, c.closed, closed, "connection closed")
			var paths []string
			s := ts.seen()
			for _, r := range s {
				paths = append(paths, r.path)
				assert.NotContains(t, r.body, "/smuggled")
			}
			assert.Equal(t, c.paths, paths, "what the handler saw")
			if c.check != nil && len(s) > 0 {
				c.check(t, s)
			}
		})
	}
}

func TestShutdownClosesIdleAndFinishesActive(t *testing.T) {
	release := make(chan struct{})
	ts := startTLS(t, desync.Defensive, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			<-release
		}
		_, _ = io.WriteString(w, "done")
	})
	tc := &tls.Config{RootCAs: ts.pool, ServerName: "localhost"}
	idle, err := tls.Dial("tcp", ts.addr, tc)
	require.NoError(t, err)
	defer idle.Close()
	_, _ = io.WriteString(idle, "GET /a HTTP/1.1\r\nHost: x\r\n\r\n")
	br := bufio.NewReader(idle)
	resp, err := http.ReadResponse(br, nil)
	require.NoError(t, err)
	_, _ = io.ReadAll(resp.Body)

	busy, err := tls.Dial("tcp", ts.addr, tc)
	require.NoError(t, err)
	defer busy.Close()
	_, _ = io.WriteString(busy, "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
	require.Eventually(t, func() bool { return len(ts.seen()) == 2 }, 5*time.Second, 5*time.Millisecond)

	done := make(chan error, 1)
	go func() { done <- ts.srv.Shutdown(context.Background()) }()
	_ = idle.SetReadDeadline(time.Now().Add(2 * time.Second))
	_, err = br.ReadByte()
	assert.Error(t, err, "the idle connection is closed by Shutdown")
	select {
	case <-done:
		t.Fatal("Shutdown returned with a request in flight")
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	bb := bufio.NewReader(busy)
	resp, err = http.ReadResponse(bb, nil)
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	assert.Equal(t, "done", string(b))
	assert.True(t, resp.Close, "the response in flight during Shutdown says Connection: close")
	require.NoError(t, <-done)
}

func TestIdleTimeout(t *testing.T) {
	ts := startTLSRecording(t, desync.Defensive, nil, nil, func(s *Server) { s.IdleTimeout = 100 * time.Millisecond })
	c, err := tls.Dial("tcp", ts.addr, &tls.Config{RootCAs: ts.pool, ServerName: "localhost"})
	require.NoError(t, err)
	defer c.Close()
	_, _ = io.WriteString(c, "GET /a HTTP/1.1\r\nHost: x\r\n\r\n")
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	require.NoError(t, err)
	_, _ = io.ReadAll(resp.Body)
	start := time.Now()
	_ = c.SetReadDeadline(time.Now().Add(3 * time.Second))
	_, err = br.ReadByte()
	require.Error(t, err)
	assert.Less(t, time.Since(start), 2*time.Second, "closed at the idle timeout, not the test's deadline")
}

// TestExpectContinue: a client waiting for "100 Continue" gets it when
// the handler reads the body, and then its response on the same
// connection.
func TestExpectContinue(t *testing.T) {
	ts := startTLS(t, desync.Defensive, nil)
	c, err := tls.Dial("tcp", ts.addr, &tls.Config{RootCAs: ts.pool, ServerName: "localhost"})
	require.NoError(t, err)
	defer c.Close()
	_, err = io.WriteString(c, "POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n")
	require.NoError(t, err)
	br := bufio.NewReader(c)
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	line, err := br.ReadString('\n')
	require.NoError(t, err)
	assert.Equal(t, "HTTP/1.1 100 Continue\r\n", line)
	_, _ = br.ReadString('\n')
	_, err = io.WriteString(c, "data")
	require.NoError(t, err)
	resp, err := http.ReadResponse(br, nil)
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	assert.Equal(t, "ok /up", string(b))
	require.Len(t, ts.seen(), 1)
	assert.Equal(t, "data", ts.seen()[0].body)
}

// TestResponseTrailers: trailers set as net/http's server takes them (names
// declared in the Trailer header and set after the head, or set under
// http.TrailerPrefix) go out after the last chunk, and a short response
// with declared trailers is chunked rather than given a length.
func TestResponseTrailers(t *testing.T) {
	ts := startTLS(t, desync.Defensive, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Trailer", "X-Sum")
		_, _ = io.WriteString(w, "short")
		w.Header().Set("X-Sum", "42")
		w.Header().Set(http.TrailerPrefix+"X-Late", "late")
	})
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ts.pool, ServerName: "localhost"}}}
	defer c.CloseIdleConnections()
	resp, err := c.Get("https://" + ts.addr + "/t")
	require.NoError(t, err)
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	assert.Equal(t, "short", string(b))
	assert.Equal(t, []string{"chunked"}, resp.TransferEncoding)
	assert.Equal(t, "42", resp.Trailer.Get("X-Sum"))
	assert.Equal(t, "late", resp.Trailer.Get("X-Late"))
	assert.Empty(t, resp.Header.Get(http.TrailerPrefix+"X-Late"), "a prefixed trailer is not a header")
}

// TestHeadDeadlineDoesNotOutliveTheHead: the head's deadline
// (ReadHeaderTimeout) bounds only the head. A request without a body
// keeps it while its handler runs, which must not cut the connection's
// next request; a body arriving after it is still read.
func TestHeadDeadlineDoesNotOutliveTheHead(t *testing.T) {
	ts := startTLSRecording(t, desync.Defensive, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			time.Sleep(300 * time.Millisecond)
		}
		_, _ = io.WriteString(w, "ok "+r.URL.Path)
	}, nil, func(s *Server) { s.ReadHeaderTimeout = 100 * time.Millisecond })
	c, err := tls.Dial("tcp", ts.addr, &tls.Config{RootCAs: ts.pool, ServerName: "localhost"})
	require.NoError(t, err)
	defer c.Close()
	br := bufio.NewReader(c)
	get := func(raw, want string) {
		t.Helper()
		_ = c.SetReadDeadline(time.Now().Add(3 * time.Second))
		resp, err := http.ReadResponse(br, nil)
		require.NoError(t, err, "after %q", raw)
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		assert.Equal(t, want, string(b))
	}
	_, _ = io.WriteString(c, "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
	get("GET /slow", "ok /slow")
	_, _ = io.WriteString(c, "GET /next HTTP/1.1\r\nHost: x\r\n\r\n")
	get("GET /next", "ok /next")
	_, _ = io.WriteString(c, "POST /late-body HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n")
	time.Sleep(300 * time.Millisecond)
	_, _ = io.WriteString(c, "hello")
	get("POST /late-body", "ok /late-body")
	s := ts.seen()
	require.Len(t, s, 3)
	assert.Equal(t, "hello", s[2].body)
}

// headLog is a HeadRecorder that keeps what it is pushed.
type headLog struct {
	mu    sync.Mutex
	names [][]string
	heads []string
}

func (l *headLog) Push(names []string, head []byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.names = append(l.names, slices.Clone(names))
	l.heads = append(l.heads, string(head))
}

// TestHeadsArePushed: each request's header names (canonical, one per
// line in the order sent, Host and framing headers included, an obs-fold
// adding none) and its raw head, line ends as sent, go to the connection's
// HeadRecorder before the handler runs; a head refused before the handler
// is not pushed.
func TestHeadsArePushed(t *testing.T) {
	log := &headLog{}
	ts := startTLSRecording(t, desync.Defensive, nil, log)
	heads := []string{
		"GET /a HTTP/1.1\r\nx-zeta: 1\r\nHost: x\r\nAccept: */*\r\nX-Zeta: 2\r\n\r\n",
		"POST /b HTTP/1.1\nHost: x\nTransfer-Encoding: chunked\nX-A: b\n c\n\n",
	}
	raw := heads[0] + heads[1] + "3\r\nabc\r\n0\r\n\r\n" + "GET /bad HTTP/1.1\r\nHost: x\r\nBad Name: 1\r\n\r\n"
	statuses, _, _ := ts.exchange(t, raw)
	assert.Equal(t, []int{200, 200, 400}, statuses)
	log.mu.Lock()
	defer log.mu.Unlock()
	assert.Equal(t, [][]string{{"X-Zeta", "Host", "Accept", "X-Zeta"}, {"Host", "Transfer-Encoding", "X-A"}}, log.names)
	assert.Equal(t, heads, log.heads)
}

// TestKeptAliveHeadStillBoundedByHeaderTimeout: a kept-alive request
// whose head does not come whole with its first byte is bounded by the
// head's deadline (ReadHeaderTimeout), not the idle one; the front end
// skips setting that deadline only for a head it already holds whole.
func TestKeptAliveHeadStillBoundedByHeaderTimeout(t *testing.T) {
	ts := startTLSRecording(t, desync.Defensive, nil, nil, func(s *Server) {
		s.ReadHeaderTimeout, s.IdleTimeout = 200*time.Millisecond, 10*time.Second
	})
	c, err := tls.Dial("tcp", ts.addr, &tls.Config{RootCAs: ts.pool, ServerName: "localhost"})
	require.NoError(t, err)
	defer c.Close()
	br := bufio.NewReader(c)
	_ = c.SetReadDeadline(time.Now().Add(8 * time.Second))
	for _, path := range []string{"/one", "/two"} { // whole heads: served
		_, _ = io.WriteString(c, "GET "+path+" HTTP/1.1\r\nHost: x\r\n\r\n")
		resp, err := http.ReadResponse(br, nil)
		require.NoError(t, err)
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		assert.Equal(t, "ok "+path, string(b))
	}
	_, _ = io.WriteString(c, "GET /three HTTP/1.1\r\nHo") // and no more
	start := time.Now()
	_, err = br.ReadByte()
	require.Error(t, err, "the server closes the connection")
	var ne net.Error
	require.False(t, errors.As(err, &ne) && ne.Timeout(), "closed by the server, not timed out here: %v", err)
	assert.Less(t, time.Since(start), 3*time.Second, "closed at the head's deadline, not the idle one")
	assert.Len(t, ts.seen(), 2)
}

// TestHeadBuffered: a whole head is one whose line end is followed by an
// empty line, after the empty lines readHead skips.
func TestHeadBuffered(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want bool
	}{
		{"GET / HTTP/1.1\r\nHost: x\r\n\r\n", true},
		{"GET / HTTP/1.1\nHost: x\n\n", true},
		{"GET / HTTP/1.1\r\n\r\n", true},
		{"GET / HTTP/1.1\r\nHost: x\r\n\r\nGET /next", true},
		{"GET / HTTP/1.1\r\nHost: x\r\n", false},
		{"GET / HTTP/1.1\r\nHost: x\r\n\r", false},
		{"GET / HTTP/1.1\r\nHo", false},
		{"\r\n\r\nGET / HTTP/1.1\r\nHo", false}, // leading empty lines are not the end
		{"\n\nGET", false},
		{"", false},
	} {
		br := bufio.NewReader(strings.NewReader(tc.in))
		_, _ = br.Peek(1)
		assert.Equal(t, tc.want, headBuffered(br), "%q", tc.in)
	}
}

// TestShutdownOrdersWithNewConnections: a connection handed to ServeConn
// while Shutdown runs is either refused or counted before Shutdown waits,
// so none is served after Shutdown returned (under make test-race the
// race detector also flags an Add of the wait group that races the Wait).
func TestShutdownOrdersWithNewConnections(t *testing.T) {
	for range 200 {
		var returned, lateServe atomic.Bool
		srv := &Server{Handler: http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}), ReadHeaderTimeout: time.Second,
			ConnState: func(_ net.Conn, st http.ConnState) {
				if st == http.StateNew && returned.Load() {
					lateServe.Store(true)
				}
			}}
		a, b := net.Pipe()
		b.Close() // the client is gone: a served connection ends at once
		served := make(chan struct{})
		go func() { defer close(served); srv.ServeConn(context.Background(), a) }()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		require.NoError(t, srv.Shutdown(ctx))
		cancel()
		returned.Store(true)
		<-served
		require.False(t, lateServe.Load(), "a connection was served after Shutdown returned")
	}
}
