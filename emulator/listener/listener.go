// Package listener accepts client connections the way an ALB listener does:
// it runs the TLS handshake itself, makes the client-certificate decision
// with emulator/verify (so every failure maps to one ALB code), rejects as
// ALB does (handshake completes, then a TCP reset; or a TLS alert), records
// one Conn per connection attempt for the connection log, and hands the
// accepted connections to an http.Server through the net.Listener interface.
package listener

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/albmtls/albmtls/emulator/connfacts"
	"github.com/albmtls/albmtls/emulator/connlog"
	"github.com/albmtls/albmtls/emulator/verify"
)

// Mode is the listener's mutual authentication mode (alb-behaviour §1.1).
type Mode string

// Modes.
const (
	ModeOff         Mode = "off"
	ModePassthrough Mode = "passthrough"
	ModeVerify      Mode = "verify"
)

// RejectWith says how a rejected client certificate ends the connection.
type RejectWith string

// Ways to reject.
const (
	// RejectReset drops the TLS alert and resets the TCP connection: a TLS
	// 1.3 client sees its handshake finish, then a reset (ALB, alb-behaviour §2.3).
	RejectReset RejectWith = "reset"
	// RejectAlert lets the TLS stack send its alert (bad_certificate).
	RejectAlert RejectWith = "alert"
)

// TLSSettings is what an HTTPS listener needs to run handshakes. It is
// replaced as a whole on reload (SetTLS).
type TLSSettings struct {
	// Config is the base TLS configuration: certificates, security policy,
	// ClientCAs when CA names are advertised. The listener sets ClientAuth,
	// session tickets, GetCertificate and VerifyConnection itself.
	Config *tls.Config
	Mode   Mode
	// Verifier decides client certificates in verify mode.
	Verifier *verify.Verifier
	// PassthroughMaxCertificateMessage, when positive, rejects a
	// passthrough client whose Certificate message body is larger, with
	// ClientCertMaxSizeExceeded: s2n caps every handshake message at 64 KiB
	// whatever the mode (alb-behaviour §S7); whether ALB's passthrough does is [UNK]
	// (alb-behaviour §10.3).
	PassthroughMaxCertificateMessage int
}

// Config describes one listener.
type Config struct {
	// Protocol is HTTP or HTTPS.
	Protocol Protocol
	// Port is the configured listener port, logged as listener_port; the
	// actual bound port when the configured one is 0.
	Port             int
	TLS              *TLSSettings
	RejectWith       RejectWith
	HandshakeTimeout time.Duration
	// IdleTimeout bounds the wait for a connection's first byte after the
	// handshake (after accept on HTTP listeners): ALB's idle timeout. The
	// HTTP server's ReadHeaderTimeout then bounds the headers; see
	// firstRequestConn. Zero leaves the wait unbounded.
	IdleTimeout time.Duration
	// OnConnection is called once per connection attempt, after the
	// handshake succeeded or failed (or at accept for HTTP listeners), from
	// the connection's own goroutine. The emulator writes the connection log
	// line and metrics from it.
	OnConnection func(*Conn)
	Logger       *slog.Logger
	// Rand supplies trace IDs; crypto/rand when nil.
	Rand io.Reader
	// RecordHeaderOrder records the order of each HTTP/1.x request's
	// header names in Conn.HeaderOrder, for a forward that writes them in
	// the client's order (emulation.forwarded_header_order: alb). The
	// connection Accept returns is then a wrapper, not a *tls.Conn (unless
	// HeadsPushed), so net/http leaves http.Request.TLS nil: the emulator
	// reads TLS facts from Conn. HTTP/2 connections are never wrapped
	// (net/http needs the *tls.Conn to serve them).
	RecordHeaderOrder bool
	// ClassifyRequests records each HTTP/1.x request's raw head and its
	// desync classification (HeaderOrder.Classification), for ALB's desync
	// mitigation mode; it wraps the connection as RecordHeaderOrder does.
	ClassifyRequests bool
	// HeadsPushed says the HTTP/1.x server parses each request head itself
	// and pushes it to Conn.HeaderOrder (HeaderOrder.Push), as
	// emulator/http1 does: the connection is then not wrapped to follow
	// its bytes.
	HeadsPushed bool
}

