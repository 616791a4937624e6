package targetgroup

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/textproto"
	"slices"
	"sync"
	"syscall"
	"time"
)

// maxResponseHeaderBytes bounds a target's response headers (and any 1xx
// responses before them), as http.Transport's default does.
const maxResponseHeaderBytes = 10 << 20

// syncTransport relays plain-HTTP requests without a body over pooled
// HTTP/1.1 keep-alive connections, writing the request and reading the
// response in the caller's goroutine. http.Transport hands every request to
// a writer goroutine and gets the response back from a reader goroutine per
// connection; on a proxy's keep-alive path those hand-offs cost more CPU
// than the rest of the relay (BENCHMARKS.md). HTTPS targets, requests with
// a body, upgrades and CONNECT go to fallback, which does them all.
//
// Like http.Transport it retries an idempotent request once, on a new
// connection, when a pooled connection turns out to be closed before any
// response byte arrived; it does not retry timeouts (the target has the
// request and is silent: ALB's 504).
type syncTransport struct {
	dial         func(ctx context.Context, network, addr string) (net.Conn, error)
	fallback     http.RoundTripper
	idleTimeout  time.Duration // pooled connections idle this long are closed
	maxPerTarget int           // idle connections kept per target
	maxIdle      int           // idle connections kept in all

	mu    sync.Mutex
	idle  map[string][]*syncConn // per target address, most recently used last
	nIdle int
}

func newSyncTransport(d *dialer, fallback http.RoundTripper, idleTimeout time.Duration) *syncTransport {
	return &syncTransport{
		dial: d.dial, fallback: fallback, idleTimeout: idleTimeout,
		maxPerTarget: maxIdleConnsPerTarget, maxIdle: maxIdleConns,
		idle: map[string][]*syncConn{},
	}
}

// syncConn is one connection to a target with its buffers. While pooled it
// is owned by the pool; otherwise by the one request using it.
type syncConn struct {
	t      *syncTransport
	addr   string // pool key: the target as configured
	conn   net.Conn
	probe  *probe        // checks the connection before reuse; nil: never pooled
	br     *bufio.Reader // reads through syncConn.Read, for the header limit
	bw     *bufio.Writer
	limit  int64            // bytes Read may still return
	reused bool             // taken from the pool: a failure may be a stale connection
	idleAt time.Time        // when it was pooled; guarded by t.mu
	timer  *time.Timer      // closes it once idle for idleTimeout
	armed  bool             // timer will run; guarded by t.mu
	head   *respHead        // ForwardDirect's response head, reused
	body   io.LimitedReader // ForwardDirect's reader of a body of known length, reused
}

// Read applies the response header limit to the reads of br.
func (c *syncConn) Read(p []byte) (int, error) {
	if c.limit <= 0 {
		return 0, fmt.Errorf("target response headers exceed %d bytes", maxResponseHeaderBytes)
	}
	if int64(len(p)) > c.limit {
		p = p[:c.limit]
	}
	n, err := c.conn.Read(p)
	c.limit -= int64(n)
	return n, err
}

// handles reports whether req is for the synchronous path.
func handles(req *http.Request) bool {
	return req.URL.Scheme == "http" && (req.Body == nil || req.Body == http.NoBody) &&
		req.Method != http.MethodConnect && req.Header.Get("Upgrade") == ""
}

// RoundTrip implements http.RoundTripper.
func (t *syncTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if !handles(req) {
		return t.fallback.RoundTrip(req)
	}
	ctx := req.Context()
	trace := httptrace.ContextClientTrace(ctx)
	c, err := t.get(ctx, req.URL.Host, trace)
	if err != nil {
		return nil, err
	}
	resp, retry, err := t.exchange(ctx, req, c, trace)
	if retry {
		if c, err = t.dialConn(ctx, req.URL.Host, trace); err != nil {
			return nil, err
		}
		resp, _, err = t.exchange(ctx, req, c, trace)
	}
	return resp, err
}

