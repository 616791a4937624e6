package listener

import "net"

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
// ends holding before the connection is shared with the HTTP server.
type holdConn struct {
	net.Conn
	holding bool
	held    []byte
}

func newHoldConn(c net.Conn) *holdConn { return &holdConn{Conn: c, holding: true} }

func (c *holdConn) Write(p []byte) (int, error) {
	if c.holding {
		c.held = append(c.held, p...)
		return len(p), nil
	}
	return c.Conn.Write(p)
}

func (c *holdConn) Read(p []byte) (int, error) {
	if c.holding && len(c.held) > 0 {
		if err := c.flush(); err != nil {
			return 0, err
		}
	}
	return c.Conn.Read(p)
}

func (c *holdConn) flush() error {
	_, err := c.Conn.Write(c.held)
	c.held = c.held[:0]
	return err
}

// release sends anything held and stops holding.
func (c *holdConn) release() error {
	c.holding = false
	if len(c.held) == 0 {
		return nil
	}
	err := c.flush()
	c.held = nil
	return err
}

// discard drops anything held (the alert of a rejected handshake) and stops
// holding.
func (c *holdConn) discard() {
	c.holding = false
	c.held = nil
}
