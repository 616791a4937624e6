package emulator

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/albmtls/albmtls/emulator/accesslog"
)

// cutGrace bounds how long cut requests get to write their access-log
// lines once their connections are closed.
const cutGrace = 5 * time.Second

// errDrainEnded cancels the requests still running when the drain ends.
var errDrainEnded = errors.New("shutdown drain ended")

// drain tracks a listener's requests in flight, so that Shutdown can say
// which it cut and wait for their access-log lines.
type drain struct {
	once   sync.Once
	ctx    context.Context
	cancel context.CancelCauseFunc
	// inflight holds the requests being served; a map under a mutex, as
	// every request writes it twice (a sync.Map allocates on each store).
	mu       sync.Mutex
	inflight map[*http.Request]inflight
	cut      atomic.Bool
}

type inflight struct {
	start  time.Time
	method string
	path   string
	client string
}

// base is the context of every connection (http.Server.BaseContext);
// cancelling it cancels every request.
func (d *drain) base() context.Context {
	d.once.Do(func() { d.ctx, d.cancel = context.WithCancelCause(context.Background()) })
	return d.ctx
}

// track records each request while its handler runs.
func (d *drain) track(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d.mu.Lock()
		if d.inflight == nil {
			d.inflight = map[*http.Request]inflight{}
		}
		d.inflight[r] = inflight{start: time.Now(), method: r.Method, path: r.URL.Path, client: r.RemoteAddr}
		d.mu.Unlock()
		defer func() {
			d.mu.Lock()
			delete(d.inflight, r)
			d.mu.Unlock()
		}()
		next.ServeHTTP(w, r)
	})
}

// wait waits until no request is in flight or ctx ends, and reports
// whether none is left. http.Server.Shutdown does not wait for handlers
// whose connection was hijacked: albresponse writes ALB's own responses on
// hijacked connections and serves them on from a companion server whose
// handler is this one (alb-behaviour §8.2), so their access-log lines
// must be waited for here, before the logs close.
func (d *drain) wait(ctx context.Context) bool {
	for d.count() > 0 {
		select {
		case <-ctx.Done():
			return false
		case <-time.After(5 * time.Millisecond):
		}
	}
	return true
}

func (d *drain) count() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.inflight)
}

// accessLog marks the lines of cut requests. A cut request whose client
// got no response is logged by the forward path as 460 (client gone);
// here the emulator closed the connection, so elb_status_code is "-" (no
// response, as ALB writes a status it did not send) and the error reason
// is dropped: ALB has no code for it [UNK]. A request whose response
// headers were already relayed keeps the status the client saw.
func (d *drain) accessLog(next func(*accesslog.Entry)) func(*accesslog.Entry) {
	return func(e *accesslog.Entry) {
		if d.cut.Load() && e.ELBStatusCode == 460 {
			e.ELBStatusCode = 0
			e.ErrorReason = ""
		}
		next(e)
	}
}

// cutAfterDrain ends the requests still running after the drain: it logs
// each, closes the listener's connections and cancels the requests, then
// waits (bounded) for their handlers to write their access-log lines.
func (lr *listenerRuntime) cutAfterDrain() {
	log, d := lr.s.log, &lr.drain
	d.cut.Store(true)
	d.mu.Lock()
	n := len(d.inflight)
	for _, f := range d.inflight {
		log.Warn("shutdown drain ended; cutting a request in flight", "listener", lr.path,
			"method", f.method, "path", f.path, "client", f.client, "running_for", time.Since(f.start).Round(time.Millisecond))
	}
	d.mu.Unlock()
	log.Warn("shutdown drain ended", "listener", lr.path, "requests_cut", n,
		"drain", lr.s.cfg.Emulation.ShutdownDrainTimeout.D())
	// Close the connections first: a handler that returns before its
	// connection is closed would have net/http send an empty 200.
	lr.http.Close()
	if lr.front != nil {
		lr.front.Close()
	}
	d.base() // through the Once, so d.cancel is set and seen
	d.cancel(errDrainEnded)
	deadline := time.Now().Add(cutGrace)
	for d.count() > 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if left := d.count(); left > 0 {
		log.Error("cut requests did not end; their access-log lines are lost", "listener", lr.path, "requests", left)
	}
}
