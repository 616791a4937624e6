// Package http1 is albmtls's own HTTP/1.x server side, the experimental
// front end chosen with emulation.http1_front_end: albmtls
// (docs/http1-front-end.md). It reads each request head itself with a
// strict parser and reusable buffers, classifies it with emulator/desync as
// ALB does (alb-behaviour §4.5, docs/desync.md), and hands the request to
// the same http.Handler net/http would call (emulator/routing), through a
// small http.ResponseWriter, so the routing, the forwarded headers, ALB's
// pages and the access-log lines are those of the net/http path. HTTP/2
// and upgrades stay on net/http.
package http1

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/albmtls/albmtls/emulator/albresponse"
	"github.com/albmtls/albmtls/emulator/desync"
	"github.com/albmtls/albmtls/internal/idleslack"
)

// Server serves HTTP/1.x connections handed to it with ServeConn.
type Server struct {
	// Handler serves each request (routing.Handler through the drain).
	Handler http.Handler
	// IdleTimeout bounds the wait for a kept-alive connection's next
	// request; 0 is unbounded.
	IdleTimeout time.Duration
	// ReadHeaderTimeout bounds reading a request head once its first byte
	// came; 0 is unbounded.
	ReadHeaderTimeout time.Duration
	// MaxHeaderBytes bounds the request head (net/http's MaxHeaderBytes
	// rule: the head may be that plus 4096 bytes).
	MaxHeaderBytes int
	// Desync is the listener's desync mitigation mode; requests this
	// parser cannot frame are answered 400 whatever it is.
	Desync desync.Mode
	// Pages shapes the 400 page of requests refused before the handler.
	Pages albresponse.ResponseOptions
	// ConnState is called as http.Server.ConnState is.
	ConnState func(net.Conn, http.ConnState)

	mu       sync.Mutex
	conns    map[*conn]struct{}
	shutdown atomic.Bool
	wg       sync.WaitGroup
}

// lingerTimeout bounds the read of what a refused client still sends.
const lingerTimeout = 500 * time.Millisecond

// HeadRecorder receives the head of each request the front end parsed,
// before its handler runs (listener.HeaderOrder.Push: the emulator takes
// the client's header order and the desync classification from it):
// names are the header names, canonical, one per header line in the order
// sent; head is the raw head. names is valid until the handler returns.
type HeadRecorder interface {
	Push(names []string, head []byte)
}

// ServeConn serves nc until the client or the server ends it; ctx is the
// connection's context (what http.Server.ConnContext would return). It
// closes nc.
func (s *Server) ServeConn(ctx context.Context, nc net.Conn) { s.ServeConnRecording(ctx, nc, nil) }

// ServeConnRecording is ServeConn with each request's head pushed to heads
// (nil: none).
func (s *Server) ServeConnRecording(ctx context.Context, nc net.Conn, heads HeadRecorder) {
	c := &conn{srv: s, nc: nc, ctx: ctx, heads: heads, base: (&http.Request{}).WithContext(ctx), remote: nc.RemoteAddr().String()}
	if tc, ok := nc.(interface{ ConnectionState() tls.ConnectionState }); ok {
		st := tc.ConnectionState()
		c.tls = &st
	}
	s.mu.Lock()
	if s.shutdown.Load() {
		s.mu.Unlock()
		nc.Close()
		return
	}
	if s.conns == nil {
		s.conns = map[*conn]struct{}{}
	}
	s.conns[c] = struct{}{}
	s.wg.Add(1)
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
		s.wg.Done()
	}()
	c.setState(http.StateNew)
	c.serve()
	if c.hijacked {
		return // the handler's now, closed by it
	}
	if c.linger {
		// Read what the client still sends for a moment, so the close does
		// not reset the connection under the page in flight.
		_ = nc.SetReadDeadline(time.Now().Add(lingerTimeout))
		_, _ = io.CopyN(io.Discard, nc, 1<<20)
	}
	nc.Close()
	c.setState(http.StateClosed)
}

