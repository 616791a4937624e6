package targetgroup

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// connCounter counts a test server's connections as they open and close.
type connCounter struct{ opened, closed atomic.Int32 }

// countingServer is a target running h that counts its connections.
func countingServer(t *testing.T, h http.HandlerFunc) (string, *connCounter) {
	t.Helper()
	cc := &connCounter{}
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		switch s {
		case http.StateNew:
			cc.opened.Add(1)
		case http.StateClosed:
			cc.closed.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String(), cc
}

// pooled returns how many connections g keeps idle.
func pooled(g *Group) int {
	g.transport.mu.Lock()
	defer g.transport.mu.Unlock()
	return g.transport.nIdle
}

// countingRT counts the requests the fallback transport gets.
type countingRT struct {
	rt http.RoundTripper
	n  atomic.Int32
}

func (c *countingRT) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.rt.RoundTrip(r)
}

// withCountedFallback makes g's fallback transport count its requests.
func withCountedFallback(g *Group) *countingRT {
	c := &countingRT{rt: g.transport.fallback}
	g.transport.fallback = c
	return c
}

func noHealth() HealthCheck { return HealthCheck{Enabled: disabled()} }

// TestSyncTransportReusesConnection: successive GETs share one pooled
// connection, without the fallback transport.
func TestSyncTransportReusesConnection(t *testing.T) {
	addr, cc := countingServer(t, func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "ok") })
	g := startGroup(t, Config{Targets: []string{addr}, HealthCheck: noHealth()})
	fb := withCountedFallback(g)
	f := newFront(t, g, false, nil)
	for range 5 {
		code, _, body := f.get(t, "/")
		require.Equal(t, http.StatusOK, code)
		assert.Equal(t, "ok", body)
		assert.Equal(t, FailureNone, f.last(t).Failure)
	}
	assert.Equal(t, int32(1), cc.opened.Load(), "one connection for all requests")
	assert.Equal(t, 1, pooled(g))
	assert.Zero(t, fb.n.Load(), "GETs take the synchronous path")
}

// closesOnSecondRequest is a target whose first connection answers one
// request with a keep-alive response and closes when the next request
// arrives, unanswered, as a target whose keep-alive timeout runs out just
// as the request is sent does (ALB's 502 case). A connection closed while
// idle is caught by the probe before use instead (see
// TestSyncTransportHalfClosedNotReused). Later connections answer
// normally.
func closesOnSecondRequest(t *testing.T) (string, *atomic.Int32) {
	var conns atomic.Int32
	addr := rawTarget(t, func(c net.Conn) {
		first := conns.Add(1) == 1
		br := bufio.NewReader(c)
		for n := 0; ; n++ {
			if _, err := http.ReadRequest(br); err != nil {
				return
			}
			if first && n == 1 {
				return // closed, unanswered
			}
			_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
		}
	})
	return addr, &conns
}

// stale returns a front whose group holds one pooled connection that the
// target will close when the next request arrives, and the target's count
// of connections.
func stale(t *testing.T) (*front, *atomic.Int32) {
	t.Helper()
	addr, conns := closesOnSecondRequest(t)
	g := startGroup(t, Config{Targets: []string{addr}, HealthCheck: noHealth()})
	f := newFront(t, g, false, nil)
	code, _, _ := f.get(t, "/one")
	require.Equal(t, http.StatusOK, code)
	f.last(t)
	require.Equal(t, 1, pooled(g), "the connection was pooled")
	return f, conns
}

