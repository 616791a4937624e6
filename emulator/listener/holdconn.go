package listener

import (
	"net"
	"sync"
)

// holdConn sits under the server's tls.Conn during the handshake and holds
// back what the TLS stack writes until the stack next reads from the client.
// A flight is therefore still sent before the server waits for the answer,
// but the last thing written before a failed handshake — the TLS alert — is
// still in hand when the handshake returns, and can be dropped.
//
// ALB (s2n-tls) sends no alert when it rejects a client certificate: a TLS
// 1.3 client sees its handshake complete and then a TCP reset (alb-behaviour §2.3,
// §9.4; alb-behaviour §S0 (item 4)). Go's crypto/tls always writes an alert, so without
// this the emulator could not reproduce that.
//
// holdConn is used by one goroutine during the handshake; release or discard
// ends holding before the connection is shared with the HTTP server. The
// buffer that holds the flights comes from a pool and goes back to it then.
type holdConn struct {
	net.Conn
	holding bool
	held    *[]byte
}

// heldBufs are the buffers of holdConn: a server flight is a few KB (the
// certificate chain), so a buffer is reused by later handshakes rather than
// grown afresh for each.
var heldBufs = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// maxPooledHeld bounds the buffers put back: an unusually large flight (a
// long certificate chain) does not stay in the pool.
const maxPooledHeld = 64 << 10

func newHoldConn(c net.Conn) *holdConn { return &holdConn{Conn: c, holding: true} }

// record is the connection's record, from the connection under it.
func (c *holdConn) record() *Conn { return recordOf(c.Conn) }

func (c *holdConn) Write(p []byte) (int, error) {
	if c.holding {
		if c.held == nil {
			c.held = heldBufs.Get().(*[]byte)
		}
		*c.held = append(*c.held, p...)
		return len(p), nil
	}
	return c.Conn.Write(p)
}

func (c *holdConn) Read(p []byte) (int, error) {
	if c.holding && c.held != nil && len(*c.held) > 0 {
		if err := c.flush(); err != nil {
			return 0, err
		}
	}
	return c.Conn.Read(p)
}

func (c *holdConn) flush() error {
	_, err := c.Conn.Write(*c.held)
	*c.held = (*c.held)[:0]
	return err
}

// release sends anything held and stops holding.
func (c *holdConn) release() error {
	c.holding = false
	if c.held == nil {
		return nil
	}
	var err error
	if len(*c.held) > 0 {
		err = c.flush()
	}
	c.free()
	return err
}

// discard drops anything held (the alert of a rejected handshake) and stops
// holding.
func (c *holdConn) discard() {
	c.holding = false
	if c.held != nil {
		*c.held = (*c.held)[:0]
		c.free()
	}
}

func (c *holdConn) free() {
	if cap(*c.held) <= maxPooledHeld {
		heldBufs.Put(c.held)
	}
	c.held = nil
}
