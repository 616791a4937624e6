// Package routing is the HTTP side of an ALB listener: for each request it
// applies ALB's request limits, evaluates the listener rules, runs the
// action (forward, redirect, fixed-response), adds ALB's headers to what is
// forwarded, and writes one access-log entry (alb-behaviour §7, §8).
package routing

import (
	"context"
	"crypto/rand"
	"io"
	"net/http"
	"net/http/httputil"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/albmtls/albmtls/emulator/accesslog"
	"github.com/albmtls/albmtls/emulator/albheader"
	"github.com/albmtls/albmtls/emulator/albresponse"
	"github.com/albmtls/albmtls/emulator/desync"
	"github.com/albmtls/albmtls/emulator/lambdatarget"
	"github.com/albmtls/albmtls/emulator/listener"
	"github.com/albmtls/albmtls/emulator/rules"
	"github.com/albmtls/albmtls/emulator/targetgroup"
)

// Action is a resolved listener or rule action.
type Action struct {
	Type     ActionType
	Group    *targetgroup.Group
	GroupARN string
	Redirect *albresponse.RedirectConfig
	Fixed    *albresponse.FixedResponseConfig
	// Lambda is set instead of Group for a target group of type lambda
	// (lambda.go).
	Lambda *lambdatarget.Group
}

// Config is one listener's HTTP behaviour.
type Config struct {
	Protocol listener.Protocol // HTTP or HTTPS
	Port     int               // listener port (as configured, or bound when 0)
	Rules    *rules.Table[*Action]
	Default  *Action
	// Headers builds the forwarded request's headers (listener attributes).
	Headers *albheader.Options
	// ResponseHeaders are the response-side listener attributes (§4.3).
	ResponseHeaders *albheader.ResponseOptions
	// Pages shapes ALB's own responses.
	Pages albresponse.ResponseOptions
	// PreserveHost is routing.http.preserve_host_header.enabled.
	PreserveHost bool
	// CertificateARNs are the listener certificates' ARNs, by index, for
	// chosen_cert_arn.
	CertificateARNs []string
	ELB             string
	// NodeIP is the load balancer node IP of the log lines; the connection's
	// local address when invalid.
	NodeIP netip.Addr
	// AccessLog receives one entry per request; nil discards.
	AccessLog func(*accesslog.Entry)
	// Rand supplies trace IDs; crypto/rand when nil.
	Rand io.Reader
	// DirectForward relays what targetgroup.Group.CanForwardDirect accepts
	// with ForwardDirect instead of Forward's ReverseProxy: set for the
	// HTTP/1.x requests of emulator/http1's front end, whose requests are
	// its own to rewrite in place (docs/http1-front-end.md).
	DirectForward bool
	// Desync is routing.http.desync_mitigation_mode ("" is ALB's default,
	// defensive): what happens to a request by its classification, which
	// the listener records (listener.Config.ClassifyRequests; docs/desync.md).
	Desync desync.Mode
}

type connKey struct{}

// connState is the per-connection value the HTTP server keeps in each
// request's context: the listener's record and the headers computed once
// per connection.
type connState struct {
	conn    *listener.Conn
	once    sync.Once
	headers *albheader.ConnHeaders
	// client is the header order of the request being served, as the
	// listener recorded it (HTTP/1.x, whose requests on a connection are
	// served one after another); nil when unknown.
	client []string
	// class and reason are the desync classification of the request being
	// served (HTTP/1.x); classified is false when unknown.
	class      desync.Class
	reason     desync.Reason
	classified bool
}

// WithConn returns ctx carrying the listener record of a connection; the
// emulator calls it from http.Server.ConnContext.
func WithConn(ctx context.Context, c *listener.Conn) context.Context {
	return context.WithValue(ctx, connKey{}, &connState{conn: c})
}

// Handler serves one listener's requests.
type Handler struct {
	cfg   Config
	inner http.Handler
}

