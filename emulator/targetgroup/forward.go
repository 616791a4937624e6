package targetgroup

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/http/httputil"
	"net/netip"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/albmtls/albmtls/emulator/albresponse"
)

// Failure names why a forward did not end in a relayed target response. ALB
// logs error_reason only for Lambda, WAF and authenticate failures [DOC: AL],
// so these names are the emulator's own [INF], modelled on ALB's CloudWatch
// metric TargetConnectionErrorCount and the troubleshooting guide [DOC: TS].
type Failure string

// Failures and the status code ALB answers for each.
const (
	FailureNone                    Failure = ""
	FailureNoTargets               Failure = "NoRegisteredTargets"     // 503: no target registered (or routable)
	FailureTargetConnectionError   Failure = "TargetConnectionError"   // 502: refused, unreachable, TLS handshake failed
	FailureTargetConnectionTimeout Failure = "TargetConnectionTimeout" // 504: connect timeout (10 s)
	FailureTargetResponseError     Failure = "TargetResponseError"     // 502: reset, closed or malformed response
	FailureTargetTimeout           Failure = "TargetTimeout"           // 504: no response within the idle timeout
	FailureClientClosed            Failure = "ClientClosedConnection"  // 460: the client went away first
	FailureMalformedRequest        Failure = "MalformedRequest"        // 400: the client's request body broke its framing
)

// StatusClientClosed is ALB's 460: the client closed the connection before
// the load balancer could answer [DOC: TS]. No response is sent.
const StatusClientClosed = 460

// Attempt is one try to get a response from a target: target:port_list
// and target_status_code_list hold one entry per attempt (alb-behaviour §7 fields
// 25, 26). The emulator makes one attempt per request. Only accesslog
// formats these values.
type Attempt struct {
	// Target is the IP address and port the attempt reached, as ALB logs
	// it, also for a target registered by hostname (resolved); when no
	// connection was made (say, refused), the address dialled, else the
	// registered address if it is an IP:port; invalid when none is known
	// (a hostname that did not resolve), logged "-".
	Target netip.AddrPort
	// Registered is the target as configured (host:port), for operational
	// logs.
	Registered string
	// Status is the target's status code, 0 when it sent none ("-").
	Status int
}

// Outcome is what the access log needs about one forwarded request
// (alb-behaviour §7 fields 5-12, 25-27).
type Outcome struct {
	// Attempts are the tries made, in order; nil when no target was tried
	// (none registered, or the client's request was at fault).
	Attempts []Attempt
	// TargetStatus is the target's status code, 0 when it sent none
	// (target_status_code "-").
	TargetStatus int
	// RequestTime, TargetTime and ResponseTime are
	// request/target/response_processing_time; -1 where ALB logs -1: the
	// request could not be dispatched, the target closed or reset the
	// connection, or did not answer within the idle timeout [DOC: AL].
	RequestTime, TargetTime, ResponseTime time.Duration
	// ELBStatus is the status the client received (elb_status_code): the
	// target's, or ALB's own 460/502/503/504.
	ELBStatus int
	// ErrorReason is the error_reason field: "" ("-") unless
	// Config.LogErrorReason, then Failure's name.
	ErrorReason string
	// Failure classifies what went wrong, whatever LogErrorReason says.
	Failure Failure
	// ReceivedBytes and SentBytes are received_bytes and sent_bytes:
	// body bytes counted exactly, header bytes estimated from their
	// HTTP/1.1 form (ALB counts wire bytes).
	ReceivedBytes, SentBytes int64
	// Aborted means the target failed after its response headers were
	// relayed, so the client got a truncated response. The caller should
	// log the outcome and then panic(http.ErrAbortHandler) so net/http resets
	// the client's stream or connection, as ALB drops it; net/http offers no
	// other way to reset an HTTP/2 stream.
	Aborted bool
}

// Target is the target:port field: the last attempt's target, invalid
// ("-") when there was none.
func (o *Outcome) Target() netip.AddrPort {
	if len(o.Attempts) == 0 {
		return netip.AddrPort{}
	}
	return o.Attempts[len(o.Attempts)-1].Target
}

