package targetgroup

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/albmtls/albmtls/internal/idleslack"
)

// targetTLSHandshakeTimeout is ALB's TLS handshake timeout towards targets:
// "SSL handshake error or SSL handshake timeout (10 seconds)" is a 502
// [DOC: TS].
const targetTLSHandshakeTimeout = 10 * time.Second

// Connection-pool sizes: enough idle keep-alive connections per target that
// a loaded emulator reuses connections instead of dialling per request (Go's
// default keeps only 2 per host).
const (
	maxIdleConnsPerTarget = 256
	maxIdleConns          = 1024
)

// newTransport builds the group's shared HTTP/1.1 transport to its targets.
// ALB speaks HTTP/1.1 to targets by default (protocol version HTTP1) and does
// not verify target certificates.
func newTransport(cfg Config, d *dialer) *http.Transport {
	t := &http.Transport{
		Proxy:               nil, // never an environment proxy: targets are dialled directly
		DialContext:         d.dialOrdered,
		MaxIdleConns:        maxIdleConns,
		MaxIdleConnsPerHost: maxIdleConnsPerTarget,
		IdleConnTimeout:     cfg.IdleTimeout,
		DisableCompression:  true, // relay bodies as the target sent them
		ReadBufferSize:      32 << 10,
		WriteBufferSize:     32 << 10,
	}
	t.Protocols = new(http.Protocols)
	t.Protocols.SetHTTP1(true)
	if cfg.Protocol == "HTTPS" {
		t.DialTLSContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := d.dialTLS(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return &orderConn{Conn: c}, nil
		}
	}
	return t
}

func newDialer(cfg Config) *dialer {
	return &dialer{net: net.Dialer{Timeout: cfg.ConnectTimeout, KeepAlive: 30 * time.Second}, idle: cfg.IdleTimeout}
}

// dialer dials targets, classifies dial failures and applies the idle
// timeout to every read and write.
type dialer struct {
	net  net.Dialer
	idle time.Duration
}

// dialError marks a failure to reach a target, so Forward can tell it from a
// failure after the request was sent.
type dialError struct {
	err     error
	timeout bool // connect timeout: 504; anything else: 502
	tls     bool // the TCP connect worked, the TLS handshake did not: 502
	// addr is the IP address and port dialled, when known: what the
	// access log names for a target registered by hostname.
	addr netip.AddrPort
}

func (e *dialError) Error() string { return e.err.Error() }
func (e *dialError) Unwrap() error { return e.err }

func (d *dialer) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	c, err := d.net.DialContext(ctx, network, addr)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err() // the client went away while we dialled
		}
		return nil, &dialError{err: err, timeout: isTimeout(err), addr: dialledAddr(err)}
	}
	return newIdleConn(c, d.idle), nil
}

// dialOrdered dials a plain-HTTP connection for http.Transport, whose
// header blocks orderConn can reorder.
func (d *dialer) dialOrdered(ctx context.Context, network, addr string) (net.Conn, error) {
	c, err := d.dial(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	return &orderConn{Conn: c}, nil
}

func (d *dialer) dialTLS(ctx context.Context, network, addr string) (net.Conn, error) {
	c, err := d.dial(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	host, _, _ := net.SplitHostPort(addr)
	tc := tls.Client(c, &tls.Config{
		ServerName:         host,
		InsecureSkipVerify: true, //nolint:gosec // ALB does not verify target certificates
		NextProtos:         []string{"http/1.1"},
	})
	hctx, cancel := context.WithTimeout(ctx, targetTLSHandshakeTimeout)
	defer cancel()
	if err := tc.HandshakeContext(hctx); err != nil {
		c.Close()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, &dialError{err: err, tls: true, addr: remoteAddr(c)}
	}
	return tc, nil
}

// idleConn enforces ALB's idle timeout on a target connection: every read
// and write must make progress within idle. A target that goes silent
// mid-request thus fails with a timeout (504), and a pooled connection idle
// for that long is closed. A write also pushes back the read deadline,
// because the transport's read of a pooled connection is already pending
// (with the deadline set when it went idle) when the next request is sent.
//
// The deadlines are pushed back coarsely (internal/idleslack): to idle
// plus slack after a read or write, and only when slack has passed since
// they were last set. So the connection times out between idle and idle
// plus slack after its last progress, never sooner, and a kept-alive
// connection moves its two runtime timers once per slack instead of on
// every read and write (BENCHMARKS.md).
type idleConn struct {
	net.Conn
	idle, slack time.Duration
	remote      netip.AddrPort // RemoteAddr(), once per connection
	// set is when the deadlines were last set (an idleslack stamp; 0:
	// never); reads and writes may run at once (http.Transport).
	set atomic.Int64
}

// newIdleConn wraps c with the idle timeout idle.
func newIdleConn(c net.Conn, idle time.Duration) *idleConn {
	return &idleConn{Conn: c, idle: idle, slack: idleslack.Slack(idle), remote: addrPortOf(c.RemoteAddr())}
}

// progress pushes the deadlines back to idle plus slack from now, unless
// they were set less than slack ago.
func (c *idleConn) progress() error {
	now := time.Now()
	at := idleslack.Stamp(now)
	if !idleslack.Due(time.Duration(c.set.Load()), at, c.slack) {
		return nil
	}
	c.set.Store(int64(at))
	return c.Conn.SetDeadline(now.Add(c.idle + c.slack))
}

// remoteAddr returns the ip:port a connection to a target reached, for
// Attempt.Target: a hostname target resolves to one of its addresses.
func remoteAddr(c net.Conn) netip.AddrPort {
	if oc, ok := c.(*orderConn); ok {
		c = oc.Conn
	}
	if tc, ok := c.(*tls.Conn); ok {
		c = tc.NetConn()
	}
	if ic, ok := c.(*idleConn); ok {
		return ic.remote
	}
	return addrPortOf(c.RemoteAddr())
}

// dialledAddr is the address a failed dial tried (net.OpError.Addr: the
// first address of a hostname that was refused), invalid when unknown.
func dialledAddr(err error) netip.AddrPort {
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Addr != nil {
		return addrPortOf(oe.Addr)
	}
	return netip.AddrPort{}
}

// addrPortOf is a TCP address as logged: IPv4 without the ::ffff: prefix.
func addrPortOf(a net.Addr) netip.AddrPort {
	if ta, ok := a.(*net.TCPAddr); ok {
		ap := ta.AddrPort()
		return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	}
	ap, _ := netip.ParseAddrPort(a.String())
	return ap
}

func (c *idleConn) Read(b []byte) (int, error) {
	if err := c.progress(); err != nil {
		return 0, err
	}
	return c.Conn.Read(b)
}

func (c *idleConn) Write(b []byte) (int, error) {
	if err := c.progress(); err != nil {
		return 0, err
	}
	return c.Conn.Write(b)
}