// exchange sends req on c and reads the response head. On failure c is
// closed, and retry says whether a new connection may be tried: c came from
// the pool, req is replayable, and the failure was a closed or reset
// connection before any response byte.
func (t *syncTransport) exchange(ctx context.Context, req *http.Request, c *syncConn, trace *httptrace.ClientTrace) (_ *http.Response, retry bool, _ error) {
	stop := context.AfterFunc(ctx, func() { c.conn.Close() }) // unblocks reads and writes
	fail := func(err error, stale bool) (*http.Response, bool, error) {
		stop()
		c.close()
		if ctx.Err() != nil {
			return nil, false, ctx.Err()
		}
		return nil, stale && c.reused && replayable(req) && !isTimeout(err), err
	}
	if o, ok := orderFor(req); !ok || !writeOrdered(c.bw, req, o) {
		if err := req.Write(c.bw); err != nil {
			return fail(err, false)
		}
	}
	if err := c.bw.Flush(); err != nil {
		return fail(err, true)
	}
	if trace != nil && trace.WroteHeaders != nil {
		trace.WroteHeaders()
	}
	if trace != nil && trace.WroteRequest != nil {
		trace.WroteRequest(httptrace.WroteRequestInfo{})
	}
	c.limit = maxResponseHeaderBytes
	if _, err := c.br.Peek(1); err != nil {
		return fail(err, true)
	}
	if trace != nil && trace.GotFirstResponseByte != nil {
		trace.GotFirstResponseByte()
	}
	var resp *http.Response
	for {
		var err error
		if resp, err = http.ReadResponse(c.br, req); err != nil {
			return fail(err, false)
		}
		if resp.StatusCode == http.StatusSwitchingProtocols {
			return fail(errors.New("target switched protocols without an upgrade request"), false)
		}
		if resp.StatusCode >= 200 {
			break
		}
		if trace != nil && trace.Got1xxResponse != nil {
			if err := trace.Got1xxResponse(resp.StatusCode, textproto.MIMEHeader(resp.Header)); err != nil {
				return fail(err, false)
			}
			c.limit = maxResponseHeaderBytes // delivered: the next head gets its own limit
		}
	}
	c.limit = math.MaxInt64
	reuse := !resp.Close && !req.Close
	if resp.Body == http.NoBody { // HEAD, 204, 304, Content-Length: 0
		t.release(c, stop, reuse)
		return resp, false, nil
	}
	resp.Body = &syncBody{body: resp.Body, ctx: ctx, t: t, c: c, stop: stop, reuse: reuse}
	return resp, false, nil
}

// replayable reports whether req may be sent again, by net/http's rule:
// a safe method, or a client that marked the request idempotent.
func replayable(req *http.Request) bool {
	switch req.Method {
	case "", http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return true
	}
	_, ok := req.Header["Idempotency-Key"]
	_, okX := req.Header["X-Idempotency-Key"]
	return ok || okX
}

// release ends a request's use of c: back to the pool if the response was
// read to its end, the connection may be kept, the request was not
// cancelled, nothing beyond the response was read, and c can be probed
// before its next use (see get); closed otherwise. Bytes that arrived with
// the response but after its end (Buffered) are a target framing error:
// the connection is dropped at once. Bytes still in the kernel are caught
// by the probe in get, which runs later and so sees at least as much as a
// probe here would.
func (t *syncTransport) release(c *syncConn, stop func() bool, reuse bool) {
	if stop() && reuse && c.br.Buffered() == 0 && c.probe != nil {
		t.put(c)
		return
	}
	c.close()
}

// syncBody is a response body on a syncConn. At its end the connection goes
// back to the pool; closed early or failing, the connection is closed (the
// rest of the body is not drained).
type syncBody struct {
	body  io.Reader
	ctx   context.Context
	t     *syncTransport
	c     *syncConn
	stop  func() bool
	reuse bool
	err   error // what ended the body; then c is no longer ours
}

func (b *syncBody) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	n, err := b.body.Read(p)
	switch {
	case err == io.EOF:
		b.err = err
		b.t.release(b.c, b.stop, b.reuse)
	case err != nil:
		b.stop()
		b.c.close()
		if b.ctx.Err() != nil {
			err = b.ctx.Err()
		}
		b.err = err
	}
	return n, err
}

func (b *syncBody) Close() error {
	if b.err == nil {
		b.err = http.ErrBodyReadAfterClose
		b.stop()
		b.c.close()
	}
	return nil
}

