// Package loadgen drives an HTTPS endpoint with a client certificate, the
// way CI suites use an mTLS proxy: either a new connection, and so a full
// mutual-TLS handshake, for every request, or requests on kept-alive
// connections. It runs a fixed number of workers for a fixed time or
// request count and reports requests per second, latency percentiles and
// errors.
//
// It is deliberately small and transparent (one goroutine per worker, a
// hand-written HTTP/1.1 request, no connection pool) so that its own CPU
// cost, which competes with the server under test on the same machine, is
// low and the same for every server. It only talks to loopback addresses
// and always stops on its own.
package loadgen

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Mode says how requests use connections.
//
//	mode       each request
//	handshake  opens a connection (TCP + full TLS handshake, no resumption),
//	           sends one request with Connection: close, reads the response
//	keepalive  reuses its worker's connection (opened before the clock starts)
type Mode string

// Modes.
const (
	ModeHandshake Mode = "handshake"
	ModeKeepAlive Mode = "keepalive"
)

// ParseMode accepts the mode names of the table above.
func ParseMode(s string) (Mode, error) {
	switch Mode(s) {
	case ModeHandshake, ModeKeepAlive:
		return Mode(s), nil
	}
	return "", fmt.Errorf("%q is not a load mode; use handshake (new connection per request) or keepalive", s)
}

// Limits that keep a run bounded whatever the caller asks.
const (
	DefaultDuration    = 10 * time.Second
	MaxDuration        = 10 * time.Minute
	DefaultConcurrency = 16
	MaxConcurrency     = 4096
	DefaultTimeout     = 10 * time.Second
	DefaultCheckFirst  = 3
)

// Config describes one run.
type Config struct {
	// URL is the endpoint: https://HOST:PORT/PATH (http:// for a plain
	// baseline). HOST must be a loopback address or a name that resolves
	// only to loopback addresses.
	URL  string
	Mode Mode
	// Concurrency is the number of workers, each with at most one request
	// in flight (default DefaultConcurrency).
	Concurrency int
	// Duration bounds the run (default DefaultDuration, at most
	// MaxDuration). Requests bounds it too when > 0; whichever comes first.
	Duration time.Duration
	Requests int64
	// Timeout bounds one request, connection and handshake included.
	Timeout time.Duration
	// Certificate is the client certificate and the chain it sends.
	Certificate *tls.Certificate
	// RootCAs verifies the server's certificate chain; ServerLeaf instead
	// pins the server's leaf (DER), which costs the client no signature
	// check, so more of the shared CPU goes to the server under test. With
	// neither, any server certificate is accepted.
	RootCAs    *x509.CertPool
	ServerLeaf []byte
	// ServerName is the SNI and the name RootCAs verifies (default: HOST).
	ServerName string
	// CurvePreferences are the key exchanges offered (default X25519 only,
	// which every server under comparison supports: Go's default hybrid
	// post-quantum exchange would cost Go servers more than OpenSSL 3.0
	// ones that do not offer it).
	CurvePreferences []tls.CurveID
	// Header is added to every request.
	Header http.Header
	// Check, when set, inspects the first CheckFirst responses of each
	// worker (default DefaultCheckFirst); a failure counts as an error.
	// Use it to make sure a misconfigured server cannot win with wrong
	// answers.
	Check      func(*http.Response) error
	CheckFirst int
}

// Result is what a run measured. Requests counts successful (2xx)
// requests only; everything else is in Errors.
type Result struct {
	Mode        Mode
	Concurrency int
	Elapsed     time.Duration
	Requests    int64
	Errors      int64
	// ErrorKinds counts errors by kind ("status 502", "handshake: ...").
	ErrorKinds map[string]int64
	// RPS is Requests / Elapsed.
	RPS                       float64
	P50, P90, P99, Mean, Max  time.Duration
	TLSVersion, CipherSuite   uint16
	CurveID                   tls.CurveID
	DidResume                 bool // any handshake resumed (should never be true)
	Handshakes                int64
	FirstStatus, FirstHeaders string

	hist *histogram // for Merge
}

// target is a validated Config, ready to dial.
type target struct {
	cfg     Config
	addr    string // IP:port to dial
	https   bool
	tls     *tls.Config
	request []byte // the bytes of one request
	method  string
}

