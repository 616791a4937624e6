package http1

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// readDeadlineCounter counts SetReadDeadline calls on a connection.
type readDeadlineCounter struct {
	net.Conn
	n atomic.Int32
}

func (c *readDeadlineCounter) SetReadDeadline(t time.Time) error {
	c.n.Add(1)
	return c.Conn.SetReadDeadline(t)
}

// servePlain serves one plain TCP connection with srv and returns the
// client's end and the server's, counted.
func servePlain(t *testing.T, srv *Server) (net.Conn, *readDeadlineCounter) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	served := make(chan *readDeadlineCounter, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			served <- nil
			return
		}
		rc := &readDeadlineCounter{Conn: c}
		served <- rc
		srv.ServeConn(context.Background(), rc)
	}()
	client, err := net.Dial("tcp", ln.Addr().String())
	require.NoError(t, err)
	t.Cleanup(func() { client.Close(); srv.Close() })
	rc := <-served
	require.NotNil(t, rc)
	return client, rc
}

func okHandler(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") }

// roundTrip sends one GET on c and reads its response.
func roundTrip(t *testing.T, c net.Conn, br *bufio.Reader) {
	t.Helper()
	_, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	require.NoError(t, err)
	resp, err := http.ReadResponse(br, nil)
	require.NoError(t, err)
	_, _ = io.ReadAll(resp.Body)
	require.Equal(t, http.StatusOK, resp.StatusCode)
}

// TestIdleDeadlineMovesOncePerSlack: back-to-back kept-alive requests do
// not each move the connection's read deadline; the idle wait's deadline
// is set again only once its slack (1% of the idle timeout) has passed.
func TestIdleDeadlineMovesOncePerSlack(t *testing.T) {
	srv := &Server{Handler: http.HandlerFunc(okHandler), IdleTimeout: 10 * time.Second, ReadHeaderTimeout: 10 * time.Second}
	c, rc := servePlain(t, srv)
	br := bufio.NewReader(c)
	const n = 20
	for range n {
		roundTrip(t, c, br)
	}
	// The first head's deadline, the first idle wait's, and one more per
	// 100ms the requests took.
	assert.Less(t, rc.n.Load(), int32(10), "read deadline set %d times for %d requests", rc.n.Load(), n)
}

// TestIdleDeadlineNoSoonerThanIdle: when a kept-alive connection's idle
// wait keeps the deadline set for an earlier wait, the connection still
// closes no sooner than the idle timeout after its last response.
func TestIdleDeadlineNoSoonerThanIdle(t *testing.T) {
	const idle = 2 * time.Second // slack 20ms
	srv := &Server{Handler: http.HandlerFunc(okHandler), IdleTimeout: idle, ReadHeaderTimeout: idle}
	c, rc := servePlain(t, srv)
	br := bufio.NewReader(c)
	roundTrip(t, c, br)
	before := rc.n.Load()
	time.Sleep(15 * time.Millisecond)
	roundTrip(t, c, br) // within slack of the first idle wait: most likely no new deadline
	last := time.Now()
	_ = c.SetReadDeadline(time.Now().Add(idle + 3*time.Second))
	_, err := br.ReadByte()
	require.Error(t, err)
	took := time.Since(last)
	assert.GreaterOrEqual(t, took, idle, "closed %v after the last response, before the idle timeout", took)
	assert.Less(t, took, idle+2*time.Second, "closed at the test's deadline, not the idle timeout")
	t.Logf("read deadlines set for the second request: %d", rc.n.Load()-before)
}