// New builds the handler, including ALB's request-size limits.
func New(cfg Config) *Handler {
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	h := &Handler{cfg: cfg}
	h.inner = albresponse.Limits(http.HandlerFunc(h.serve), albresponse.LimitOptions{
		Response: cfg.Pages,
		OnReject: func(r *http.Request, reason string) {
			// The 400 page is written by Limits; log it as ALB would: no
			// action ran (actions_executed "-").
			e := h.entry(r, time.Now())
			e.ELBStatusCode = http.StatusBadRequest
			h.log(e)
		},
	})
	return h
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if cs, _ := r.Context().Value(connKey{}).(*connState); cs != nil && cs.conn.HeaderOrder != nil {
		// Once per request, rejected ones too, so the recorded blocks and
		// the requests stay in step.
		cs.client = cs.conn.HeaderOrder.Next(r.Header)
		cs.class, cs.reason, cs.classified = cs.conn.HeaderOrder.Classification()
	}
	h.inner.ServeHTTP(w, r)
}

func (h *Handler) serve(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	cs, _ := r.Context().Value(connKey{}).(*connState)
	e := h.entry(r, start)
	closeTarget := false
	if cs != nil && cs.classified {
		e.Classification, e.ClassificationReason = desync.LogFields(cs.class, cs.reason)
		switch desync.Decide(h.cfg.Desync, cs.class) {
		case desync.Block:
			// ALB answers 400 and closes the client connection (docs/desync.md).
			w.Header().Set("Connection", "close")
			e.SentBytes = albresponse.WriteError(w, r, http.StatusBadRequest, h.cfg.Pages)
			e.ELBStatusCode = http.StatusBadRequest
			h.log(e)
			return
		case desync.AllowThenClose:
			// Routed, then the client and target connections are closed.
			w.Header().Set("Connection", "close")
			closeTarget = true
		}
	}
	if albheader.XFFCount(r.Header) > albheader.MaxXFFAddresses {
		// More than 30 X-Forwarded-For addresses: 463 (alb-behaviour §4.4, §8.1).
		e.SentBytes = albresponse.WriteError(w, r, 463, h.cfg.Pages)
		e.ELBStatusCode = 463
		h.log(e)
		return
	}
	a := h.cfg.Default
	e.MatchedRulePriority = accesslog.DefaultRulePriority
	if m := h.cfg.Rules.Match(r, e.Client.Addr()); m != nil {
		a = m.Action
		e.MatchedRulePriority = m.Priority
	}
	e.ActionsExecuted = []string{string(a.Type)}
	headers := h.connHeaders(cs)
	switch a.Type {
	case ActionForward:
		if a.Lambda != nil {
			h.forwardLambda(w, r, a, headers, e)
			return
		}
		var client []string
		if cs != nil {
			client = cs.client
		}
		h.forward(w, r, a, headers, client, closeTarget, e)
		return
	case ActionRedirect:
		e.TraceID = h.traceID(r, headers, start)
		h.cfg.ResponseHeaders.ApplyGenerated(w.Header())
		loc, sent := albresponse.WriteRedirect(w, r, *a.Redirect, string(h.cfg.Protocol), h.cfg.Port, h.cfg.Pages)
		e.RedirectURL = loc
		e.SentBytes = sent
		e.ELBStatusCode = redirectStatus(a.Redirect.StatusCode)
	case ActionFixedResponse:
		e.TraceID = h.traceID(r, headers, start)
		h.cfg.ResponseHeaders.ApplyGenerated(w.Header())
		e.SentBytes = albresponse.WriteFixed(w, r, *a.Fixed, h.cfg.Pages)
		e.ELBStatusCode = fixedStatus(a.Fixed.StatusCode)
	}
	// Answered by the load balancer itself: the three processing times
	// are -1, as on ALB's fixed-response and redirect lines (alb-behaviour §7).
	e.Time = time.Now()
	h.log(e)
}