// Shutdown closes idle connections, lets the others finish the request
// they are serving (then closes them), and waits for them until ctx ends.
func (s *Server) Shutdown(ctx context.Context) error {
	// Under mu, as ServeConnRecording checks shutdown and adds to wg: a
	// connection either sees it or is counted before the wait starts.
	s.mu.Lock()
	s.shutdown.Store(true)
	s.mu.Unlock()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	t := time.NewTicker(5 * time.Millisecond)
	defer t.Stop()
	for {
		s.closeIdle()
		select {
		case <-done:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// Close closes every connection at once.
func (s *Server) Close() {
	s.shutdown.Store(true)
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		c.nc.Close()
	}
}

func (s *Server) closeIdle() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		if c.idle.Load() {
			// A read deadline in the past ends the wait for the next request.
			_ = c.nc.SetReadDeadline(time.Unix(1, 0))
		}
	}
}

// conn is one connection being served.
type conn struct {
	srv   *Server
	nc    net.Conn
	ctx   context.Context
	base  *http.Request // an empty request with ctx, copied for each request
	heads HeadRecorder  // nil: no one records heads
	br    *bufio.Reader
	bw    *bufio.Writer
	idle  atomic.Bool
	// linger: the client may still be sending what was refused.
	linger bool
	head   []byte // the raw head being parsed, reused
	p      parsed
	// hijacked: the handler took the connection (response.Hijack).
	hijacked bool
	remote   string               // nc.RemoteAddr().String()
	tls      *tls.ConnectionState // nc's, after its handshake; nil without TLS
	w        response
	// idleSet is when the read deadline was last set for the idle wait
	// (an idleslack stamp); 0 when the deadline is another one.
	idleSet time.Duration
	// dateBuf is the Date header of the second dateSec (response.commit).
	dateSec int64
	dateBuf []byte
}

var (
	readerPool = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 4096) }}
	writerPool = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, 4096) }}
)

func (c *conn) setState(st http.ConnState) {
	if c.srv.ConnState != nil {
		c.srv.ConnState(c.nc, st)
	}
}

func (c *conn) serve() {
	c.br = readerPool.Get().(*bufio.Reader)
	c.br.Reset(c.nc)
	c.bw = writerPool.Get().(*bufio.Writer)
	c.bw.Reset(c.nc)
	defer func() {
		if c.hijacked {
			return // the handler may still hold the buffers
		}
		c.br.Reset(nil)
		readerPool.Put(c.br)
		c.bw.Reset(nil)
		writerPool.Put(c.bw)
	}()
	for first := true; ; first = false {
		if !first {
			c.idle.Store(true)
			c.setState(http.StateIdle)
			if c.srv.shutdown.Load() {
				return
			}
			if d := c.srv.IdleTimeout; d > 0 {
				c.idleDeadline(d)
			}
			if _, err := c.br.Peek(1); err != nil {
				return
			}
			c.idle.Store(false)
		}
		if d := c.srv.ReadHeaderTimeout; d > 0 && (first || !headBuffered(c.br)) {
			// A kept-alive request whose whole head came with its first
			// byte needs no read to be parsed, so no head deadline: the
			// idle wait's stays until a body read clears it.
			c.setReadDeadline(time.Now().Add(d))
		}
		keep := c.serveOne()
		if !keep {
			return
		}
	}
}

// idleDeadline sets the read deadline of the wait for a kept-alive
// connection's next request coarsely (internal/idleslack): idle plus
// slack from now, unless this wait's deadline was set less than slack ago
// and nothing set another since. The connection thus closes between idle
// and idle plus slack after its last response, never sooner, and a busy
// kept-alive connection moves its read timer once per slack instead of
// once per request (BENCHMARKS.md).
func (c *conn) idleDeadline(idle time.Duration) {
	now := time.Now()
	at, slack := idleslack.Stamp(now), idleslack.Slack(idle)
	if !idleslack.Due(c.idleSet, at, slack) {
		return
	}
	c.idleSet = at
	_ = c.nc.SetReadDeadline(now.Add(idle + slack))
}

// setReadDeadline sets a read deadline other than the idle wait's.
func (c *conn) setReadDeadline(t time.Time) {
	c.idleSet = 0
	_ = c.nc.SetReadDeadline(t)
}