// forward is the state of one Forward call, carried to the ReverseProxy
// hooks through the request context.
type forward struct {
	g       *Group
	t       *target
	rewrite func(*httputil.ProxyRequest)
	out     *Outcome
	w       *responseWriter
	body    *targetBody
	reqBody *countingBody // nil without a request body

	remote       netip.AddrPort // the last connection to the target, or the address dialled
	wroteHeaders atomic.Int64   // unix nanos: request headers sent to the target
	firstByte    atomic.Int64   // unix nanos: first response byte from the target
	errorPage    int64          // bytes of an error page written by the handler, -1 if none
	clientFault  bool           // the client's request body failed: no target is to blame
	copyFailed   bool           // relaying the response body failed
	trace        httptrace.ClientTrace
	order        HeaderOrder // set by SetHeaderOrder, from the rewrite
	ordered      bool
}

type forwardKey struct{}

// Forward sends r to the next target (round robin over healthy targets;
// every target when none is healthy; ALB's 503 page when none is
// registered), relays the response and returns what the access log needs.
// rewrite, if not nil, is called on every outbound request after the target
// is set, to add ALB's headers. The client's Host is kept, as ALB does with
// routing.http.preserve_host_header.enabled; rewrite can apply ALB's default
// with TargetHost.
// Target failures get ALB's pages: 502 (refused, reset, malformed), 504
// (connect or idle timeout); a client that goes away is 460 and gets
// nothing. See Outcome.Aborted for failures after the headers were relayed.
func (g *Group) Forward(w http.ResponseWriter, r *http.Request, rewrite func(*httputil.ProxyRequest)) (out Outcome) {
	start := time.Now()
	out = Outcome{RequestTime: -1, TargetTime: -1, ResponseTime: -1}
	reqHeader := requestHeaderBytes(r)
	t := g.pick()
	if t == nil {
		out.ELBStatus, out.Failure = http.StatusServiceUnavailable, FailureNoTargets
		out.SentBytes = albresponse.WriteError(w, r, http.StatusServiceUnavailable, g.cfg.Response)
		out.ReceivedBytes = reqHeader
		out.ErrorReason = g.errorReason(out.Failure)
		return out
	}

	f := &forward{g: g, t: t, rewrite: rewrite, out: &out, w: &responseWriter{ResponseWriter: w}, errorPage: -1}
	f.trace.GotConn = func(i httptrace.GotConnInfo) {
		f.remote = remoteAddr(i.Conn)
		if oc, ok := i.Conn.(*orderConn); ok && f.ordered { // http.Transport: about to write the request
			oc.arm(f.order)
		}
	}
	f.trace.WroteHeaders = func() { f.wroteHeaders.Store(time.Now().UnixNano()) }
	f.trace.GotFirstResponseByte = func() { f.firstByte.Store(time.Now().UnixNano()) }
	ctx := context.WithValue(httptrace.WithClientTrace(r.Context(), &f.trace), forwardKey{}, f)
	r2 := r.WithContext(ctx)
	var reqBody *countingBody
	if r.Body != nil && r.Body != http.NoBody {
		reqBody = &countingBody{ReadCloser: r.Body}
		r2.Body = reqBody
		f.reqBody = reqBody
	}

	f.serve(r2)
	f.finish(r2, start)
	out.ReceivedBytes = reqHeader
	if reqBody != nil {
		out.ReceivedBytes += reqBody.n
	}
	return out
}

// serve runs the proxy. ReverseProxy panics with http.ErrAbortHandler when
// relaying the body fails; the outcome is still wanted, so serve recovers
// that panic (and only that one) and records it.
func (f *forward) serve(r *http.Request) {
	defer func() {
		if p := recover(); p != nil {
			if p != http.ErrAbortHandler { //nolint:errorlint // sentinel identity
				panic(p)
			}
			f.copyFailed = true
		}
	}()
	f.g.proxy.ServeHTTP(f.w, r)
}

