package targetgroup

import (
	"errors"
	"net"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// deadlineCounter counts SetDeadline calls on a connection.
type deadlineCounter struct {
	net.Conn
	n atomic.Int32
}

func (c *deadlineCounter) SetDeadline(t time.Time) error {
	c.n.Add(1)
	return c.Conn.SetDeadline(t)
}

// loopbackPair returns both ends of a TCP connection on 127.0.0.1.
func loopbackPair(t *testing.T) (client, server net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	client, err = net.Dial("tcp", ln.Addr().String())
	require.NoError(t, err)
	server = <-accepted
	require.NotNil(t, server)
	t.Cleanup(func() { client.Close(); server.Close() })
	return client, server
}

// TestIdleConnDeadlinesMoveOncePerSlack: reads and writes within slack of
// the last deadline change leave the deadlines alone; one after it moves
// them.
func TestIdleConnDeadlinesMoveOncePerSlack(t *testing.T) {
	client, server := loopbackPair(t)
	go func() { _, _ = server.Read(make([]byte, 64<<10)) }()
	dc := &deadlineCounter{Conn: client}
	c := newIdleConn(dc, 10*time.Second) // slack 100ms
	require.Equal(t, 100*time.Millisecond, c.slack)
	for range 100 {
		_, err := c.Write([]byte("x"))
		require.NoError(t, err)
	}
	assert.Equal(t, int32(1), dc.n.Load(), "deadlines set on every write")
	time.Sleep(c.slack + 10*time.Millisecond)
	_, err := c.Write([]byte("x"))
	require.NoError(t, err)
	assert.Equal(t, int32(2), dc.n.Load(), "deadlines not moved after slack passed")
}

// TestIdleConnTimesOutNoSoonerThanIdle: a read that waits for a silent
// target times out idle or a little later (at most slack) after the last
// progress, never before, even when that progress did not move the
// deadlines.
func TestIdleConnTimesOutNoSoonerThanIdle(t *testing.T) {
	for _, idle := range []time.Duration{200 * time.Millisecond, 2 * time.Second} {
		t.Run(idle.String(), func(t *testing.T) {
			client, _ := loopbackPair(t)
			c := newIdleConn(client, idle)
			_, err := c.Write([]byte("GET / HTTP/1.1\r\n\r\n")) // sets the deadlines
			require.NoError(t, err)
			time.Sleep(c.slack / 2) // within slack: the read moves nothing
			start := time.Now()
			_, err = c.Read(make([]byte, 1))
			took := time.Since(start)
			require.Error(t, err)
			assert.True(t, errors.Is(err, os.ErrDeadlineExceeded), "read ended with %v, not a timeout", err)
			assert.GreaterOrEqual(t, took, idle, "timed out %v after the read began, before the idle timeout", took)
		})
	}
}