// prepare validates cfg and resolves the host to a loopback address.
func prepare(ctx context.Context, cfg Config) (*target, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("loadgen: URL %q: %w", cfg.URL, err)
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return nil, fmt.Errorf("loadgen: URL %q: scheme must be https (or http for a plain baseline)", cfg.URL)
	}
	if cfg.Mode == "" {
		cfg.Mode = ModeHandshake
	}
	if _, err := ParseMode(string(cfg.Mode)); err != nil {
		return nil, fmt.Errorf("loadgen: %w", err)
	}
	if cfg.Concurrency == 0 {
		cfg.Concurrency = DefaultConcurrency
	}
	if cfg.Concurrency < 0 || cfg.Concurrency > MaxConcurrency {
		return nil, fmt.Errorf("loadgen: concurrency %d out of range; use 1 to %d", cfg.Concurrency, MaxConcurrency)
	}
	if cfg.Duration == 0 {
		cfg.Duration = DefaultDuration
	}
	if cfg.Duration < 0 || cfg.Duration > MaxDuration {
		return nil, fmt.Errorf("loadgen: duration %s out of range; use up to %s", cfg.Duration, MaxDuration)
	}
	if cfg.Requests < 0 {
		return nil, fmt.Errorf("loadgen: request count %d is negative; use 0 for no limit", cfg.Requests)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.CheckFirst == 0 {
		cfg.CheckFirst = DefaultCheckFirst
	}
	host, port := u.Hostname(), u.Port()
	if port == "" {
		port = map[string]string{"https": "443", "http": "80"}[u.Scheme]
	}
	ip, err := loopbackAddr(ctx, host)
	if err != nil {
		return nil, err
	}
	t := &target{cfg: cfg, addr: net.JoinHostPort(ip.String(), port), https: u.Scheme == "https", method: http.MethodGet}
	if t.https {
		t.tls = clientTLS(cfg, host)
	}
	t.request = buildRequest(u, cfg.Header, cfg.Mode == ModeHandshake)
	return t, nil
}

// loopbackAddr resolves host and refuses anything but loopback: the load
// generator is a benchmark tool, not a way to load someone else's server.
func loopbackAddr(ctx context.Context, host string) (netip.Addr, error) {
	if ip, err := netip.ParseAddr(host); err == nil {
		if !ip.Unmap().IsLoopback() {
			return netip.Addr{}, fmt.Errorf("loadgen: %s is not a loopback address; the load generator only targets this machine (127.0.0.1, ::1 or localhost)", host)
		}
		return ip.Unmap(), nil
	}
	ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("loadgen: resolving %s: %w", host, err)
	}
	for _, ip := range ips {
		if !ip.Unmap().IsLoopback() {
			return netip.Addr{}, fmt.Errorf("loadgen: %s resolves to %s, which is not a loopback address; the load generator only targets this machine", host, ip)
		}
	}
	if len(ips) == 0 {
		return netip.Addr{}, fmt.Errorf("loadgen: %s has no address", host)
	}
	return ips[0].Unmap(), nil
}

func clientTLS(cfg Config, host string) *tls.Config {
	curves := cfg.CurvePreferences
	if len(curves) == 0 {
		curves = []tls.CurveID{tls.X25519}
	}
	name := cfg.ServerName
	if name == "" {
		name = host
	}
	tc := &tls.Config{
		ServerName:       name,
		MinVersion:       tls.VersionTLS13,
		MaxVersion:       tls.VersionTLS13,
		CurvePreferences: curves,
		NextProtos:       []string{"http/1.1"},
		// No ClientSessionCache: every handshake is a full one, as with
		// ALB mTLS, which does not resume sessions.
		RootCAs: cfg.RootCAs,
	}
	if cfg.Certificate != nil {
		cert := *cfg.Certificate
		tc.Certificates = []tls.Certificate{cert}
	}
	if cfg.RootCAs == nil {
		// Either pin the leaf or accept anything: this is loopback only.
		tc.InsecureSkipVerify = true
		if pin := cfg.ServerLeaf; pin != nil {
			tc.VerifyConnection = func(cs tls.ConnectionState) error {
				if len(cs.PeerCertificates) == 0 || !bytes.Equal(cs.PeerCertificates[0].Raw, pin) {
					return errors.New("the server's certificate is not the pinned one")
				}
				return nil
			}
		}
	}
	return tc
}