// TestSyncTransportRetriesStaleConnection: a pooled connection the target
// closes as the next request arrives fails that request; an idempotent
// request is retried once on a new connection, a POST is not.
func TestSyncTransportRetriesStaleConnection(t *testing.T) {
	t.Run("GET retried", func(t *testing.T) {
		f, conns := stale(t)
		code, _, body := f.get(t, "/two")
		assert.Equal(t, http.StatusOK, code)
		assert.Equal(t, "ok", body)
		out := f.last(t)
		assert.Equal(t, FailureNone, out.Failure)
		assert.Equal(t, []string{"200"}, statusList(out))
		assert.Equal(t, int32(2), conns.Load())
	})
	t.Run("POST not retried", func(t *testing.T) {
		f, conns := stale(t)
		resp, err := f.srv.Client().Post(f.srv.URL+"/two", "text/plain", nil) // no body: synchronous path
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusBadGateway, resp.StatusCode)
		out := f.last(t)
		assert.Equal(t, FailureTargetResponseError, out.Failure)
		assert.Equal(t, time.Duration(-1), out.TargetTime)
		assert.Equal(t, int32(1), conns.Load(), "no second connection")
	})
}

// TestSyncTransportNoRetryOnTimeout: a target that takes a request on a
// pooled connection and stays silent is a 504 after the idle timeout, not
// a retry.
func TestSyncTransportNoRetryOnTimeout(t *testing.T) {
	var conns atomic.Int32
	addr := rawTarget(t, func(c net.Conn) {
		conns.Add(1)
		br := bufio.NewReader(c)
		if _, err := http.ReadRequest(br); err != nil {
			return
		}
		_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
		_, _ = io.Copy(io.Discard, br) // silent from now on
	})
	g := startGroup(t, Config{Targets: []string{addr}, HealthCheck: noHealth(), IdleTimeout: 300 * time.Millisecond})
	f := newFront(t, g, false, nil)
	code, _, _ := f.get(t, "/")
	require.Equal(t, http.StatusOK, code)
	f.last(t)
	code, _, _ = f.get(t, "/")
	assert.Equal(t, http.StatusGatewayTimeout, code)
	assert.Equal(t, FailureTargetTimeout, f.last(t).Failure)
	assert.Equal(t, int32(1), conns.Load())
}

// TestSyncTransportIdleEviction: a pooled connection idle for the idle
// timeout is closed, and the next request dials anew.
func TestSyncTransportIdleEviction(t *testing.T) {
	addr, cc := countingServer(t, func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "ok") })
	g := startGroup(t, Config{Targets: []string{addr}, HealthCheck: noHealth(), IdleTimeout: 200 * time.Millisecond})
	f := newFront(t, g, false, nil)
	start := time.Now()
	code, _, _ := f.get(t, "/")
	require.Equal(t, http.StatusOK, code)
	waitFor(t, func() bool { return cc.closed.Load() == 1 }, "the idle connection was never closed")
	assert.GreaterOrEqual(t, time.Since(start), 200*time.Millisecond, "closed before the idle timeout")
	assert.Zero(t, pooled(g))
	code, _, _ = f.get(t, "/")
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, int32(2), cc.opened.Load())
}

// TestSyncTransportPoolBound: connections beyond the per-target bound are
// closed when their request ends, not pooled.
func TestSyncTransportPoolBound(t *testing.T) {
	var arrived sync.WaitGroup
	arrived.Add(3)
	addr, cc := countingServer(t, func(w http.ResponseWriter, r *http.Request) {
		arrived.Done()
		arrived.Wait() // three requests in flight at once: three connections
		_, _ = io.WriteString(w, "ok")
	})
	g := startGroup(t, Config{Targets: []string{addr}, HealthCheck: noHealth()})
	g.transport.maxPerTarget = 2
	f := newFront(t, g, false, nil)
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() {
			client := &http.Client{Transport: &http.Transport{}} // a connection each
			resp, err := client.Get(f.srv.URL + "/")
			if assert.NoError(t, err) {
				resp.Body.Close()
				assert.Equal(t, http.StatusOK, resp.StatusCode)
			}
		})
	}
	wg.Wait()
	assert.Equal(t, int32(3), cc.opened.Load())
	waitFor(t, func() bool { return cc.closed.Load() == 1 }, "the third connection was kept")
	assert.Equal(t, 2, pooled(g))
}

