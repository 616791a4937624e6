// Package emulator runs an emulated Application Load Balancer from an
// albmtls.yaml config: its listeners (HTTP, and HTTPS with mutual TLS off,
// passthrough or verify), trust stores, target groups, connection and access
// logs, and the admin endpoint. It wires the packages beneath it; each ALB
// concern lives in its own package (listener, verify, truststore, routing,
// targetgroup, albheader, connlog, accesslog, …).
//
// Use New to build a server from a validated config (every problem is
// reported with its key path before anything binds), Start to bind and
// serve, and Shutdown to stop. Reload re-reads trust stores and
// certificates; it is also triggered by file changes and, from the CLI, by
// SIGHUP.
package emulator

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/albmtls/albmtls/emulator/albheader"
	"github.com/albmtls/albmtls/emulator/awsarn"
	"github.com/albmtls/albmtls/emulator/config"
	"github.com/albmtls/albmtls/emulator/http1"
	"github.com/albmtls/albmtls/emulator/listener"
	"github.com/albmtls/albmtls/emulator/logdelivery"
	"github.com/albmtls/albmtls/emulator/routing"
	"github.com/albmtls/albmtls/emulator/targetgroup"
	"github.com/albmtls/albmtls/emulator/truststore"
)

// Options are the process-level settings of a server that are not part of
// the ALB configuration.
type Options struct {
	// Logger receives operational logs (slog); nil discards them.
	Logger *slog.Logger
	// Rand supplies trace IDs; crypto/rand when nil.
	Rand io.Reader
	// OnConnection, when set, is called after each connection-log entry is
	// written (the demo prints a readable line per connection from it).
	OnConnection func(ConnectionEvent)
	// OnRequest, when set, is called after each access-log entry.
	OnRequest func(RequestEvent)
	// OnConnectionClosed, when set, is called when a connection that
	// passed its handshake (or was accepted, on HTTP) is closed, with its
	// conn_trace_id: the demo labels connections that never carried a
	// request (a browser's speculative spares).
	OnConnectionClosed func(ConnectionClosedEvent)
	// OnLoad, when set, is told which file New (or Reload) is about to
	// read, with its key path, so that a caller interrupted while a read
	// blocks (a FIFO, a hung network filesystem) can say where.
	OnLoad func(keyPath, file string)
	// Version is the version stamped into the binary at link time
	// (cmd/albmtls's main.version), for albmtls_build_info; when empty,
	// the module version or "dev" (internal/buildinfo).
	Version string
}

// Server is a running (or ready to run) emulated load balancer.
type Server struct {
	cfg     *config.Config
	opts    Options
	log     *slog.Logger
	elb     string
	nodeIP  netip.Addr
	stores  map[string]*truststore.Live
	groups  map[string]*targetgroup.Group
	lambda  lambdaState // target groups of type lambda (lambda.go)
	lsns    []*listenerRuntime
	connLog logdelivery.Sink
	accLog  logdelivery.Sink
	metrics *metrics
	admin   *http.Server
	adminLn net.Listener

	reloadMu sync.Mutex
	// loadedStamps summarises the watched files as New loaded them.
	loadedStamps string
	cancel       context.CancelFunc
	watchDone    chan struct{} // closed when the file watcher ended
	wg           sync.WaitGroup
	started      bool
	stopOnce     sync.Once
}

// New builds a server from a validated config: it loads trust stores,
// certificates and security policies, checks listener attributes and
// actions, and opens the log files. Nothing listens yet. All problems are
// returned together, each with its key path.
func New(cfg *config.Config, opts Options) (*Server, error) {
	s, errs := build(cfg, opts)
	if len(errs) == 0 {
		if err := s.openLogs(); err != nil {
			errs = append(errs, cfg.Errorf("logs", "%v", err))
		}
	}
	if len(errs) > 0 {
		s.closeLogs()
		return nil, errs
	}
	return s, nil
}

