// Package demo runs the whole ALB mutual-TLS story in one process: a test
// PKI in a directory it owns (reused across runs), two sample backends
// (web-1 and web-2, package backend), and the emulated ALB in front of them
// with an HTTP listener that redirects to an HTTPS listener with mutual TLS,
// a trust store with the CAs' CRLs, and connection and access logs. It
// writes the config it runs into the directory, computes what each client
// certificate of the PKI will get, and prints one readable line per
// connection while it runs. `albmtls demo` is a thin wrapper around Start.
package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"time"

	"github.com/albmtls/albmtls/awsapi"
	"github.com/albmtls/albmtls/backend"
	"github.com/albmtls/albmtls/emulator"
	"github.com/albmtls/albmtls/emulator/config"
	"github.com/albmtls/albmtls/emulator/listener"
	"github.com/albmtls/albmtls/internal/enum"
)

// Modes are the listener modes the demo runs, as in the config.
var Modes = []listener.Mode{listener.ModeVerify, listener.ModePassthrough, listener.ModeOff}

// MembersPath is where the backends apply the O/OU authorization: / is open
// to every client the load balancer lets through, /members/ only to
// certificates that carry the organisation's base DN (member, not
// outsider).
const MembersPath = "/members/"

// BackendNames are the demo's two targets.
var BackendNames = []string{"web-1", "web-2"}

// Options configure a demo.
type Options struct {
	// Dir is the workspace (default "albmtls-demo"); see Prepare.
	Dir string
	// Mode is the HTTPS listener's mutual authentication mode: verify
	// (default), passthrough or off.
	Mode string
	// HTTPPort and HTTPSPort are the listener ports on 127.0.0.1; 0 picks
	// a free port.
	HTTPPort, HTTPSPort int
	// AdminAddr is the admin endpoint's address ("" for none), e.g.
	// 127.0.0.1:9090; port 0 picks a free one.
	AdminAddr string
	// Events receives one line per connection or request (nil: none).
	Events io.Writer
	// Color paints the event lines (for a terminal).
	Color bool
	// Logger receives the emulator's operational logs (nil discards).
	Logger *slog.Logger
	// Version is the binary's link-time version, for albmtls_build_info
	// (emulator.Options.Version).
	Version string
	// Progress receives one line per preparation step (nil: none).
	Progress func(string)
	// AWSAPI is the address of the AWS API endpoint (ELBv2, ACM, S3;
	// package awsapi), e.g. 127.0.0.1:4566; "" for none. `albmtls demo`
	// serves it by default.
	AWSAPI string
}

// PortError is a listener address that is already in use. Which says
// which: "http", "https" or "admin", so that a command can name its flag.
type PortError struct {
	Which string
	Addr  string
	Err   error
}

func (e *PortError) Error() string {
	return fmt.Sprintf("the %s address %s is not available: %v", e.Which, e.Addr, e.Err)
}

func (e *PortError) Unwrap() error { return e.Err }

// Backend is one running sample backend.
type Backend struct {
	Name string
	Addr string // host:port
}

// Demo is a running demo.
type Demo struct {
	ws       *Workspace
	opts     Options
	srv      *emulator.Server
	api      *awsapi.Server
	config   string
	backends []Backend
	stop     context.CancelFunc
	done     chan error
	httpURL  string
	httpsURL string
	admin    string
	expect   []Expectation
}