// TestSyncTransportTargetCloses: a target that closes after every response
// (Connection: close, a body delimited by the close, HTTP/1.0) is relayed
// whole, and its connection is not pooled.
func TestSyncTransportTargetCloses(t *testing.T) {
	for _, tc := range []struct{ name, response string }{
		{"connection close", "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 5\r\n\r\nhello"},
		{"close-delimited body", "HTTP/1.1 200 OK\r\n\r\nhello"},
		{"HTTP/1.0", "HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\nhello"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var conns atomic.Int32
			addr := rawTarget(t, func(c net.Conn) {
				conns.Add(1)
				readRequestHead(c)
				_, _ = io.WriteString(c, tc.response)
			})
			g := startGroup(t, Config{Targets: []string{addr}, HealthCheck: noHealth()})
			f := newFront(t, g, false, nil)
			for range 3 {
				code, _, body := f.get(t, "/")
				assert.Equal(t, http.StatusOK, code)
				assert.Equal(t, "hello", body)
				out := f.last(t)
				assert.Equal(t, FailureNone, out.Failure)
				assert.False(t, out.Aborted)
			}
			assert.Equal(t, int32(3), conns.Load(), "a new connection per request")
			assert.Zero(t, pooled(g))
		})
	}
}

// TestSyncTransportChunked: chunked responses, with a trailer, are relayed
// whole and the connection is reused after each.
func TestSyncTransportChunked(t *testing.T) {
	addr, cc := countingServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Trailer", "X-Sum")
		for _, part := range []string{"one,", "two,", "three"} {
			_, _ = io.WriteString(w, part)
			w.(http.Flusher).Flush() // each part its own chunk
		}
		w.Header().Set("X-Sum", "3")
	})
	g := startGroup(t, Config{Targets: []string{addr}, HealthCheck: noHealth()})
	f := newFront(t, g, false, nil)
	for range 3 {
		resp, err := f.srv.Client().Get(f.srv.URL + "/")
		require.NoError(t, err)
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.NoError(t, err)
		assert.Equal(t, "one,two,three", string(body))
		assert.Equal(t, "3", resp.Trailer.Get("X-Sum"))
		out := f.last(t)
		assert.Equal(t, FailureNone, out.Failure)
		assert.False(t, out.Aborted)
	}
	assert.Equal(t, int32(1), cc.opened.Load())
}

// TestSyncTransportInformational: a 103 Early Hints before the response is
// passed on and the final response relayed.
func TestSyncTransportInformational(t *testing.T) {
	addr := rawTarget(t, func(c net.Conn) {
		readRequestHead(c)
		_, _ = io.WriteString(c, "HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n"+
			"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
	})
	g := startGroup(t, Config{Targets: []string{addr}, HealthCheck: noHealth()})
	f := newFront(t, g, false, nil)
	code, _, body := f.get(t, "/")
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, "ok", body)
	assert.Equal(t, 200, f.last(t).TargetStatus)
}

// TestSyncTransportFallback: a request with a body and any request to an
// HTTPS target go through http.Transport; a GET to an HTTP target does not.
func TestSyncTransportFallback(t *testing.T) {
	t.Run("POST with body", func(t *testing.T) {
		a := newBackend(t, "a")
		g := startGroup(t, Config{Targets: []string{a.addr()}, HealthCheck: noHealth()})
		fb := withCountedFallback(g)
		f := newFront(t, g, false, nil)
		resp, err := f.srv.Client().Post(f.srv.URL+"/echo", "text/plain", strings.NewReader("hello"))
		require.NoError(t, err)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		assert.Equal(t, "a:hello", string(body))
		assert.Equal(t, int32(1), fb.n.Load())
		_, _, _ = f.get(t, "/")
		assert.Equal(t, int32(1), fb.n.Load(), "the GET did not use the fallback")
	})
	t.Run("HTTPS target", func(t *testing.T) {
		g := startGroup(t, Config{Protocol: "HTTPS", Targets: []string{newTLSBackend(t)}, HealthCheck: noHealth()})
		fb := withCountedFallback(g)
		f := newFront(t, g, false, nil)
		code, who, _ := f.get(t, "/")
		assert.Equal(t, http.StatusOK, code)
		assert.Equal(t, "tls", who)
		assert.Equal(t, int32(1), fb.n.Load())
		assert.Zero(t, pooled(g))
	})
}

