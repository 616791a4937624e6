package targetgroup

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestWatchCutsTheRequestInFlight: with the client connection's watch
// (WithWatch), ForwardDirect's requests reuse one pooled target
// connection, and when the connection's context ends (the drain's cut)
// the target connection of the request in flight is closed and the
// request ends as a 460; a request started after the end gets its target
// connection closed at once.
func TestWatchCutsTheRequestInFlight(t *testing.T) {
	arrived, closed := make(chan string, 4), make(chan struct{}, 4)
	target := rawTarget(t, func(c net.Conn) {
		br := bufio.NewReader(c)
		for {
			req, err := http.ReadRequest(br)
			if err != nil {
				return
			}
			arrived <- req.URL.Path
			if req.URL.Path == "/hang" {
				_, _ = io.Copy(io.Discard, br) // until the proxy closes
				closed <- struct{}{}
				return
			}
			_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
		}
	})
	g := startGroup(t, Config{Targets: []string{target}, HealthCheck: noHealth()})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	wctx, unwatch := WithWatch(ctx)
	defer unwatch()
	require.NotNil(t, watchOf(wctx))
	forward := func(path string) (Outcome, *httptest.ResponseRecorder) {
		r := httptest.NewRequestWithContext(wctx, http.MethodGet, path, nil)
		r.RequestURI = ""
		require.True(t, g.CanForwardDirect(r))
		w := httptest.NewRecorder()
		return g.ForwardDirect(w, r, func(http.Header) DirectRequest { return DirectRequest{Host: "h"} }), w
	}
	for range 2 {
		out, w := forward("/ok")
		assert.Equal(t, http.StatusOK, out.ELBStatus)
		assert.Equal(t, "ok", w.Body.String())
		assert.Equal(t, "/ok", <-arrived)
	}

	done := make(chan Outcome, 1)
	go func() { out, _ := forward("/hang"); done <- out }()
	require.Equal(t, "/hang", <-arrived, "on the pooled connection")
	cancel()
	select {
	case out := <-done:
		assert.Equal(t, StatusClientClosed, out.ELBStatus)
		assert.Equal(t, FailureClientClosed, out.Failure)
		assert.Zero(t, out.TargetStatus)
	case <-time.After(10 * time.Second):
		t.Fatal("the cut request did not end")
	}
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("the target connection of the cut request stayed open")
	}

	start := time.Now()
	out, _ := forward("/late")
	assert.Equal(t, StatusClientClosed, out.ELBStatus, "a request after the end")
	assert.Less(t, time.Since(start), 5*time.Second)
}

// TestWatchHold: hold and its stop function keep context.AfterFunc's
// contract for one connection at a time.
func TestWatchHold(t *testing.T) {
	pipe := func() (*syncConn, net.Conn) {
		a, b := net.Pipe()
		t.Cleanup(func() { a.Close(); b.Close() })
		return &syncConn{conn: a}, b
	}
	isClosed := func(peer net.Conn) bool {
		_ = peer.SetReadDeadline(time.Now().Add(2 * time.Second))
		_, err := peer.Read(make([]byte, 1))
		return err == io.EOF
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	wctx, unwatch := WithWatch(ctx)
	defer unwatch()
	w := watchOf(wctx)

	c1, _ := pipe()
	stop := w.hold(c1)
	assert.True(t, stop(), "released before the end")
	assert.False(t, stop(), "released once")

	c2, peer2 := pipe()
	stop = w.hold(c2)
	cancel()
	assert.True(t, isClosed(peer2), "the end closes the connection held")
	assert.False(t, stop(), "its stop says it was closed")

	c3, peer3 := pipe()
	assert.False(t, w.hold(c3)(), "after the end")
	assert.True(t, isClosed(peer3), "closed at once")

	never, unwatchNever := WithWatch(context.Background())
	unwatchNever()
	assert.Nil(t, watchOf(never), "a context that never ends needs no watch")
}

// TestWatchUnwatch: once unwatched, the end of the context no longer
// reaches the watch (the AfterFunc ran at once otherwise).
func TestWatchUnwatch(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	wctx, unwatch := WithWatch(ctx)
	w := watchOf(wctx)
	ended := func() bool {
		w.mu.Lock()
		defer w.mu.Unlock()
		return w.ended
	}
	unwatch()
	cancel()
	assert.Never(t, ended, 200*time.Millisecond, 5*time.Millisecond)

	ctx2, cancel2 := context.WithCancel(context.Background())
	wctx, unwatch = WithWatch(ctx2)
	defer unwatch()
	w = watchOf(wctx)
	cancel2()
	assert.Eventually(t, ended, 5*time.Second, 5*time.Millisecond, "watched, the end arrives")
}