// finish fills the outcome after the proxy returned, and commits what the
// response writer still holds, or, when the target failed before any of
// its response reached the client, answers with ALB's page instead.
func (f *forward) finish(r *http.Request, start time.Time) {
	out := f.out
	if f.clientFault {
		// The request never reached a target whole: like ALB's line for
		// a malformed request, target, times and target status are "-"
		// and -1 (alb-behaviour §7; "-1 … if the client sends a malformed
		// request" [DOC: AL]).
		out.ErrorReason = f.g.errorReason(out.Failure)
		out.SentBytes = f.errorPage
		return
	}
	a := Attempt{Target: f.remote, Registered: f.t.addr, Status: out.TargetStatus}
	if !a.Target.IsValid() {
		a.Target, _ = netip.ParseAddrPort(f.t.addr) // invalid for an unresolved hostname
	}
	out.Attempts = []Attempt{a}

	bodyFailed := f.body != nil && f.body.err != nil && !errors.Is(f.body.err, io.EOF) && f.w.err == nil
	switch {
	case f.errorPage >= 0: // ALB answered itself (or, for 460, not at all)
		out.SentBytes = f.errorPage
	case bodyFailed && !f.w.committed && r.Context().Err() != nil:
		// The client went away; nothing had been sent to it.
		f.w.discard()
		out.ELBStatus, out.Failure = StatusClientClosed, FailureClientClosed
	case bodyFailed && !f.w.committed:
		// The target failed before any of its response reached the
		// client: the client gets ALB's page, and the log says so
		// (elb_status_code 502/504, target_status_code the target's).
		f.w.discard()
		code, failure := http.StatusBadGateway, FailureTargetResponseError
		if isTimeout(f.body.err) {
			code, failure = http.StatusGatewayTimeout, FailureTargetTimeout
		}
		out.ELBStatus, out.Failure = code, failure
		out.SentBytes = albresponse.WriteError(f.w.ResponseWriter, r, code, f.g.cfg.Response)
	case bodyFailed:
		// The target failed mid-body after bytes of its response went
		// out: the client's response is cut short (Aborted). It got the
		// target's status line; SentBytes counts what went out.
		out.ELBStatus, out.Aborted = out.TargetStatus, true
		out.Failure = FailureTargetResponseError
		if isTimeout(f.body.err) {
			out.Failure = FailureTargetTimeout
		}
		out.SentBytes = f.w.sent()
	case f.w.err != nil || f.copyFailed:
		// The client went away while the response was being relayed.
		f.w.drop()
		out.ELBStatus, out.Failure = StatusClientClosed, FailureClientClosed
		out.SentBytes = f.w.sent()
	default:
		f.w.commit()
		out.ELBStatus = f.w.status
		out.SentBytes = f.w.sent()
		if f.w.err != nil {
			out.ELBStatus, out.Failure = StatusClientClosed, FailureClientClosed
		}
	}
	if f.errorPage < 0 && out.TargetStatus != 0 {
		wrote, first := f.wroteHeaders.Load(), f.firstByte.Load()
		if wrote == 0 {
			wrote = first
		}
		out.RequestTime = time.Duration(wrote - start.UnixNano())
		out.TargetTime = time.Duration(first - wrote)
		if !f.w.headerAt.IsZero() {
			out.ResponseTime = f.w.headerAt.Sub(time.Unix(0, first))
		}
	}
	out.ErrorReason = f.g.errorReason(out.Failure)
}

func (g *Group) errorReason(f Failure) string {
	if !g.cfg.LogErrorReason {
		return ""
	}
	return string(f)
}