func (h *Handler) forward(w http.ResponseWriter, r *http.Request, a *Action, headers *albheader.ConnHeaders, client []string, closeTarget bool, e *accesslog.Entry) {
	e.TargetGroupARN = a.GroupARN
	// The forwarded trace id goes straight into e (a variable the
	// closures shared would be moved to the heap); "" until one is set.
	e.TraceID = ""
	rw := w
	if o := h.cfg.ResponseHeaders; o != nil && o.ChangesTargetResponses() {
		rw = &responseHeaders{ResponseWriter: w, opts: o}
	}
	var out targetgroup.Outcome
	if h.cfg.DirectForward && r.ProtoMajor == 1 && a.Group.CanForwardDirect(r) {
		out = a.Group.ForwardDirect(rw, r, func(hdr http.Header) targetgroup.DirectRequest {
			dr := targetgroup.DirectRequest{Host: targetgroup.TargetHost(r.Host, h.cfg.Port, h.cfg.PreserveHost), Close: closeTarget}
			if headers == nil {
				return dr
			}
			// The trace id's epoch is the request's arrival on every path,
			// ALB's own answers included (traceID).
			if before, after, ok := headers.Order(); ok {
				// The connection's ALB headers go out as lines rendered once
				// per connection, not through the header map.
				lines, _ := headers.ApplyLines(hdr, e.RequestCreationTime, h.cfg.Rand)
				dr.Order, dr.Ordered = targetgroup.HeaderOrder{Before: before, After: after, Client: client, Lines: lines}, true
			} else {
				_ = headers.Apply(hdr, e.RequestCreationTime, h.cfg.Rand)
			}
			if v := hdr[albheader.TraceID]; len(v) > 0 {
				e.TraceID = v[0]
			}
			return dr
		})
	} else {
		out = a.Group.Forward(rw, r, func(pr *httputil.ProxyRequest) {
			pr.Out.Host = targetgroup.TargetHost(pr.In.Host, h.cfg.Port, h.cfg.PreserveHost)
			pr.Out.Close = closeTarget // the target connection is not reused
			// ReverseProxy drops the client's X-Forwarded-For before Rewrite;
			// ALB appends to it or preserves it (alb-behaviour §4.4), so put it back
			// and let the header rules decide.
			if xff := pr.In.Header.Values(albheader.XForwardedFor); len(xff) > 0 {
				pr.Out.Header[albheader.XForwardedFor] = xff
			}
			if headers != nil {
				_ = headers.Apply(pr.Out.Header, e.RequestCreationTime, h.cfg.Rand)
				e.TraceID = pr.Out.Header.Get(albheader.TraceID)
				if before, after, ok := headers.Order(); ok {
					targetgroup.SetHeaderOrder(pr.Out, targetgroup.HeaderOrder{Before: before, After: after, Client: client})
				}
			}
		})
	}
	if e.TraceID == "" {
		e.TraceID = h.traceID(r, headers, e.RequestCreationTime)
	}
	e.Time = time.Now()
	e.Target = out.Target()
	e.RequestProcessingTime = out.RequestTime
	e.TargetProcessingTime = out.TargetTime
	e.ResponseProcessingTime = out.ResponseTime
	e.ELBStatusCode = out.ELBStatus
	e.TargetStatusCode = out.TargetStatus
	if out.ReceivedBytes > 0 {
		e.ReceivedBytes = out.ReceivedBytes
	}
	e.SentBytes = out.SentBytes
	e.ErrorReason = out.ErrorReason
	// One entry per attempt in both lists, as ALB pairs them; accesslog
	// writes an invalid target or a 0 status as "-".
	for _, a := range out.Attempts {
		e.TargetPortList = append(e.TargetPortList, a.Target)
		e.TargetStatusCodeList = append(e.TargetStatusCodeList, a.Status)
	}
	h.log(e)
	if out.Aborted || out.ELBStatus == targetgroup.StatusClientClosed {
		// The target failed after its headers were relayed: reset the
		// stream so the client does not take a truncated body as complete.
		// 460, the client went away (or half-closed): nothing is sent, and
		// returning would let net/http answer 200 for the handler.
		panic(http.ErrAbortHandler)
	}
}

// connHeaders returns the connection's precomputed forwarded headers.
func (h *Handler) connHeaders(cs *connState) *albheader.ConnHeaders {
	if cs == nil {
		return nil
	}
	cs.once.Do(func() {
		c := cs.conn
		scheme := "http"
		if c.Protocol == listener.ProtocolHTTPS {
			scheme = "https"
		}
		cs.headers = albheader.NewConnHeaders(&albheader.Conn{
			Mode:         string(c.Mode),
			Cert:         c.Cert(),
			TLS:          c.TLS,
			Client:       c.Client,
			ListenerPort: h.cfg.Port,
			Scheme:       scheme,
		}, h.cfg.Headers)
	})
	return cs.headers
}

