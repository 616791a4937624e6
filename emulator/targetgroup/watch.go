package targetgroup

import (
	"context"
	"sync"
)

// A watch closes the target connection a client connection's request is
// using when the client connection's context ends (the listener's drain
// cuts its requests): what ForwardDirect otherwise arranges per request
// with context.AfterFunc, arranged once per client connection. Every
// connection's context derives from one listener-wide context, and an
// AfterFunc per request registers on it and unregisters from it: two
// allocations and two locks of a mutex all connections share, on every
// request (docs/http1-front-end.md).
//
// A watch serves requests that come one after another (the requests of an
// HTTP/1.x connection); it holds one target connection at a time.
type watch struct {
	mu      sync.Mutex
	cur     *syncConn   // the request's target connection; nil between requests
	ended   bool        // the context ended: hold closes what it is given
	release func() bool // drop, as a func value made once: hold returns it per request
}

type watchKey struct{}

// WithWatch returns ctx carrying a watch for the requests of one client
// connection, served one after another, and the function that removes the
// watch from ctx's parent when the connection ends (it must be called, as
// a context.AfterFunc's stop must). ForwardDirect uses the watch of its
// request's context, if any, instead of a context.AfterFunc of its own.
func WithWatch(ctx context.Context) (context.Context, func() bool) {
	if ctx.Done() == nil {
		return ctx, alwaysStopped // never ends: nothing to watch
	}
	w := &watch{}
	w.release = w.drop
	stop := context.AfterFunc(ctx, w.end)
	return context.WithValue(ctx, watchKey{}, w), stop
}

// watchOf returns the watch ctx carries, or nil.
func watchOf(ctx context.Context) *watch {
	w, _ := ctx.Value(watchKey{}).(*watch)
	return w
}

// hold makes c the connection closed if the context ends, and returns the
// function to call when the request is done with c, which reports, as a
// context.AfterFunc's stop does, false when the context ended and c was
// closed. c is closed at once when the context has ended already.
func (w *watch) hold(c *syncConn) func() bool {
	w.mu.Lock()
	if w.ended {
		w.mu.Unlock()
		c.conn.Close()
		return neverStopped
	}
	w.cur = c
	w.mu.Unlock()
	return w.release
}

// drop ends the hold of the current connection.
func (w *watch) drop() bool {
	w.mu.Lock()
	held := w.cur != nil
	w.cur = nil
	w.mu.Unlock()
	return held
}

// end runs when the context ends: the connection held is closed.
func (w *watch) end() {
	w.mu.Lock()
	c := w.cur
	w.cur, w.ended = nil, true
	w.mu.Unlock()
	if c != nil {
		c.conn.Close()
	}
}

func neverStopped() bool { return false }