// Listener is a net.Listener whose Accept returns connections that passed
// the ALB listener's TLS stage: *tls.Conn for HTTPS, the raw connection for
// HTTP, each wrapped to record header order when Config.RecordHeaderOrder
// (HTTP/1.x only: an h2 connection is always the *tls.Conn). Use Lookup to
// get the Conn record of an accepted connection.
type Listener struct {
	cfg   Config
	inner net.Listener
	tls   atomic.Pointer[TLSSettings]
	ready chan net.Conn
	// prep is the TLS configuration prepared from the current settings
	// (see prepare): built once per TLSSettings, not per connection.
	prep atomic.Pointer[preparedTLS]
	done chan struct{}
	once sync.Once
	wg   sync.WaitGroup
	port int

	// Accept health, for /healthz and the accept-error metric.
	acceptErrors atomic.Uint64
	failing      atomic.Bool
	stopped      atomic.Bool
	lastErr      atomic.Pointer[acceptFailure]
}

type acceptFailure struct {
	err error
	at  time.Time
}

// Health is the state of a listener's accept loop.
type Health struct {
	// Stopped is true once the listener no longer accepts (after Close).
	Stopped bool
	// Failing is true while the latest accept attempt failed (out of file
	// descriptors, for example); the loop keeps retrying.
	Failing bool
	// AcceptErrors counts failed accept attempts since start.
	AcceptErrors uint64
	// LastAcceptError and LastAcceptErrorAt describe the latest failure.
	LastAcceptError   string
	LastAcceptErrorAt time.Time
}

// Health reports whether the listener accepts connections.
func (l *Listener) Health() Health {
	h := Health{Stopped: l.stopped.Load(), Failing: l.failing.Load(), AcceptErrors: l.acceptErrors.Load()}
	if f := l.lastErr.Load(); f != nil {
		h.LastAcceptError, h.LastAcceptErrorAt = f.err.Error(), f.at
	}
	return h
}

// Listen binds addr and starts accepting. Connections are handshaken in
// their own goroutines; Accept returns those that were accepted.
func Listen(addr string, cfg Config) (*Listener, error) {
	if cfg.Protocol == ProtocolHTTPS && (cfg.TLS == nil || cfg.TLS.Config == nil) {
		return nil, errors.New("listener: an HTTPS listener needs TLS settings")
	}
	cfg = defaults(cfg)
	inner, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	return newListener(inner, cfg), nil
}

// New serves connections from an already bound listener (tests wrap one to
// inject accept errors). It takes ownership of inner.
func New(inner net.Listener, cfg Config) (*Listener, error) {
	if cfg.Protocol == ProtocolHTTPS && (cfg.TLS == nil || cfg.TLS.Config == nil) {
		return nil, errors.New("listener: an HTTPS listener needs TLS settings")
	}
	return newListener(inner, defaults(cfg)), nil
}

func defaults(cfg Config) Config {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	if cfg.HandshakeTimeout <= 0 {
		cfg.HandshakeTimeout = 10 * time.Second
	}
	if cfg.RejectWith == "" {
		cfg.RejectWith = RejectReset
	}
	return cfg
}

func newListener(inner net.Listener, cfg Config) *Listener {
	l := &Listener{cfg: cfg, inner: inner, ready: make(chan net.Conn), done: make(chan struct{})}
	l.port = cfg.Port
	if l.port == 0 {
		l.port = inner.Addr().(*net.TCPAddr).Port
	}
	if cfg.TLS != nil {
		l.tls.Store(cfg.TLS)
	}
	l.wg.Add(1)
	go l.acceptLoop()
	return l
}