// build is New without the log files: it loads what the config names and
// collects every problem.
func build(cfg *config.Config, opts Options) (*Server, config.Errors) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Rand == nil {
		opts.Rand = rand.Reader
	}
	lb := cfg.LoadBalancer
	id := lb.ID
	if id == "" {
		id = awsarn.LoadBalancerID(lb.AccountID, lb.Name)
	}
	s := &Server{
		cfg:    cfg,
		opts:   opts,
		log:    opts.Logger,
		elb:    awsarn.LoadBalancerResourceID(lb.Name, id),
		nodeIP: cfg.NodeIP(),
		stores: map[string]*truststore.Live{},
		groups: map[string]*targetgroup.Group{},
	}
	s.metrics = newMetrics(s)
	s.loadedStamps = s.fileStamps()
	var errs config.Errors
	s.buildTrustStores(&errs)
	s.buildTargetGroups(&errs)
	s.buildLambdaGroups(&errs)
	s.buildListeners(&errs)
	return s, errs
}

// ListenerAddr describes one bound listener.
type ListenerAddr struct {
	Index    int    // position in the config's listeners
	Protocol string // HTTP or HTTPS
	Port     int    // listener port as logged (the bound port if configured as 0)
	Addr     net.Addr
}

// URL is the base URL of the listener, e.g. https://127.0.0.1:8443.
func (a ListenerAddr) URL() string {
	scheme := "http"
	if a.Protocol == string(listener.ProtocolHTTPS) {
		scheme = "https"
	}
	host, port, _ := net.SplitHostPort(a.Addr.String())
	if ip, err := netip.ParseAddr(host); err == nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return scheme + "://" + net.JoinHostPort(host, port)
}

// Start binds every listener and the admin endpoint and starts serving and
// health checking. If any address cannot be bound, nothing stays bound and
// the error names the listener.
func (s *Server) Start(ctx context.Context) error {
	if s.started {
		return errors.New("emulator: already started")
	}
	s.started = true
	ctx, s.cancel = context.WithCancel(context.WithoutCancel(ctx))
	if err := s.startLambdas(); err != nil {
		s.cancel()
		return err
	}
	for i, lr := range s.lsns {
		if err := lr.listen(); err != nil {
			s.closeLambdas()
			for _, prev := range s.lsns[:i] {
				prev.ln.Close()
				prev.ln.Wait()
			}
			s.cancel()
			return err
		}
	}
	if s.cfg.Admin.Listen != "" {
		ln, err := net.Listen("tcp", s.cfg.Admin.Address())
		if err != nil {
			for _, lr := range s.lsns {
				lr.ln.Close()
				lr.ln.Wait()
			}
			s.closeLambdas()
			s.cancel()
			return s.cfg.Errorf("admin.listen", "cannot listen on %s: %v", s.cfg.Admin.Listen, errors.Unwrap(err))
		}
		s.adminLn = ln
		s.admin = &http.Server{Handler: s.adminHandler(), ReadHeaderTimeout: 10 * time.Second}
		s.goServe(func() error { return s.admin.Serve(ln) })
	}
	for _, g := range s.groups {
		g.Start(ctx)
	}
	for _, lr := range s.lsns {
		var ln net.Listener = lr.ln
		if lr.front != nil {
			ln = frontListener{Listener: lr.ln, lr: lr}
		}
		s.goServe(func() error { return lr.http.Serve(ln) })
		s.log.Info("listener started", "listener", lr.path, "protocol", lr.cfg.Protocol,
			"address", lr.ln.Addr().String(), "mode", string(lr.mode))
	}
	if iv := s.cfg.Emulation.WatchInterval.D(); iv > 0 {
		// Not in s.wg: a reload can block for ever reading a file (a FIFO),
		// and Shutdown must not wait for it (see Shutdown).
		s.watchDone = make(chan struct{})
		go func() {
			defer close(s.watchDone)
			s.watch(ctx, iv, s.loadedStamps)
		}()
	}
	return nil
}

func (s *Server) goServe(serve func() error) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := serve(); err != nil && !errors.Is(err, http.ErrServerClosed) && !errors.Is(err, net.ErrClosed) {
			s.log.Error("server stopped", "err", err)
		}
	}()
}