func buildRequest(u *url.URL, h http.Header, closeConn bool) []byte {
	var b bytes.Buffer
	path := u.RequestURI()
	fmt.Fprintf(&b, "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: albmtls-bench\r\n", path, u.Host)
	if closeConn {
		b.WriteString("Connection: close\r\n")
	}
	_ = h.Write(&b)
	b.WriteString("\r\n")
	return b.Bytes()
}

// Run performs one run. It returns an error only when the run could not
// start (bad config, or the server refuses every connection before the
// clock starts); failed requests during the run are counted in Result.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	t, err := prepare(ctx, cfg)
	if err != nil {
		return nil, err
	}
	cfg = t.cfg
	ctx, cancel := context.WithTimeout(ctx, cfg.Duration+cfg.Timeout+5*time.Second)
	defer cancel()

	workers := make([]*worker, cfg.Concurrency)
	for i := range workers {
		workers[i] = &worker{t: t, errKinds: map[string]int64{}}
	}
	if cfg.Mode == ModeKeepAlive {
		// Connect every worker before the clock starts, so the figure is
		// requests on established connections.
		var wg sync.WaitGroup
		errs := make([]error, len(workers))
		for i, w := range workers {
			wg.Go(func() { errs[i] = w.connect(ctx) })
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			for _, w := range workers {
				w.close()
			}
			return nil, fmt.Errorf("loadgen: opening %d keep-alive connections to %s: %w", len(workers), cfg.URL, firstErr(errs))
		}
	}
	var budget atomic.Int64
	budget.Store(cfg.Requests)
	start := time.Now()
	deadline := start.Add(cfg.Duration)
	var wg sync.WaitGroup
	for _, w := range workers {
		wg.Go(func() {
			defer w.close()
			for ctx.Err() == nil && time.Now().Before(deadline) {
				if cfg.Requests > 0 && budget.Add(-1) < 0 {
					return
				}
				w.one(ctx)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	return collect(cfg, workers, elapsed), nil
}

func firstErr(errs []error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

func collect(cfg Config, workers []*worker, elapsed time.Duration) *Result {
	r := &Result{Mode: cfg.Mode, Concurrency: cfg.Concurrency, Elapsed: elapsed, ErrorKinds: map[string]int64{}, hist: &histogram{}}
	for _, w := range workers {
		r.hist.merge(&w.hist)
		r.Requests += w.ok
		r.Errors += w.errors
		r.Handshakes += w.handshakes
		r.DidResume = r.DidResume || w.resumed
		for k, n := range w.errKinds {
			r.ErrorKinds[k] += n
		}
		if r.TLSVersion == 0 && w.state.Version != 0 {
			r.TLSVersion, r.CipherSuite, r.CurveID = w.state.Version, w.state.CipherSuite, w.state.CurveID
		}
		if r.FirstStatus == "" && w.firstStatus != "" {
			r.FirstStatus, r.FirstHeaders = w.firstStatus, w.firstHeaders
		}
	}
	r.summarize()
	return r
}

// summarize computes the rate and the latency figures.
func (r *Result) summarize() {
	if r.Elapsed > 0 {
		r.RPS = float64(r.Requests) / r.Elapsed.Seconds()
	}
	h := r.hist
	r.P50, r.P90, r.P99 = h.quantile(0.50), h.quantile(0.90), h.quantile(0.99)
	r.Mean, r.Max = h.mean(), h.max
}

// Merge combines runs of the same mode and concurrency (e.g. slices of one
// measurement taken in alternation with another) as if they were one run:
// counts and elapsed times add up, latencies are merged exactly.
func Merge(results ...*Result) *Result {
	if len(results) == 0 {
		return &Result{ErrorKinds: map[string]int64{}, hist: &histogram{}}
	}
	first := results[0]
	m := &Result{Mode: first.Mode, Concurrency: first.Concurrency, ErrorKinds: map[string]int64{}, hist: &histogram{},
		TLSVersion: first.TLSVersion, CipherSuite: first.CipherSuite, CurveID: first.CurveID,
		FirstStatus: first.FirstStatus, FirstHeaders: first.FirstHeaders}
	for _, r := range results {
		m.Elapsed += r.Elapsed
		m.Requests += r.Requests
		m.Errors += r.Errors
		m.Handshakes += r.Handshakes
		m.DidResume = m.DidResume || r.DidResume
		for k, n := range r.ErrorKinds {
			m.ErrorKinds[k] += n
		}
		if r.hist != nil {
			m.hist.merge(r.hist)
		}
	}
	m.summarize()
	return m
}

// worker runs requests one after another on its own connection(s). Its
// fields are read by collect only after it stopped.
type worker struct {
	t    *target
	conn net.Conn
	br   *bufio.Reader
	hist histogram

	ok, errors, handshakes, checked int64
	errKinds                        map[string]int64
	resumed                         bool
	state                           tls.ConnectionState
	firstStatus, firstHeaders       string
}

// connect opens the worker's connection: TCP, then the TLS handshake.
func (w *worker) connect(ctx context.Context) error {
	t := w.t
	d := net.Dialer{Timeout: t.cfg.Timeout}
	raw, err := d.DialContext(ctx, "tcp", t.addr)
	if err != nil {
		return &stepError{"connect", err}
	}
	c := raw
	if t.https {
		tc := tls.Client(raw, t.tls)
		_ = tc.SetDeadline(time.Now().Add(t.cfg.Timeout))
		if err := tc.HandshakeContext(ctx); err != nil {
			raw.Close()
			return &stepError{"handshake", err}
		}
		w.handshakes++
		cs := tc.ConnectionState()
		w.resumed = w.resumed || cs.DidResume
		if w.state.Version == 0 {
			w.state = cs
		}
		c = tc
	}
	w.conn = c
	if w.br == nil {
		w.br = bufio.NewReaderSize(c, 16<<10)
	} else {
		w.br.Reset(c)
	}
	return nil
}

func (w *worker) close() {
	if w.conn != nil {
		w.conn.Close()
		w.conn = nil
	}
}

// stepError names the step of a request that failed, for ErrorKinds.
type stepError struct {
	step string
	err  error
}

func (e *stepError) Error() string { return e.step + ": " + e.err.Error() }
func (e *stepError) Unwrap() error { return e.err }

// one runs one request and records its outcome.
func (w *worker) one(ctx context.Context) {
	start := time.Now()
	err := w.request(ctx, start)
	if err != nil {
		w.errors++
		w.errKinds[errorKind(err)]++
		w.close()
		return
	}
	w.ok++
	w.hist.record(time.Since(start))
	if w.t.cfg.Mode == ModeHandshake {
		w.close()
	}
}

func (w *worker) request(ctx context.Context, start time.Time) error {
	t := w.t
	if w.conn == nil {
		if err := w.connect(ctx); err != nil {
			return err
		}
	}
	_ = w.conn.SetDeadline(start.Add(t.cfg.Timeout))
	if _, err := w.conn.Write(t.request); err != nil {
		return &stepError{"write", err}
	}
	resp, err := http.ReadResponse(w.br, nil)
	if err != nil {
		return &stepError{"read", err}
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil {
		return &stepError{"read body", err}
	}
	if w.firstStatus == "" {
		w.firstStatus = resp.Status
		var hb bytes.Buffer
		_ = resp.Header.Write(&hb)
		w.firstHeaders = hb.String()
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return &statusError{resp.StatusCode}
	}
	if t.cfg.Check != nil && w.checked < int64(t.cfg.CheckFirst) {
		w.checked++
		if err := t.cfg.Check(resp); err != nil {
			return &stepError{"check", err}
		}
	}
	if resp.Close && t.cfg.Mode == ModeKeepAlive {
		// The server closes after this response; the next request on this
		// worker reconnects (and so pays for a handshake).
		w.close()
	}
	return nil
}

type statusError struct{ code int }

func (e *statusError) Error() string { return "status " + strconv.Itoa(e.code) }

// errorKind groups errors so a report shows a few lines, not thousands.
func errorKind(err error) string {
	var se *statusError
	if errors.As(err, &se) {
		return se.Error()
	}
	var st *stepError
	if errors.As(err, &st) {
		var ne net.Error
		if errors.As(st.err, &ne) && ne.Timeout() {
			return st.step + ": timeout"
		}
		msg := st.err.Error()
		if len(msg) > 120 {
			msg = msg[:120]
		}
		return st.step + ": " + stripAddrs(msg)
	}
	return err.Error()
}

// stripAddrs removes "127.0.0.1:PORT->127.0.0.1:PORT" style details that
// differ on every connection, so equal errors group together.
func stripAddrs(s string) string {
	if i := strings.Index(s, "tcp "); i >= 0 {
		if j := strings.Index(s[i:], ": "); j > 0 {
			return s[:i] + "tcp" + s[i+j:]
		}
	}
	return s
}