// SetTLS replaces the TLS settings for connections accepted from now on
// (reloaded certificates or trust store options). Established connections
// keep theirs.
func (l *Listener) SetTLS(s *TLSSettings) { l.tls.Store(s) }

// Port is the listener port as logged (the bound port if configured as 0).
func (l *Listener) Port() int { return l.port }

// Addr is the bound address.
func (l *Listener) Addr() net.Addr { return l.inner.Addr() }

// Accept returns the next connection that passed the TLS stage.
func (l *Listener) Accept() (net.Conn, error) {
	select {
	case c := <-l.ready:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

// Close stops accepting. Connections already handed out are the HTTP
// server's to close; handshakes in progress are abandoned.
func (l *Listener) Close() error {
	var err error
	l.once.Do(func() {
		close(l.done)
		err = l.inner.Close()
	})
	return err
}

// Wait blocks until the accept loop and every handshake goroutine ended.
func (l *Listener) Wait() { l.wg.Wait() }

// Lookup returns the record of a connection returned by Accept, or nil
// (also after Forget). The record hangs off the connection itself (every
// wrapper the listener puts around it carries it), so finding it costs no
// map and no lock.
func (l *Listener) Lookup(c net.Conn) *Conn {
	rec := recordOf(c)
	if rec == nil || rec.forgotten.Load() {
		return nil
	}
	return rec
}

// recorded is implemented by the listener's connection wrappers.
type recorded interface{ record() *Conn }

// recordOf is the record of a connection the listener made, or nil: the
// wrappers carry it, and a *tls.Conn is asked for the one under it.
func recordOf(c net.Conn) *Conn {
	if tc, ok := c.(*tls.Conn); ok {
		c = tc.NetConn()
	}
	if r, ok := c.(recorded); ok {
		return r.record()
	}
	return nil
}

// Activated tells the listener that the HTTP server has read a request's
// headers on c (http.Server ConnState StateActive): the wait for the first
// request is over (see firstRequestConn).
func (l *Listener) Activated(c net.Conn) {
	if rec := recordOf(c); rec != nil && rec.first != nil {
		rec.first.disarm()
	}
}

// Forget drops the record of a closed connection (http.Server ConnState
// StateClosed/StateHijacked): Lookup returns nil for it from then on.
func (l *Listener) Forget(c net.Conn) {
	if rec := recordOf(c); rec != nil {
		rec.forgotten.Store(true)
	}
}

func (l *Listener) acceptLoop() {
	defer l.wg.Done()
	defer l.stopped.Store(true)
	var delay time.Duration
	for {
		raw, err := l.inner.Accept()
		if err != nil {
			select {
			case <-l.done:
				return
			default:
			}
			l.acceptErrors.Add(1)
			l.failing.Store(true)
			l.lastErr.Store(&acceptFailure{err: err, at: time.Now()})
			// Retry every error with backoff, as net/http.Server does for
			// temporary ones: EMFILE/ENFILE (out of file descriptors),
			// ENOBUFS/ENOMEM and ECONNABORTED clear up on their own, and a
			// listener that gives up leaves the process running but deaf.
			// Only Close stops the loop; Health reports the failures.
			delay = min(max(2*delay, 5*time.Millisecond), time.Second)
			level := slog.LevelWarn
			if delay == time.Second {
				level = slog.LevelError
			}
			msg := "accept failed; retrying"
			if errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) {
				msg = "accept failed: out of file descriptors; retrying (raise the limit with ulimit -n, or hold fewer connections)"
			}
			l.cfg.Logger.Log(context.Background(), level, msg,
				"listener_port", l.port, "err", err, "retry_in", delay, "accept_errors", l.acceptErrors.Load())
			select {
			case <-time.After(delay):
			case <-l.done:
				return
			}
			continue
		}
		delay = 0
		l.failing.Store(false)
		l.wg.Add(1)
		go l.serveConn(raw)
	}
}

func (l *Listener) serveConn(raw net.Conn) {
	defer l.wg.Done()
	c := l.newConn(raw)
	fc := &firstRequestConn{Conn: raw, rec: c}
	c.first = fc
	var out net.Conn = fc
	if l.cfg.Protocol == ProtocolHTTPS {
		tc, ok := l.handshake(raw, fc, c)
		l.cfg.OnConnection(c)
		if !ok {
			return
		}
		out = tc
		if tc.ConnectionState().NegotiatedProtocol != "h2" {
			fc.arm(l.cfg.IdleTimeout)
			out = l.recordOrder(out, c)
		}
	} else {
		l.cfg.OnConnection(c)
		fc.arm(l.cfg.IdleTimeout)
		out = l.recordOrder(out, c)
	}
	select {
	case l.ready <- out:
	case <-l.done:
		c.forgotten.Store(true)
		out.Close()
	}
}

// recordOrder wraps an HTTP/1.x connection to record its requests' header
// order and desync classification, when the listener is configured to.
func (l *Listener) recordOrder(nc net.Conn, c *Conn) net.Conn {
	if !l.cfg.RecordHeaderOrder && !l.cfg.ClassifyRequests {
		return nc
	}
	c.HeaderOrder = &HeaderOrder{}
	if l.cfg.HeadsPushed {
		return nc
	}
	return &orderConn{Conn: nc, order: c.HeaderOrder, rec: c}
}

func (l *Listener) newConn(raw net.Conn) *Conn {
	c := &Conn{
		Accepted:     time.Now(),
		ListenerPort: l.port,
		TraceID:      connlog.NewTraceID(l.cfg.Rand),
		Protocol:     l.cfg.Protocol,
	}
	// A listener bound to 0.0.0.0 or :: sees IPv4 clients as ::ffff:a.b.c.d;
	// ALB logs and forwards plain IPv4 addresses.
	if a, ok := raw.RemoteAddr().(*net.TCPAddr); ok {
		c.Client = unmap(a.AddrPort())
	}
	if a, ok := raw.LocalAddr().(*net.TCPAddr); ok {
		c.Local = unmap(a.AddrPort())
	}
	return c
}

// handshake runs the server handshake and the certificate decision. It
// returns the TLS connection when the client was accepted; otherwise it has
// closed the connection the way the listener's RejectWith says.
func (l *Listener) handshake(raw, under net.Conn, c *Conn) (*tls.Conn, bool) {
	settings := l.tls.Load()
	c.Mode = settings.Mode
	rejects := settings.Mode == ModeVerify || (settings.Mode == ModePassthrough && settings.PassthroughMaxCertificateMessage > 0)
	hold := rejects && l.cfg.RejectWith == RejectReset
	var hc *holdConn
	if hold {
		hc = newHoldConn(under)
		under = hc
	}
	tc := tls.Server(under, l.prepare(settings).config(c))
	_ = raw.SetDeadline(time.Now().Add(l.cfg.HandshakeTimeout))
	err := tc.HandshakeContext(context.Background())
	cs := tc.ConnectionState()
	c.TLS = connfacts.NewTLS(cs.Version, cs.CipherSuite, cs.CurveID)
	c.ServerName = cs.ServerName
	c.DidResume = cs.DidResume
	if err == nil {
		_ = raw.SetDeadline(time.Time{})
		if hc != nil {
			if err = hc.release(); err != nil {
				c.Status = verify.UnmappedConnectionError
				c.Err = fmt.Errorf("sending the server's Finished: %w", err)
				raw.Close()
				return nil, false
			}
		}
		c.HandshakeLatency = time.Since(c.Accepted)
		c.Handshaked = true
		if c.Status == "" {
			c.Status = verify.Success
		}
		if c.Leaf == nil && len(cs.PeerCertificates) > 0 {
			c.setPeer(cs.PeerCertificates)
		}
		return tc, true
	}
	// Failed: the verifier already set Status when it rejected; otherwise
	// map what crypto/tls refused.
	if c.Status == "" || c.Status == verify.Success {
		if code, ok := verify.CodeForHandshakeError(err); ok {
			c.Status = code
			c.CertificateRejected = true
		} else {
			c.Status = verify.UnmappedConnectionError
		}
	}
	if c.Err == nil {
		c.Err = err
	}
	if hc != nil && c.CertificateRejected {
		hc.discard()
		resetClose(raw)
		return nil, false
	}
	if hc != nil {
		_ = hc.release()
	}
	raw.Close()
	return nil, false
}

// preparedTLS is the TLS configuration of one TLSSettings, prepared once
// for all its connections: the certificates moved behind GetCertificate
// (which finds the connection's record through hello.Conn), client
// authentication and session tickets set for the mode. Only a mode that
// decides the client's certificate (verify, or passthrough with the size
// limit) needs a per-connection copy, for VerifyConnection to reach the
// connection's record; the others use base itself.
type preparedTLS struct {
	settings *TLSSettings
	base     *tls.Config
	perConn  bool
}

// prepare returns the prepared configuration of s, building it when the
// settings changed (SetTLS). Two connections racing after a change may both
// build it; either result is the same.
func (l *Listener) prepare(s *TLSSettings) *preparedTLS {
	if p := l.prep.Load(); p != nil && p.settings == s {
		return p
	}
	p := newPreparedTLS(s)
	l.prep.Store(p)
	return p
}

func newPreparedTLS(s *TLSSettings) *preparedTLS {
	cfg := s.Config.Clone()
	certs := cfg.Certificates
	cfg.Certificates = nil
	cfg.GetCertificate = func(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
		i := chooseCertificate(hello, certs)
		if c := recordOf(hello.Conn); c != nil {
			c.CertificateIndex = i
		}
		return &certs[i], nil
	}
	p := &preparedTLS{settings: s, base: cfg}
	switch s.Mode {
	case ModeOff:
		cfg.ClientAuth = tls.NoClientCert
		cfg.ClientCAs = nil
	case ModePassthrough:
		// Request any certificate and check nothing (alb-behaviour §2.2); no
		// resumption with mTLS (alb-behaviour §2.4).
		cfg.ClientAuth = tls.RequestClientCert
		cfg.ClientCAs = nil
		cfg.SessionTicketsDisabled = true
		p.perConn = s.PassthroughMaxCertificateMessage > 0
	case ModeVerify:
		// Request any certificate and decide ourselves after the TLS stack
		// parsed it, so each failure maps to one ALB code.
		cfg.ClientAuth = tls.RequestClientCert
		cfg.SessionTicketsDisabled = true
		p.perConn = true
	}
	return p
}

// config is the configuration of one connection: base, or a copy of it
// whose VerifyConnection makes the certificate decision into c.
func (p *preparedTLS) config(c *Conn) *tls.Config {
	if !p.perConn {
		return p.base
	}
	cfg := p.base.Clone()
	s := p.settings
	switch s.Mode {
	case ModePassthrough:
		limit := s.PassthroughMaxCertificateMessage
		cfg.VerifyConnection = func(cs tls.ConnectionState) error {
			size := verify.CertificateMessageSize(cs.Version, func(yield func(int) bool) {
				for _, crt := range cs.PeerCertificates {
					if !yield(len(crt.Raw)) {
						return
					}
				}
			})
			if size <= limit {
				return nil
			}
			if len(cs.PeerCertificates) > 0 {
				c.setPeer(cs.PeerCertificates)
			}
			c.Status, c.CertificateRejected = verify.ClientCertMaxSizeExceeded, true
			return &RejectedError{Code: c.Status, Reason: fmt.Sprintf("the Certificate message is %d bytes, over the %d-byte limit every handshake message has (alb-behaviour §S7)", size, limit)}
		}
	case ModeVerify:
		v := s.Verifier
		cfg.VerifyConnection = func(cs tls.ConnectionState) error {
			c.verifyResult = v.VerifyParsed(cs.Version, cs.PeerCertificates)
			r := &c.verifyResult
			c.Verify = r
			c.Status = r.Code
			if len(cs.PeerCertificates) > 0 {
				c.setPeer(cs.PeerCertificates)
			}
			if r.Code != verify.Success {
				c.CertificateRejected = true
				return &RejectedError{Code: r.Code, Reason: r.Reason}
			}
			return nil
		}
	}
	return cfg
}

// chooseCertificate picks the listener certificate for a ClientHello: the
// first that matches the SNI name and the client's capabilities, else the
// first (the default), as on ALB.
func chooseCertificate(hello *tls.ClientHelloInfo, certs []tls.Certificate) int {
	if hello.ServerName != "" {
		for i := range certs {
			if hello.SupportsCertificate(&certs[i]) == nil {
				return i
			}
		}
	}
	return 0
}

func unmap(ap netip.AddrPort) netip.AddrPort {
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}

// resetClose closes with SO_LINGER 0, so the peer gets a TCP RST.
func resetClose(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	c.Close()
}

// RejectedError is returned to the TLS stack when a client certificate is
// refused; it carries the ALB code.
type RejectedError struct {
	Code   verify.Code
	Reason string
}

func (e *RejectedError) Error() string {
	return fmt.Sprintf("client certificate rejected: %s: %s", e.Code.LogValue(), e.Reason)
}

// Conn is everything known about one connection attempt: what the
// connection log line and the forwarded headers are made of.
type Conn struct {
	Accepted     time.Time
	Client       netip.AddrPort
	Local        netip.AddrPort
	ListenerPort int
	Protocol     Protocol // HTTP or HTTPS
	TraceID      string   // TID_ + 32 hex, shared by the connection and access logs
	Mode         Mode

	// TLS facts (HTTPS only).
	Handshaked       bool
	HandshakeLatency time.Duration
	// TLS is what the handshake negotiated, named as ALB logs it; the
	// zero value on plain HTTP.
	TLS              connfacts.TLS
	ServerName       string
	DidResume        bool
	CertificateIndex int

	// Client certificate, as sent (leaf first). Cert formats it.
	Chain [][]byte
	Leaf  *x509.Certificate
	// Verify is the verifier's result in verify mode.
	Verify *verify.Result
	// Status is the tls_verify_status code ("" for HTTP listeners).
	Status verify.Code
	// CertificateRejected is true when the client certificate (not some
	// other TLS problem) failed the connection.
	CertificateRejected bool
	// Err is why the handshake failed, for the operational log.
	Err error
	// HeaderOrder is the client's header order of each request, nil
	// unless Config.RecordHeaderOrder (HTTP/1.x only).
	HeaderOrder *HeaderOrder

	first *firstRequestConn
	// verifyResult holds the result Verify points to (one allocation less).
	verifyResult verify.Result
	// forgotten is set by Forget: Lookup returns nil from then on.
	forgotten atomic.Bool

	certOnce sync.Once
	cert     *connfacts.Cert
}

// Cert returns the client certificate's formatted fields, nil when the
// client sent none. They are formatted on the first call, once per
// connection, and shared by the connection log and every request's
// headers; call it only after the handshake, once Chain is final.
func (c *Conn) Cert() *connfacts.Cert {
	c.certOnce.Do(func() { c.cert = connfacts.NewCert(c.Leaf, c.Chain) })
	return c.cert
}

func (c *Conn) setPeer(certs []*x509.Certificate) {
	c.Leaf = certs[0]
	c.Chain = make([][]byte, len(certs))
	for i, crt := range certs {
		c.Chain[i] = crt.Raw
	}
}
