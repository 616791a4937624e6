package emulator

import (
	"crypto/tls"
	"net"
	"net/http"

	"github.com/albmtls/albmtls/emulator/albresponse"
	"github.com/albmtls/albmtls/emulator/http1"
	"github.com/albmtls/albmtls/emulator/routing"
	"github.com/albmtls/albmtls/emulator/targetgroup"
)

// frontListener hands the listener's HTTP/1.x connections to albmtls's own
// front end (emulation.http1_front_end: albmtls, docs/http1-front-end.md)
// and passes the others (HTTP/2) on to net/http's server.
type frontListener struct {
	net.Listener
	lr *listenerRuntime
}

func (f frontListener) Accept() (net.Conn, error) {
	for {
		c, err := f.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if tc, ok := c.(*tls.Conn); ok && tc.ConnectionState().NegotiatedProtocol == "h2" {
			return c, nil
		}
		go f.lr.serveHTTP1(c)
	}
}

func (lr *listenerRuntime) serveHTTP1(c net.Conn) {
	ctx := lr.drain.base()
	var heads http1.HeadRecorder
	if rec := lr.ln.Lookup(c); rec != nil {
		ctx = routing.WithConn(ctx, rec)
		if rec.HeaderOrder != nil {
			// The listener does not follow the connection's bytes
			// (listener.Config.HeadsPushed): the front end pushes each
			// head it parses.
			heads = rec.HeaderOrder
		}
	}
	// One watch per connection closes the target connection of a request
	// the drain cuts (targetgroup.WithWatch).
	ctx, unwatch := targetgroup.WithWatch(ctx)
	defer unwatch()
	lr.front.ServeConnRecording(ctx, c, heads)
}

// newFront builds the HTTP/1.x front end of the listener; connState is
// the http.Server's ConnState.
func (lr *listenerRuntime) newFront(connState func(net.Conn, http.ConnState)) *http1.Server {
	s := lr.s
	return &http1.Server{
		Handler:           lr.drain.track(lr.route),
		IdleTimeout:       s.cfg.LoadBalancer.IdleTimeout.D(),
		ReadHeaderTimeout: s.cfg.Emulation.RequestHeaderTimeout.D(),
		MaxHeaderBytes:    albresponse.ServerMaxHeaderBytes,
		Desync:            lr.plan.Desync,
		Pages:             lr.pages(),
		ConnState:         connState,
	}
}
