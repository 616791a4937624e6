package targetgroup

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// aliceSecret is what a misbehaving target sends late on alice's
// connection: a complete response carrying alice's data.
const aliceSecret = "HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\nalice-secret"

// lateTarget is a target that answers GET or HEAD /alice with first and,
// once the test calls sendLate, writes late on the same connection, as a
// target with a framing bug does. Any other path gets "bob". It counts
// connections.
type lateTarget struct {
	addr    string
	conns   atomic.Int32
	sendNow chan struct{}
	sent    chan struct{}
}

func newLateTarget(t *testing.T, first, late string) *lateTarget {
	lt := &lateTarget{sendNow: make(chan struct{}), sent: make(chan struct{}, 1)}
	lt.addr = rawTarget(t, func(c net.Conn) {
		lt.conns.Add(1)
		br := bufio.NewReader(c)
		for {
			req, err := http.ReadRequest(br)
			if err != nil {
				return
			}
			if req.URL.Path != "/alice" {
				_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nbob")
				continue
			}
			_, _ = io.WriteString(c, first)
			<-lt.sendNow
			if late == "FIN" {
				_ = c.(*net.TCPConn).CloseWrite()
			} else {
				_, _ = io.WriteString(c, late)
			}
			lt.sent <- struct{}{}
		}
	})
	return lt
}

// sendLate makes the target send its late bytes and waits until they
// are written, plus a moment for loopback to deliver them.
func (lt *lateTarget) sendLate(t *testing.T) {
	t.Helper()
	close(lt.sendNow)
	select {
	case <-lt.sent:
	case <-time.After(10 * time.Second):
		t.Fatal("the target never sent its late bytes")
	}
	time.Sleep(50 * time.Millisecond) // delivery on loopback, not a speed assertion
}

// TestSyncTransportUnsolicitedBytes: bytes a target sends on an idle pooled
// connection after a complete response (issue 19 item 2) never become the
// response to the next request, which may be another client's. The
// connection is dropped and the next request gets a fresh one.
func TestSyncTransportUnsolicitedBytes(t *testing.T) {
	for _, tc := range []struct {
		name, method, first, late string
	}{
		{"second unsolicited response", http.MethodGet, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nalice", aliceSecret},
		{"extra bytes beyond Content-Length", http.MethodGet, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nalice", "-and-more-bytes"},
		{"body on a HEAD answer", http.MethodHead, "HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\n", aliceSecret},
		{"body on a 204", http.MethodGet, "HTTP/1.1 204 No Content\r\n\r\n", aliceSecret},
		{"body on a 304", http.MethodGet, "HTTP/1.1 304 Not Modified\r\nETag: \"a\"\r\n\r\n", aliceSecret},
		{"chunked then more", http.MethodGet, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nalice\r\n0\r\n\r\n", aliceSecret},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lt := newLateTarget(t, tc.first, tc.late)
			g := startGroup(t, Config{Targets: []string{lt.addr}, HealthCheck: noHealth()})
			f := newFront(t, g, false, nil)

			alice := &http.Client{Transport: &http.Transport{}}
			req, err := http.NewRequest(tc.method, f.srv.URL+"/alice", nil)
			require.NoError(t, err)
			resp, err := alice.Do(req)
			require.NoError(t, err)
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			f.last(t)
			require.Equal(t, 1, pooled(g), "alice's target connection was pooled")
			lt.sendLate(t)

			bob := &http.Client{Transport: &http.Transport{}}
			for _, method := range []string{http.MethodGet, http.MethodPost} { // POST: not retryable
				req, err := http.NewRequest(method, f.srv.URL+"/bob", nil)
				require.NoError(t, err)
				resp, err := bob.Do(req)
				require.NoError(t, err)
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				assert.NotContains(t, string(body), "alice", "bob received bytes the target sent on alice's connection")
				assert.Equal(t, http.StatusOK, resp.StatusCode, method)
				assert.Equal(t, "bob", string(body), method)
				out := f.last(t)
				assert.Equal(t, FailureNone, out.Failure, method)
			}
			assert.Equal(t, int32(2), lt.conns.Load(), "alice's connection was dropped, bob's reused")
		})
	}
}

// TestSyncTransportHalfClosedNotReused: a pooled connection whose target has
// sent FIN is found closed before it is used, so even a request that may
// not be retried (a body-less POST) goes on a new connection.
func TestSyncTransportHalfClosedNotReused(t *testing.T) {
	lt := newLateTarget(t, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nalice", "FIN")
	g := startGroup(t, Config{Targets: []string{lt.addr}, HealthCheck: noHealth()})
	f := newFront(t, g, false, nil)
	code, _, body := f.get(t, "/alice")
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, "alice", body)
	f.last(t)
	lt.sendLate(t)
	resp, err := f.srv.Client().Post(f.srv.URL+"/bob", "text/plain", nil)
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "bob", string(b))
	assert.Equal(t, FailureNone, f.last(t).Failure)
	assert.Equal(t, int32(2), lt.conns.Load())
}

// opaqueConn hides the connection's file descriptor.
type opaqueConn struct{ net.Conn }

// TestSyncTransportOpaqueConnNotPooled: a connection that cannot be probed
// (no syscall.RawConn) is never pooled, so it can never carry a late byte
// into another request.
func TestSyncTransportOpaqueConnNotPooled(t *testing.T) {
	addr, cc := countingServer(t, func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "ok") })
	g := startGroup(t, Config{Targets: []string{addr}, HealthCheck: noHealth()})
	dial := g.transport.dial
	g.transport.dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return opaqueConn{c}, nil
	}
	f := newFront(t, g, false, nil)
	for range 3 {
		code, _, body := f.get(t, "/")
		require.Equal(t, http.StatusOK, code)
		assert.Equal(t, "ok", strings.TrimSpace(body))
		f.last(t)
	}
	assert.Equal(t, int32(3), cc.opened.Load())
	assert.Zero(t, pooled(g))
}

// TestProbe: the idle probe tells a quiet connection from one with unread
// bytes or a half-close, consumes nothing, and allocates nothing (it runs
// on every reuse).
func TestProbe(t *testing.T) {
	if !probeSupported {
		t.Skip("no probe on this platform: connections are not pooled (TestSyncTransportOpaqueConnNotPooled)")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	client, err := net.Dial("tcp", ln.Addr().String())
	require.NoError(t, err)
	defer client.Close()
	server, err := ln.Accept()
	require.NoError(t, err)
	defer server.Close()
	p := probeOf(client)
	require.NotNil(t, p)
	assert.True(t, p.clean(), "quiet")
	assert.Zero(t, testing.AllocsPerRun(100, func() { p.clean() }))

	_, err = server.Write([]byte("x"))
	require.NoError(t, err)
	require.Eventually(t, func() bool { return !p.clean() }, 10*time.Second, 5*time.Millisecond, "a byte to read")
	b := make([]byte, 1)
	_, err = io.ReadFull(client, b)
	require.NoError(t, err)
	assert.Equal(t, "x", string(b), "the probe consumed nothing")
	assert.True(t, p.clean(), "quiet again")

	require.NoError(t, server.(*net.TCPConn).CloseWrite())
	require.Eventually(t, func() bool { return !p.clean() }, 10*time.Second, 5*time.Millisecond, "EOF")
	assert.Nil(t, probeOf(opaqueConn{client}), "no file descriptor, no probe")
}