// get returns the most recently pooled connection to addr that is still
// quiet and open, or a new one. Each candidate is probed (probe.clean) just
// before use: a connection on which the target has sent anything since its
// last response, or half-closed, is closed instead of reused, so late bytes
// from one exchange can never be read as the response to the next, which
// may be another client's (issue 19).
//
// The window that remains: bytes the target sends after the probe, while
// this request is being written or answered, are read as this request's
// response, as they would be by net/http's Transport (its idle read loop
// only catches bytes that arrive while no request is outstanding). HTTP/1.1
// has no way to tell a late byte from an answer once a request is on the
// wire; only a target that writes after its response is complete can hit
// it, and the probe leaves it the time between the probe and the request
// write (microseconds) instead of the whole idle period.
func (t *syncTransport) get(ctx context.Context, addr string, trace *httptrace.ClientTrace) (*syncConn, error) {
	for {
		t.mu.Lock()
		l := t.idle[addr]
		if len(l) == 0 {
			t.mu.Unlock()
			break
		}
		c := l[len(l)-1]
		l[len(l)-1] = nil
		t.idle[addr] = l[:len(l)-1]
		t.nIdle--
		idle := time.Since(c.idleAt)
		t.mu.Unlock()
		if idle >= t.idleTimeout || !c.probe.clean() { // expired (its timer has not run yet), or dirty
			c.close()
			continue
		}
		c.reused = true
		if trace != nil && trace.GotConn != nil {
			trace.GotConn(httptrace.GotConnInfo{Conn: c.conn, Reused: true, WasIdle: true, IdleTime: idle})
		}
		return c, nil
	}
	return t.dialConn(ctx, addr, trace)
}

// dialConn opens a new connection to addr.
func (t *syncTransport) dialConn(ctx context.Context, addr string, trace *httptrace.ClientTrace) (*syncConn, error) {
	nc, err := t.dial(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	c := &syncConn{t: t, addr: addr, conn: nc, probe: probeOf(nc), bw: bufio.NewWriterSize(nc, 32<<10)}
	c.br = bufio.NewReaderSize(c, 32<<10)
	if trace != nil && trace.GotConn != nil {
		trace.GotConn(httptrace.GotConnInfo{Conn: nc})
	}
	return c, nil
}

// put pools c, or closes it when the pool is full.
func (t *syncTransport) put(c *syncConn) {
	t.mu.Lock()
	if len(t.idle[c.addr]) >= t.maxPerTarget || t.nIdle >= t.maxIdle {
		t.mu.Unlock()
		c.close()
		return
	}
	c.idleAt = time.Now()
	t.idle[c.addr] = append(t.idle[c.addr], c)
	t.nIdle++
	switch {
	case c.timer == nil:
		c.timer = time.AfterFunc(t.idleTimeout, c.expire)
	case !c.armed:
		c.timer.Reset(t.idleTimeout)
	}
	c.armed = true
	t.mu.Unlock()
}

// expire closes c if it is still pooled and has been idle for idleTimeout.
// The timer is not stopped when c leaves the pool, nor reset each time it
// comes back (two timer operations per request less on a kept-alive
// path): a run that finds c in use does nothing, and put arms the timer
// again; one that finds c pooled again too recently runs again when c's
// idle period ends.
func (c *syncConn) expire() {
	t := c.t
	t.mu.Lock()
	l := t.idle[c.addr]
	i := slices.Index(l, c)
	if i < 0 {
		c.armed = false
		t.mu.Unlock()
		return
	}
	if left := t.idleTimeout - time.Since(c.idleAt); left > 0 {
		c.timer.Reset(left)
		t.mu.Unlock()
		return
	}
	c.armed = false
	t.idle[c.addr] = slices.Delete(l, i, i+1)
	t.nIdle--
	t.mu.Unlock()
	c.conn.Close()
}

// close closes c for good, by the request that holds it: its idle timer,
// which may still be set from when c was last pooled, is stopped, so it
// does not keep c's buffers for up to idleTimeout after c is gone.
func (c *syncConn) close() {
	c.conn.Close()
	if c.timer != nil {
		c.timer.Stop()
	}
}

// CloseIdleConnections closes every pooled connection, the fallback's too.
func (t *syncTransport) CloseIdleConnections() {
	var all []*syncConn
	t.mu.Lock()
	for addr, l := range t.idle {
		for _, c := range l {
			c.timer.Stop()
			c.armed = false
		}
		all = append(all, l...)
		delete(t.idle, addr)
	}
	t.nIdle = 0
	t.mu.Unlock()
	closeAll(all)
	if ci, ok := t.fallback.(interface{ CloseIdleConnections() }); ok {
		ci.CloseIdleConnections()
	}
}

func closeAll(cs []*syncConn) {
	for _, c := range cs {
		c.conn.Close()
	}
}

// probeOf returns the idle probe of a target connection, or nil when it
// has no file descriptor (or the platform cannot probe): such a connection
// is never pooled.
func probeOf(nc net.Conn) *probe {
	if !probeSupported {
		return nil
	}
	if ic, ok := nc.(*idleConn); ok {
		nc = ic.Conn
	}
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	return newProbe(rc)
}