// headBuffered reports whether br holds a whole request head: after any
// empty lines (which readHead skips), a line end followed by an empty line.
func headBuffered(br *bufio.Reader) bool {
	b, _ := br.Peek(br.Buffered())
	for len(b) > 0 && (b[0] == '\r' || b[0] == '\n') {
		b = b[1:]
	}
	for {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			return false
		}
		b = b[i+1:]
		if len(b) > 0 && b[0] == '\n' || len(b) > 1 && b[0] == '\r' && b[1] == '\n' {
			return true
		}
	}
}

// serveOne reads and serves one request; it reports whether the
// connection may serve another.
func (c *conn) serveOne() bool {
	max := c.srv.MaxHeaderBytes
	if max <= 0 {
		max = http.DefaultMaxHeaderBytes
	}
	head, err := readHead(c.br, c.head[:0], max+4096)
	c.head = head[:0]
	if err != nil {
		// A head over the bound is far over ALB's quotas (package alb):
		// ALB's 400, where net/http would answer its own 431.
		if errors.Is(err, errHeadTooLarge) || (len(head) > 0 && !isTimeoutOrEOF(err)) {
			c.refuse(http.StatusBadRequest)
		}
		return false
	}
	c.setState(http.StateActive)
	perr := c.p.parse(head)
	if perr != nil || c.p.chunked || c.p.contentLength != 0 {
		// The body is read without the head's deadline. A request without
		// one keeps it: nothing reads the connection until the next
		// request's wait sets the idle deadline (a hijack clears it).
		c.setReadDeadline(time.Time{})
	}
	if perr != nil {
		// A head this parser cannot frame. Where ALB's mode blocks its
		// class, routing answers (with its access-log line) and reads no
		// body; otherwise it is refused here, as net/http refuses it. The
		// head is classified here for that decision; routing gets the same
		// class from the head recorder (HeadRecorder: the listener's,
		// which classifies what it is pushed), as for heads that parse.
		class, _ := desync.Classify(head)
		if perr.routable && desync.Decide(c.srv.Desync, class) == desync.Block {
			if c.heads != nil {
				c.heads.Push(c.p.names, head)
			}
			r := c.p.request(c.base, c.remote, c.tls, http.NoBody)
			r.Close = true
			c.w.reset(c, r)
			c.srv.Handler.ServeHTTP(&c.w, r)
			c.w.finish()
			return false
		}
		c.refuse(http.StatusBadRequest)
		return false
	}
	if c.heads != nil {
		c.heads.Push(c.p.names, head)
	}
	body, bodyErr := c.body()
	r := c.p.request(c.base, c.remote, c.tls, body)
	c.w.reset(c, r)
	if !c.handle(r) || c.hijacked {
		// Aborted (the connection ends without completing the response),
		// or hijacked.
		return false
	}
	c.w.finish()
	if c.w.closeAfter || c.srv.shutdown.Load() || bodyErr.failed {
		return false
	}
	// What the handler left of the body is discarded, up to a bound.
	if b, isBody := body.(*bodyReader); isBody && !b.done {
		if n, err := io.CopyN(io.Discard, b, 256<<10); err != io.EOF || n > 256<<10 {
			return false
		}
	}
	return true
}

// handle runs the handler; false when it aborted (http.ErrAbortHandler).
func (c *conn) handle(r *http.Request) (ok bool) {
	defer func() {
		if v := recover(); v != nil {
			if v != http.ErrAbortHandler {
				panic(v)
			}
			ok = false
		}
	}()
	c.srv.Handler.ServeHTTP(&c.w, r)
	return true
}

// refuse writes ALB's page for a request refused before the handler and
// the connection closes.
func (c *conn) refuse(code int) {
	r := &http.Request{Method: http.MethodGet, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1, Header: http.Header{}, Body: http.NoBody, Close: true}
	r = r.WithContext(c.ctx)
	c.w.reset(c, r)
	c.w.closeAfter = true
	albresponse.WriteError(&c.w, r, code, c.srv.Pages)
	c.w.finish()
	c.linger = true
}

func isTimeoutOrEOF(err error) bool {
	var ne net.Error
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) || (errors.As(err, &ne) && ne.Timeout())
}