// Start prepares the workspace, starts the backends and the emulator, waits
// for the first health checks, and returns. Shutdown stops everything.
func Start(ctx context.Context, opts Options) (*Demo, error) {
	if opts.Dir == "" {
		opts.Dir = "albmtls-demo"
	}
	if opts.Mode == "" {
		opts.Mode = string(listener.ModeVerify)
	}
	i := slices.IndexFunc(Modes, func(m listener.Mode) bool { return string(m) == opts.Mode })
	if i < 0 {
		return nil, fmt.Errorf("demo: %q is not a mode; use %s", opts.Mode, enum.List(Modes, ", ", " or "))
	}
	mode := Modes[i]
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	// Refuse busy ports before spending time on the PKI, and resolve
	// port 0: the redirect needs the HTTPS port in the config.
	var reserved []net.Listener
	defer func() {
		for _, ln := range reserved {
			ln.Close()
		}
	}()
	reserve := func(which, addr string) (int, error) {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			var sys *net.OpError
			if errors.As(err, &sys) && sys.Err != nil {
				err = sys.Err
			}
			return 0, &PortError{Which: which, Addr: addr, Err: err}
		}
		reserved = append(reserved, ln)
		return ln.Addr().(*net.TCPAddr).Port, nil
	}
	var err error
	if opts.HTTPPort, err = reserve("http", net.JoinHostPort("127.0.0.1", strconv.Itoa(opts.HTTPPort))); err != nil {
		return nil, err
	}
	if opts.HTTPSPort, err = reserve("https", net.JoinHostPort("127.0.0.1", strconv.Itoa(opts.HTTPSPort))); err != nil {
		return nil, err
	}
	if opts.AdminAddr != "" {
		host, _, err := net.SplitHostPort(opts.AdminAddr)
		if err != nil {
			return nil, &PortError{Which: "admin", Addr: opts.AdminAddr, Err: err}
		}
		port, err := reserve("admin", opts.AdminAddr)
		if err != nil {
			return nil, err
		}
		opts.AdminAddr = net.JoinHostPort(host, strconv.Itoa(port))
	}

	if opts.AWSAPI != "" {
		if _, err := reserve("aws-api", opts.AWSAPI); err != nil {
			return nil, err
		}
	}

	ws, err := Prepare(opts.Dir, opts.Progress)
	if err != nil {
		return nil, err
	}
	d := &Demo{ws: ws, opts: opts, done: make(chan error, len(BackendNames))}
	bctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	d.stop = stop
	started := false
	defer func() {
		if !started {
			d.stopBackends()
		}
	}()
	if err := d.startBackends(bctx); err != nil {
		return nil, err
	}
	if d.config, err = writeConfig(ws, configData{
		Mode: mode, HTTPPort: opts.HTTPPort, HTTPSPort: opts.HTTPSPort, Admin: opts.AdminAddr, Backends: d.backendAddrs(),
	}); err != nil {
		return nil, err
	}
	cfg, err := config.Load(d.config)
	if err != nil {
		return nil, fmt.Errorf("demo: the generated config is invalid (a bug): %w", err)
	}
	events := d.newEventPrinter()
	eopts := emulator.Options{
		Logger:             opts.Logger,
		Version:            opts.Version,
		OnConnection:       events.onConnection,
		OnRequest:          events.onRequest,
		OnConnectionClosed: events.onClosed,
	}
	d.srv, err = emulator.New(cfg, eopts)
	if err != nil {
		return nil, err
	}
	if opts.AWSAPI != "" {
		// The API owns the demo's load balancer: ELBv2 calls change it,
		// and what the API creates runs beside it.
		cfg.AWSAPI.Listen = opts.AWSAPI
		if d.api, err = awsapi.New(ctx, awsapi.Options{Config: cfg, Server: d.srv, Emulator: eopts, Logger: opts.Logger}); err != nil {
			_ = d.srv.Shutdown(context.Background())
			return nil, err
		}
	}
	for _, ln := range reserved {
		ln.Close()
	}
	reserved = nil
	if d.api != nil {
		if err := d.api.Start(ctx); err != nil {
			_ = d.api.Shutdown(context.Background())
			return nil, portError(err, opts)
		}
	} else if err := d.srv.Start(ctx); err != nil {
		_ = d.srv.Shutdown(context.Background())
		return nil, portError(err, opts)
	}
	started = true
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := d.srv.WaitReady(wctx); err != nil {
		_ = d.Shutdown(context.Background())
		return nil, fmt.Errorf("demo: waiting for the first health checks: %w", err)
	}
	for _, l := range d.srv.Listeners() {
		_, port, _ := net.SplitHostPort(l.Addr.String())
		if l.Protocol == "HTTPS" {
			d.httpsURL = "https://localhost:" + port + "/" // the server certificate's name
		} else {
			d.httpURL = "http://localhost:" + port + "/"
		}
	}
	if a := d.srv.AdminAddr(); a != nil {
		d.admin = "http://" + a.String()
	}
	if d.expect, err = d.expectations(); err != nil {
		_ = d.Shutdown(context.Background())
		return nil, err
	}
	return d, nil
}