// rewriteFromContext points the outbound request at the chosen target and
// lets the caller add ALB's headers. The Host header stays the client's
// unless the caller's rewrite changes it.
func rewriteFromContext(pr *httputil.ProxyRequest) {
	f := pr.In.Context().Value(forwardKey{}).(*forward)
	pr.Out.URL.Scheme = "http"
	if f.g.cfg.Protocol == "HTTPS" {
		pr.Out.URL.Scheme = "https"
	}
	pr.Out.URL.Host = f.t.addr
	pr.Out.Host = pr.In.Host
	// Request trailers are not forwarded, and so neither is their
	// declaration: the clone would make http.Transport announce the
	// client's Trailer names and then send none (issue 19). Forwarding
	// them would carry client-chosen fields, headers the emulator owns
	// among them, past the header rules that only see the head. What ALB
	// does is not documented [UNK]; docs/targets.md.
	pr.Out.Trailer = nil
	if f.rewrite != nil {
		f.rewrite(pr)
	}
}

// modifyResponse records the target's status and watches its body for
// failures.
func modifyResponse(res *http.Response) error {
	f := res.Request.Context().Value(forwardKey{}).(*forward)
	f.out.TargetStatus = res.StatusCode
	if f.firstByte.Load() == 0 {
		f.firstByte.Store(time.Now().UnixNano())
	}
	if res.StatusCode == http.StatusSwitchingProtocols {
		// An upgrade: ReverseProxy relays the connection itself and needs
		// the body's Write (a wrapped body made every upgrade a 502).
		return nil
	}
	f.body = &targetBody{ReadCloser: res.Body}
	res.Body = f.body
	return nil
}

// handleProxyError maps a failure to reach the target or read its response
// headers onto ALB's status code and writes ALB's page for it.
func handleProxyError(w http.ResponseWriter, r *http.Request, err error) {
	f := r.Context().Value(forwardKey{}).(*forward)
	code, failure := classify(r.Context(), err)
	if f.reqBody != nil && f.reqBody.err != nil {
		// Reading the client's body failed, so did the transport.
		f.clientFault = true
		code, failure = classifyClientBody(r.Context(), f.reqBody.err)
	}
	f.out.ELBStatus, f.out.Failure = code, failure
	var de *dialError
	if errors.As(err, &de) && de.addr.IsValid() && !f.remote.IsValid() {
		f.remote = de.addr // no connection: the address dialled (a hostname resolved)
	}
	f.errorPage = 0
	if code == StatusClientClosed {
		return // nobody to answer
	}
	f.errorPage = albresponse.WriteError(f.w.ResponseWriter, r, code, f.g.cfg.Response)
}

// classifyClientBody maps a failure to read the client's request body onto
// ALB's status code: a client that went away mid-body (connection closed
// or reset, context cancelled) is a 460; a body that breaks its own
// framing (a bad chunk size line, chunk data longer than its size, an
// HTTP/2 body longer or shorter than its Content-Length) is a malformed
// request, ALB's 400 [DOC: TS "400: malformed request"]. Which it is, is
// judged by the error net/http's body reader returned.
func classifyClientBody(ctx context.Context, err error) (int, Failure) {
	var ne net.Error
	if ctx.Err() != nil || errors.Is(err, io.ErrUnexpectedEOF) || errors.As(err, &ne) ||
		errors.Is(err, net.ErrClosed) || errors.Is(err, syscall.ECONNRESET) {
		return StatusClientClosed, FailureClientClosed
	}
	return http.StatusBadRequest, FailureMalformedRequest
}

// classify maps a transport error onto ALB's status code [DOC: TS]:
// connect timeout 504; refused, unreachable or TLS handshake failure 502;
// no response within the idle timeout 504; reset, close or malformed
// response 502; the client gone 460.
func classify(ctx context.Context, err error) (int, Failure) {
	var de *dialError
	switch {
	case ctx.Err() != nil || errors.Is(err, context.Canceled):
		return StatusClientClosed, FailureClientClosed
	case errors.As(err, &de) && de.timeout:
		return http.StatusGatewayTimeout, FailureTargetConnectionTimeout
	case errors.As(err, &de):
		return http.StatusBadGateway, FailureTargetConnectionError
	case isTimeout(err):
		return http.StatusGatewayTimeout, FailureTargetTimeout
	default:
		return http.StatusBadGateway, FailureTargetResponseError
	}
}