// traceID computes the X-Amzn-Trace-Id ALB would have sent for a request
// that is answered without a target (it is still logged, alb-behaviour §7).
func (h *Handler) traceID(r *http.Request, headers *albheader.ConnHeaders, now time.Time) string {
	if headers == nil {
		return ""
	}
	id, err := albheader.TraceValue(r.Header, now, h.cfg.Rand)
	if err != nil {
		return ""
	}
	return id
}

// entry starts the access-log entry of a request with what the connection
// and the request line say.
func (h *Handler) entry(r *http.Request, start time.Time) *accesslog.Entry {
	e := &accesslog.Entry{
		Time:                   start,
		ELB:                    h.cfg.ELB,
		RequestMethod:          r.Method,
		RequestProto:           r.Proto,
		UserAgent:              r.UserAgent(),
		RequestCreationTime:    start,
		MatchedRulePriority:    accesslog.NoRulePriority,
		NodeIP:                 h.cfg.NodeIP,
		ReceivedBytes:          requestSize(r),
		RequestProcessingTime:  accesslog.NotDispatched,
		TargetProcessingTime:   accesslog.NotDispatched,
		ResponseProcessingTime: accesslog.NotDispatched,
	}
	scheme := "http"
	e.Type = accesslog.TypeHTTP
	if cs, ok := r.Context().Value(connKey{}).(*connState); ok {
		c := cs.conn
		e.Client = c.Client
		e.ConnTraceID = c.TraceID
		if !e.NodeIP.IsValid() {
			e.NodeIP = c.Local.Addr().Unmap()
		}
		if c.Protocol == listener.ProtocolHTTPS {
			scheme = "https"
			e.Type = accesslog.TypeHTTPS
			if r.ProtoMajor == 2 {
				e.Type = accesslog.TypeH2
			}
			e.SSLCipher = c.TLS.Cipher
			e.SSLProtocol = c.TLS.Protocol
			e.DomainName = c.ServerName
			switch {
			case c.DidResume:
				e.ChosenCertARN = accesslog.SessionReused
			case c.CertificateIndex < len(h.cfg.CertificateARNs):
				e.ChosenCertARN = h.cfg.CertificateARNs[c.CertificateIndex]
			}
		}
	}
	e.RequestURL = accesslog.RequestURL(scheme, hostOnly(r.Host), h.cfg.Port, r.RequestURI)
	return e
}

func (h *Handler) log(e *accesslog.Entry) {
	if h.cfg.AccessLog != nil {
		h.cfg.AccessLog(e)
	}
}

// responseHeaders applies the listener's response-header attributes to a
// target's response just before its headers are written.
type responseHeaders struct {
	http.ResponseWriter
	opts *albheader.ResponseOptions
	done bool
}

func (w *responseHeaders) WriteHeader(code int) {
	if !w.done && w.opts != nil && code >= 200 {
		w.done = true
		w.opts.Apply(w.ResponseWriter.Header())
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *responseHeaders) Write(p []byte) (int, error) {
	if !w.done {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the real writer (flushes,
// deadlines).
func (w *responseHeaders) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *responseHeaders) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// requestSize estimates the bytes of the request as received: request line,
// headers and body length (received_bytes, alb-behaviour §7).
func requestSize(r *http.Request) int64 {
	n := int64(len(r.Method) + 1 + len(r.RequestURI) + 1 + len(r.Proto) + 2)
	for k, vs := range r.Header {
		for _, v := range vs {
			n += int64(len(k) + 2 + len(v) + 2)
		}
	}
	n += int64(len("Host: ")+len(r.Host)) + 2 + 2
	if r.ContentLength > 0 {
		n += r.ContentLength
	}
	return n
}

func hostOnly(h string) string {
	if i := strings.LastIndexByte(h, ':'); i >= 0 && !strings.HasSuffix(h, "]") {
		return h[:i]
	}
	return h
}

func redirectStatus(code albresponse.RedirectStatus) int {
	if code == albresponse.RedirectTemporary {
		return http.StatusFound
	}
	return http.StatusMovedPermanently
}

func fixedStatus(code string) int { return atoiOr0(code) }

func atoiOr0(s string) int {
	n := 0
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0
		}
		n = n*10 + int(c-'0')
	}
	return n
}