// portError turns the emulator's bind error for a listener into a
// PortError (another process took the port after it was checked).
func portError(err error, opts Options) error {
	var errs config.Errors
	if !errors.As(err, &errs) || len(errs) != 1 {
		return err
	}
	switch errs[0].Path {
	case config.ListenerPath(0) + ".port":
		return &PortError{Which: "http", Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(opts.HTTPPort)), Err: err}
	case config.ListenerPath(1) + ".port":
		return &PortError{Which: "https", Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(opts.HTTPSPort)), Err: err}
	case "admin.listen":
		return &PortError{Which: "admin", Addr: opts.AdminAddr, Err: err}
	}
	return err
}

// startBackends serves web-1 and web-2 on free ports of 127.0.0.1. Both
// verify passthrough chains against the trust store's files and protect
// MembersPath with the organisation's base DN.
func (d *Demo) startBackends(ctx context.Context) error {
	trust, err := d.trust()
	if err != nil {
		return err
	}
	org := d.ws.Set.Organization()
	for _, name := range BackendNames {
		b, err := backend.New(backend.Config{
			Name: name, Trust: trust, RequireO: org.O, RequireOU: org.OU, RequirePathPrefix: MembersPath,
			Logger: d.opts.Logger,
		})
		if err != nil {
			return err
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return fmt.Errorf("demo: starting %s: %w", name, err)
		}
		d.backends = append(d.backends, Backend{Name: name, Addr: ln.Addr().String()})
		go func() { d.done <- b.Serve(ctx, ln) }()
	}
	return nil
}

// stopBackends stops the backends and waits for them.
func (d *Demo) stopBackends() error {
	d.stop()
	var errs []error
	for range d.backends {
		if err := <-d.done; err != nil {
			errs = append(errs, err)
		}
	}
	d.backends = nil
	return errors.Join(errs...)
}

func (d *Demo) backendAddrs() []backendAddr {
	out := make([]backendAddr, len(d.backends))
	for i, b := range d.backends {
		out[i] = backendAddr(b)
	}
	return out
}

func (d *Demo) newEventPrinter() *eventPrinter {
	p := &eventPrinter{
		w:       d.opts.Events,
		color:   d.opts.Color,
		now:     time.Now,
		names:   map[string]string{},
		targets: map[string]string{},
		https:   1,
		pending: map[string]pendingConn{},
	}
	if p.w == nil {
		p.w = io.Discard
	}
	for _, a := range d.ws.Set.Manifest().Artefacts {
		if a.Serial != "" {
			p.names[a.Serial] = a.Name
		}
	}
	for _, b := range d.backends {
		p.targets[b.Addr] = b.Name
	}
	return p
}

// Shutdown stops the emulator (in-flight requests finish until ctx ends,
// logs are flushed) and then the backends.
func (d *Demo) Shutdown(ctx context.Context) error {
	var errs []error
	if d.api != nil {
		errs = append(errs, d.api.Shutdown(ctx))
	} else if d.srv != nil {
		errs = append(errs, d.srv.Shutdown(ctx))
	}
	if d.backends != nil {
		errs = append(errs, d.stopBackends())
	}
	return errors.Join(errs...)
}

// AWSAPIURL is the AWS API endpoint (AWS_ENDPOINT_URL), or "" when the
// demo runs without one.
func (d *Demo) AWSAPIURL() string {
	if d.api == nil {
		return ""
	}
	return d.api.URL()
}

// Workspace is the demo's directory.
func (d *Demo) Workspace() *Workspace { return d.ws }

// Mode is the HTTPS listener's mutual authentication mode.
func (d *Demo) Mode() string { return d.opts.Mode }

// ConfigPath is the config the demo runs.
func (d *Demo) ConfigPath() string { return d.config }

// HTTPURL is the HTTP listener, e.g. http://localhost:8080/.
func (d *Demo) HTTPURL() string { return d.httpURL }

// HTTPSURL is the HTTPS listener, e.g. https://localhost:8443/.
func (d *Demo) HTTPSURL() string { return d.httpsURL }

// Expectations say what each client certificate gets, with the curl
// command the guide prints for it.
func (d *Demo) Expectations() []Expectation { return append([]Expectation(nil), d.expect...) }
