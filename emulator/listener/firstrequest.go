package listener

import (
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// firstRequestConn bounds the wait for a connection's first request.
//
// net/http bounds the first request only with ReadHeaderTimeout, counted
// from when it starts waiting, so a connection that never sends anything
// and one that trickles its headers get the same limit, and with no limit
// both are held forever (issue 19: 5,000 of them took 200 MB). ALB closes
// a connection on which no data is sent or received for the idle timeout
// (idle_timeout.timeout_seconds), and something else must bound headers
// that keep arriving a byte at a time. So, until the client's first byte
// after the handshake, reads time out at the idle timeout whatever deadline
// the HTTP server asks for; from that byte on, the server's deadline (its
// ReadHeaderTimeout) applies, restarted at that byte. Later requests on the
// connection are net/http's: IdleTimeout for the first byte, then
// ReadHeaderTimeout.
//
// The HTTP server must also call Listener.Activated once it has read the
// headers (http.Server.ConnState StateActive): the TLS stack may have
// buffered the whole request along with the client's Finished message, so
// no read reaches this conn, and the idle deadline would otherwise end the
// server's background read while the request is served.
//
// It sits under the *tls.Conn (net/http must still see a *tls.Conn for
// HTTP/2; the header-order recorder wraps HTTP/1.x ones above it), so a
// TLS record of any kind counts as the client's first byte. HTTP/2
// connections are not armed: Go's HTTP/2 server bounds the preface itself
// (10 s) and then applies IdleTimeout, and sets no read deadlines this
// wrapper could hand back.
type firstRequestConn struct {
	net.Conn
	rec *Conn // the connection's record (Listener.Lookup)
	mu  sync.Mutex
	// armed: the wait for the first byte is on. Set by arm, which runs
	// once, before the HTTP server has the connection, and cleared for
	// good by the first byte; atomic, so reads and deadlines after it take
	// no lock (the lock orders arm and disarm with the deadline fields).
	armed   atomic.Bool
	idleAt  time.Time     // read deadline for the first byte
	want    time.Time     // the read deadline the HTTP server asked for
	wantFor time.Duration // that deadline, relative to when it was asked
}

func (c *firstRequestConn) record() *Conn { return c.rec }

// arm starts the wait for the first byte; idle <= 0 leaves it unbounded.
func (c *firstRequestConn) arm(idle time.Duration) {
	if idle <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.armed.Store(true)
	c.idleAt = time.Now().Add(idle)
	_ = c.Conn.SetReadDeadline(c.idleAt)
}

func (c *firstRequestConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 && c.armed.Load() {
		c.disarm()
	}
	return n, err
}

// disarm hands the read deadline back to the HTTP server once data came,
// restarting the deadline it asked for from now.
func (c *firstRequestConn) disarm() {
	if !c.armed.Load() {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.armed.Load() {
		return
	}
	c.armed.Store(false)
	d := c.want
	if c.wantFor > 0 {
		d = time.Now().Add(c.wantFor)
	}
	_ = c.Conn.SetReadDeadline(d)
}

func (c *firstRequestConn) SetReadDeadline(t time.Time) error {
	if !c.armed.Load() {
		return c.Conn.SetReadDeadline(t) // not waiting for the first byte: as asked
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.armed.Load() {
		return c.Conn.SetReadDeadline(t) // disarmed while we waited for the lock
	}
	now := time.Now()
	if !t.IsZero() && !t.After(now) {
		// A deadline in the past (the server aborting a read): as asked.
		return c.Conn.SetReadDeadline(t)
	}
	c.want, c.wantFor = t, 0
	if !t.IsZero() {
		c.wantFor = t.Sub(now)
	}
	return c.Conn.SetReadDeadline(c.idleAt)
}

func (c *firstRequestConn) SetDeadline(t time.Time) error {
	if err := c.Conn.SetWriteDeadline(t); err != nil {
		return err
	}
	return c.SetReadDeadline(t)
}