// WaitReady blocks until every target group has finished its first round of
// health checks (so the first requests do not race the initial state), or
// ctx ends.
func (s *Server) WaitReady(ctx context.Context) error {
	for _, g := range s.groups {
		select {
		case <-g.Ready():
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// Listeners returns the bound listeners, in config order.
func (s *Server) Listeners() []ListenerAddr {
	out := make([]ListenerAddr, 0, len(s.lsns))
	for i, lr := range s.lsns {
		if lr.ln == nil {
			continue
		}
		out = append(out, ListenerAddr{Index: i, Protocol: string(lr.cfg.Protocol), Port: lr.ln.Port(), Addr: lr.ln.Addr()})
	}
	return out
}

// AdminAddr is the admin endpoint's bound address, or nil.
func (s *Server) AdminAddr() net.Addr {
	if s.adminLn == nil {
		return nil
	}
	return s.adminLn.Addr()
}

// ELB is the load balancer's resource ID as logged, app/NAME/ID.
func (s *Server) ELB() string { return s.elb }

// TrustStore returns the live trust store of that name.
func (s *Server) TrustStore(name string) (*truststore.Live, bool) {
	ts, ok := s.stores[name]
	return ts, ok
}

// Shutdown stops accepting and lets requests in flight finish until ctx
// ends (the CLI's emulation.shutdown_drain_timeout, like a target group's
// deregistration delay). Requests still running then are cut: their client
// connections are closed, each is logged (slog) and still gets its
// access-log line, with elb_status_code "-" when the client got no
// response (see cutAfterDrain). Then health checks stop and the logs are
// flushed (the S3 layout writes its last objects).
func (s *Server) Shutdown(ctx context.Context) error {
	var errs []error
	s.stopOnce.Do(func() {
		if s.cancel != nil {
			s.cancel()
		}
		for _, lr := range s.lsns {
			if lr.ln != nil {
				lr.ln.Close()
			}
		}
		var cut []*listenerRuntime
		for _, lr := range s.lsns {
			if lr.ln == nil {
				continue
			}
			err := lr.http.Shutdown(ctx)
			if lr.front != nil {
				err = errors.Join(err, lr.front.Shutdown(ctx))
			}
			if err != nil {
				if ctx.Err() == nil {
					errs = append(errs, fmt.Errorf("%s: %w", lr.path, err))
				}
				cut = append(cut, lr)
			} else if !lr.drain.wait(ctx) {
				cut = append(cut, lr)
			}
		}
		for _, lr := range cut {
			lr.cutAfterDrain()
		}
		for _, lr := range s.lsns {
			if lr.ln != nil {
				lr.ln.Wait()
			}
		}
		if s.admin != nil {
			if err := s.admin.Shutdown(ctx); err != nil && ctx.Err() == nil {
				errs = append(errs, fmt.Errorf("admin: %w", err))
			}
			s.admin.Close()
		}
		for _, g := range s.groups {
			g.Close()
		}
		s.closeLambdas()
		s.wg.Wait()
		if s.watchDone != nil {
			select {
			case <-s.watchDone:
			case <-time.After(cutGrace):
				s.log.Error("a trust store or certificate reload is still blocked reading a file (a FIFO or a hung filesystem?); shutting down without waiting for it")
			}
		}
		if err := s.closeLogs(); err != nil {
			errs = append(errs, err)
		}
	})
	return errors.Join(errs...)
}

func (s *Server) openLogs() error {
	lb := s.cfg.LoadBalancer
	open := func(file string, kind logdelivery.Kind) (logdelivery.Sink, error) {
		var sinks []logdelivery.Sink
		if file != "" {
			name := "access"
			if kind == logdelivery.ConnectionLog {
				name = "connection"
			}
			f, err := logdelivery.OpenFileOptions(s.cfg.Path(file), logdelivery.FileOptions{
				Logger: s.log.With("log", name), Dropped: s.metrics.dropped(name),
			})
			if err != nil {
				return nil, err
			}
			sinks = append(sinks, f)
		}
		if dir := s.cfg.Logs.S3LayoutDir; dir != "" {
			layout, err := logdelivery.NewS3Layout(logdelivery.S3Config{
				Dir: s.cfg.Path(dir), Kind: kind, AccountID: lb.AccountID, Region: lb.Region,
				LoadBalancer: s.elb, NodeIP: s.nodeIP, Interval: s.cfg.Logs.S3Interval.D(), Logger: s.log,
			})
			if err != nil {
				for _, sk := range sinks {
					sk.Close()
				}
				return nil, err
			}
			sinks = append(sinks, layout)
		}
		switch len(sinks) {
		case 0:
			return nil, nil
		case 1:
			return sinks[0], nil
		}
		return logdelivery.Fanout(sinks...), nil
	}
	var err error
	if s.connLog, err = open(s.cfg.Logs.Connection.File, logdelivery.ConnectionLog); err != nil {
		return fmt.Errorf("connection log: %w", err)
	}
	if s.accLog, err = open(s.cfg.Logs.Access.File, logdelivery.AccessLog); err != nil {
		return fmt.Errorf("access log: %w", err)
	}
	return nil
}

func (s *Server) closeLogs() error {
	var errs []error
	for _, sk := range []logdelivery.Sink{s.connLog, s.accLog} {
		if sk != nil {
			if err := sk.Close(); err != nil {
				errs = append(errs, err)
			}
		}
	}
	// The sinks stay in place: a request still running after the drain
	// (a hijacked connection is not waited for by http.Server.Shutdown) may
	// write its line now, and a closed sink refuses it safely.
	return errors.Join(errs...)
}

// listenerRuntime is one configured listener and what serves it.
type listenerRuntime struct {
	s     *Server
	index int
	path  string // "listeners[1]"
	cfg   config.Listener
	plan  config.ListenerPlan
	mode  listener.Mode
	tls   *listener.TLSSettings
	route *routing.Handler
	ln    *listener.Listener
	// portLabel is the listener's port as the metrics label it, formatted
	// once when it is bound rather than on every request.
	portLabel string
	// reqMetrics are the listener's request series, looked up once.
	reqMetrics requestMetrics
	http       *http.Server
	// front serves HTTP/1.x connections when emulation.http1_front_end is
	// albmtls; nil otherwise.
	front *http1.Server
	drain drain
}

func (lr *listenerRuntime) listen() error {
	s := lr.s
	port := lr.cfg.Port
	if lr.cfg.BindPort != 0 {
		port = lr.cfg.BindPort
	}
	addr := net.JoinHostPort(lr.cfg.Address, strconv.Itoa(port))
	ln, err := listener.Listen(addr, listener.Config{
		Protocol:         lr.cfg.Protocol,
		Port:             lr.cfg.Port,
		TLS:              lr.tls,
		RejectWith:       s.cfg.Emulation.RejectWith,
		HandshakeTimeout: s.cfg.Emulation.HandshakeTimeout.D(),
		IdleTimeout:      s.cfg.LoadBalancer.IdleTimeout.D(),
		OnConnection:     func(c *listener.Conn) { s.onConnection(lr, c) },
		Logger:           s.log,
		Rand:             s.opts.Rand,
		// The client's header order is recorded only when it is written.
		RecordHeaderOrder: s.cfg.Emulation.ForwardedHeaderOrder != albheader.OrderSorted,
		// Every HTTP/1.x request is classified for desync mitigation.
		ClassifyRequests: true,
		// albmtls's front end parses the heads itself and pushes them to
		// the recorder (emulator/front.go).
		HeadsPushed: s.cfg.Emulation.FrontEnd() == config.FrontEndALBMTLS,
	})
	if err != nil {
		return s.cfg.Errorf(lr.path+".port", "cannot listen on %s: %v (is another process using the port? choose another port)", addr, errors.Unwrap(err))
	}
	lr.ln = ln
	lr.portLabel = strconv.Itoa(ln.Port())
	lr.route = lr.newRouting(ln.Port())
	lr.http = lr.newHTTPServer()
	return nil
}

// TargetHealth reports the health of the targets of the target group of
// that name (DescribeTargetHealth), in registration order.
func (s *Server) TargetHealth(group string) ([]targetgroup.TargetStatus, bool) {
	g, ok := s.groups[group]
	if !ok {
		return nil, false
	}
	return g.Targets(), true
}
