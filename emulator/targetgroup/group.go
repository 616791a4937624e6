package targetgroup

import (
	"context"
	"fmt"
	"log"
	"log/slog"
	"net/http"
	"net/http/httputil"
	"sync"
	"sync/atomic"
)

// Group is a running target group: its targets' health and the shared
// connection pool to them. It is safe for concurrent use.
type Group struct {
	cfg     Config
	log     *slog.Logger
	matcher Matcher
	targets []*target

	rotation atomic.Pointer[[]*target] // targets Forward picks from
	next     atomic.Uint64             // round-robin cursor
	rotMu    sync.Mutex                // serialises rotation updates

	transport *syncTransport // falls back to an http.Transport
	proxy     *httputil.ReverseProxy
	health    *http.Client

	startOnce sync.Once
	ready     chan struct{}
	cancel    context.CancelFunc
	wg        sync.WaitGroup
}

// New validates cfg, applies ALB's defaults and builds the group. Targets
// start in the initial state (no traffic while another target is healthy)
// until Start's first checks pass; with health checks disabled they start
// unavailable and in rotation. A nil logger discards logs.
func New(cfg Config, logger *slog.Logger) (*Group, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	m, err := ParseMatcher(cfg.HealthCheck.Matcher)
	if err != nil {
		return nil, fmt.Errorf("target group %q: health_check.matcher: %w", cfg.Name, err)
	}
	d := newDialer(cfg)
	g := &Group{
		cfg:       cfg,
		log:       logger,
		matcher:   m,
		transport: newSyncTransport(d, newTransport(cfg, d), cfg.IdleTimeout),
		health:    newHealthClient(cfg.ConnectTimeout),
		ready:     make(chan struct{}),
	}
	state, reason, desc := StateInitial, ReasonInitialHealthChecking, "Initial health checks in progress"
	if !cfg.HealthCheck.enabled() {
		state, reason, desc = StateUnavailable, ReasonHealthCheckDisabled, "Health checks are disabled"
	}
	for _, addr := range cfg.Targets {
		g.targets = append(g.targets, &target{addr: addr, checkURL: checkURL(addr, cfg), state: state, reason: reason, desc: desc})
	}
	g.proxy = &httputil.ReverseProxy{
		Transport:      g.transport,
		Rewrite:        rewriteFromContext,
		ModifyResponse: modifyResponse,
		ErrorHandler:   handleProxyError,
		BufferPool:     bufferPool{},
		ErrorLog:       log.New(slogWriter{logger: logger, group: cfg.Name}, "", 0),
	}
	g.updateRotation()
	return g, nil
}

// Name returns the target group name.
func (g *Group) Name() string { return g.cfg.Name }

// Start launches the health checks in the background: each target is
// checked at once, then every interval, until ctx ends or Close is called.
// With health checks disabled it does nothing. Calling it twice is harmless.
func (g *Group) Start(ctx context.Context) {
	g.startOnce.Do(func() {
		if !g.cfg.HealthCheck.enabled() || len(g.targets) == 0 {
			close(g.ready)
			return
		}
		ctx, g.cancel = context.WithCancel(ctx)
		var pending atomic.Int64
		pending.Store(int64(len(g.targets)))
		firstDone := func() {
			if pending.Add(-1) == 0 {
				close(g.ready)
			}
		}
		for _, t := range g.targets {
			g.wg.Add(1)
			go g.runChecks(ctx, t, firstDone)
		}
	})
}

// Ready is closed once every target has had its first health check (at
// once when health checks are disabled), so callers can wait until targets
// have left the initial state before serving.
func (g *Group) Ready() <-chan struct{} { return g.ready }

// Close stops the health checks and closes idle connections to targets.
func (g *Group) Close() {
	g.startOnce.Do(func() { close(g.ready) }) // never started
	if g.cancel != nil {
		g.cancel()
	}
	g.wg.Wait()
	g.transport.CloseIdleConnections()
}

// Targets reports every registered target's health, in registration order.
func (g *Group) Targets() []TargetStatus {
	out := make([]TargetStatus, len(g.targets))
	for i, t := range g.targets {
		out[i] = t.status()
	}
	return out
}

// updateRotation recomputes the targets Forward picks from: the healthy
// ones; when none is healthy, all of them ("If a target group contains only
// unhealthy registered targets, the load balancer routes requests to all
// those targets" [DOC: TGHC], i.e. fail-open). Initial targets join the
// fail-open set unless StrictInitial [UNK]. Health checks disabled: all.
func (g *Group) updateRotation() {
	g.rotMu.Lock()
	defer g.rotMu.Unlock()
	var healthy, open []*target
	for _, t := range g.targets {
		switch t.status().State {
		case StateHealthy:
			healthy = append(healthy, t)
			open = append(open, t)
		case StateInitial:
			if !g.cfg.StrictInitial {
				open = append(open, t)
			}
		default:
			open = append(open, t)
		}
	}
	rot := open
	if len(healthy) > 0 {
		rot = healthy
	}
	g.rotation.Store(&rot)
}

// pick returns the next target in round-robin order, or nil when there is
// none to route to. Round robin is ALB's default algorithm [DOC].
func (g *Group) pick() *target {
	rot := *g.rotation.Load()
	if len(rot) == 0 {
		return nil
	}
	n := g.next.Add(1) - 1
	return rot[n%uint64(len(rot))]
}

// slogWriter sends ReverseProxy's log lines to slog at debug level: they
// repeat what Outcome already reports.
type slogWriter struct {
	logger *slog.Logger
	group  string
}

func (w slogWriter) Write(p []byte) (int, error) {
	w.logger.Debug("reverse proxy", slog.String("target_group", w.group), slog.String("message", string(p)))
	return len(p), nil
}

// bufferPool recycles the 32 KiB copy buffers of ReverseProxy.
type bufferPool struct{}

var copyBuffers = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

func (bufferPool) Get() []byte  { return *copyBuffers.Get().(*[]byte) }
func (bufferPool) Put(b []byte) { copyBuffers.Put(&b) }
