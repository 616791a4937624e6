package albresponse

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// ALB keeps a connection open after its own redirect, fixed-response and
// most error pages (alb-behaviour §8.2: "Connection: keep-alive"). Writing
// them in ALB's byte order needs a hijacked connection (writeRaw), which
// net/http then no longer serves. resume hands such a connection to a
// companion http.Server that copies the original's handler, timeouts and
// hooks, so the client's next request is served as if nothing happened:
//
//   - the context values the original server attached to the connection
//     (ConnContext, e.g. the emulator's per-connection TLS record) are
//     carried over, since the companion cannot compute them again;
//   - the original's ConnState hook sees the connection again from
//     StateNew (after its StateHijacked);
//   - Shutdown of the original shuts the companion down too
//     (RegisterOnShutdown); Close of the original does not reach it, and
//     the companion's connections then end at their idle timeout.
//
// The wait for the first request on a resumed connection is bounded by the
// server's ReadHeaderTimeout rather than its IdleTimeout, because net/http
// starts reading a new connection's first request at once.

// companionShutdownTimeout bounds the companion's graceful shutdown once
// the original server shuts down; it is closed after that.
const companionShutdownTimeout = 30 * time.Second

// companion serves the resumed connections of one original server.
type companion struct {
	srv  *http.Server
	ctxs sync.Map // net.Conn → context.Context with the connection's values
	// waiting holds the connections still waiting for their first request
	// on the companion: net/http counts them as new, not idle, and its
	// Shutdown would leave them open for 5 s; they are idle to the client.
	waiting sync.Map // net.Conn → struct{}
	// closing is set when the original shuts down: a connection the
	// companion accepts from then on is closed at once (it may reach
	// StateNew after the shutdown hook closed the waiting ones).
	closing atomic.Bool
}

// companions maps an original server, and each companion server itself
// (a resumed connection can be hijacked again), to its companion.
var companions sync.Map // *http.Server → *companion

func companionFor(orig *http.Server) *companion {
	if v, ok := companions.Load(orig); ok {
		return v.(*companion)
	}
	cp := &companion{}
	origState := orig.ConnState
	cp.srv = &http.Server{
		Handler:                      orig.Handler,
		DisableGeneralOptionsHandler: orig.DisableGeneralOptionsHandler,
		ReadTimeout:                  orig.ReadTimeout,
		ReadHeaderTimeout:            orig.ReadHeaderTimeout,
		WriteTimeout:                 orig.WriteTimeout,
		IdleTimeout:                  orig.IdleTimeout,
		MaxHeaderBytes:               orig.MaxHeaderBytes,
		ErrorLog:                     orig.ErrorLog,
		BaseContext:                  orig.BaseContext,
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			if v, ok := cp.ctxs.Load(c); ok {
				return connValues{Context: ctx, saved: v.(context.Context)}
			}
			return ctx
		},
		ConnState: func(c net.Conn, st http.ConnState) {
			if origState != nil {
				origState(c, st)
			}
			switch st {
			case http.StateNew:
				cp.waiting.Store(c, struct{}{})
				if cp.closing.Load() {
					_ = c.Close()
				}
			case http.StateActive:
				cp.waiting.Delete(c)
			case http.StateClosed, http.StateHijacked:
				cp.waiting.Delete(c)
				cp.ctxs.Delete(c)
			}
		},
	}
	if v, loaded := companions.LoadOrStore(orig, cp); loaded {
		return v.(*companion)
	}
	companions.Store(cp.srv, cp)
	orig.RegisterOnShutdown(func() {
		cp.closing.Store(true)
		cp.waiting.Range(func(c, _ any) bool {
			_ = c.(net.Conn).Close()
			return true
		})
		ctx, cancel := context.WithTimeout(context.Background(), companionShutdownTimeout)
		defer cancel()
		if err := cp.srv.Shutdown(ctx); err != nil {
			_ = cp.srv.Close()
		}
	})
	return cp
}

// resume serves conn's further requests. ctx is the context of the request
// just answered: its values stand in for the connection's.
func resume(orig *http.Server, conn net.Conn, ctx context.Context) {
	if s, ok := ctx.Value(savedKey{}).(context.Context); ok {
		ctx = s // already resumed once: keep the first saved values
	}
	cp := companionFor(orig)
	cp.ctxs.Store(conn, ctx)
	l := &oneConnListener{conn: conn}
	go func() {
		_ = cp.srv.Serve(l) // returns once conn is accepted, or at once when shut down
		if !l.taken.Load() {
			cp.ctxs.Delete(conn)
			_ = conn.Close()
		}
	}()
}

// savedKey finds the saved values of a resumed connection.
type savedKey struct{}

// connValues is a companion connection's context: the companion's own
// values and cancellation first, then the saved values of the original
// connection.
type connValues struct {
	context.Context
	saved context.Context
}

func (c connValues) Value(k any) any {
	if _, ok := k.(savedKey); ok {
		return c.saved
	}
	if v := c.Context.Value(k); v != nil {
		return v
	}
	return c.saved.Value(k)
}

// errOneConnDone ends Serve on a oneConnListener once its connection is out.
var errOneConnDone = errors.New("albresponse: resumed connection handed over")

// oneConnListener yields one connection, then ends Serve. Closing it does
// not close the connection, which the server now owns.
type oneConnListener struct {
	conn  net.Conn
	taken atomic.Bool
}

func (l *oneConnListener) Accept() (net.Conn, error) {
	if l.taken.Swap(true) {
		return nil, errOneConnDone
	}
	return l.conn, nil
}

func (l *oneConnListener) Close() error   { return nil }
func (l *oneConnListener) Addr() net.Addr { return l.conn.LocalAddr() }