// TestSyncTransportClientGoneMidBody: a client that leaves while the body
// is relayed ends the relay; the target connection is closed, not pooled
// with the rest of the body unread.
func TestSyncTransportClientGoneMidBody(t *testing.T) {
	targetDone := make(chan error, 1)
	target := rawTarget(t, func(c net.Conn) {
		if _, err := http.ReadRequest(bufio.NewReader(c)); err != nil {
			targetDone <- err
			return
		}
		_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 1048576\r\n\r\n")
		_, _ = c.Write(make([]byte, 4096))
		// Keep the connection open and silent: only the proxy can end it.
		_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
		_, err := c.Read(make([]byte, 1))
		targetDone <- err
	})
	g := startGroup(t, Config{Targets: []string{target}, HealthCheck: noHealth()})
	fb := withCountedFallback(g)
	f := newFront(t, g, false, nil)

	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, f.srv.URL+"/big", nil)
	require.NoError(t, err)
	resp, err := f.srv.Client().Do(req)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	_, err = io.ReadFull(resp.Body, make([]byte, 1024))
	require.NoError(t, err)
	cancel()
	resp.Body.Close()

	out := f.last(t)
	assert.True(t, out.Aborted, "the target's response was cut short")
	assert.Equal(t, int32(0), fb.n.Load(), "the synchronous path relayed it")
	select {
	case err := <-targetDone:
		assert.ErrorIs(t, err, io.EOF, "the proxy closed the target connection")
	case <-time.After(5 * time.Second):
		t.Fatal("the target connection is still open")
	}
	assert.Equal(t, 0, pooled(g))
}

// TestSyncTransportIdleEvictionAfterReuse: the idle timer is not reset
// when a pooled connection is reused; when it runs and finds the
// connection pooled again more recently, it waits out the rest of the
// idle period instead of closing it early.
func TestSyncTransportIdleEvictionAfterReuse(t *testing.T) {
	const idle = 400 * time.Millisecond
	addr, cc := countingServer(t, func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "ok") })
	g := startGroup(t, Config{Targets: []string{addr}, HealthCheck: noHealth(), IdleTimeout: idle})
	f := newFront(t, g, false, nil)
	code, _, _ := f.get(t, "/")
	require.Equal(t, http.StatusOK, code)
	time.Sleep(idle * 5 / 8)
	code, _, _ = f.get(t, "/") // the pooled connection again
	require.Equal(t, http.StatusOK, code)
	second := time.Now()
	time.Sleep(idle * 5 / 8) // past the first idle period's end
	assert.Zero(t, cc.closed.Load(), "closed %v after it was pooled again, before the idle timeout", time.Since(second))
	assert.Equal(t, 1, pooled(g))
	waitFor(t, func() bool { return cc.closed.Load() == 1 }, "the idle connection was never closed")
	assert.GreaterOrEqual(t, time.Since(second), idle, "closed before the idle timeout")
	assert.Equal(t, int32(1), cc.opened.Load())
}

// TestSyncConnCloseStopsIdleTimer: a connection closed by the request
// holding it stops the idle timer left from when it was pooled, which
// would otherwise keep the connection's buffers until it ran.
func TestSyncConnCloseStopsIdleTimer(t *testing.T) {
	addr, _ := countingServer(t, func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "ok") })
	g := startGroup(t, Config{Targets: []string{addr}, HealthCheck: noHealth(), IdleTimeout: time.Minute})
	f := newFront(t, g, false, nil)
	code, _, _ := f.get(t, "/")
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, 1, pooled(g))
	c, err := g.transport.get(context.Background(), addr, nil)
	require.NoError(t, err)
	require.True(t, c.reused)
	c.close()
	assert.False(t, c.timer.Stop(), "the idle timer still ran after close")
}
