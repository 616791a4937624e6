package albresponse

import (
	"fmt"
	"net/http"

	"github.com/albmtls/albmtls/emulator/alb"
)

// ServerMaxHeaderBytes is the http.Server.MaxHeaderBytes a listener using
// Limits needs: well above ALB's quotas, so that oversized requests reach
// Limits and get ALB's 400 instead of Go's own 431. Go reads at most this
// plus 4 KiB of request line and headers on HTTP/1.x, and advertises it as
// SETTINGS_MAX_HEADER_LIST_SIZE on HTTP/2; only requests beyond it still get
// Go's 431. It equals Go's default (http.DefaultMaxHeaderBytes), so leaving
// the field zero works too.
const ServerMaxHeaderBytes = http.DefaultMaxHeaderBytes

// LimitOptions configures Limits. Zero limits mean ALB's quotas.
type LimitOptions struct {
	Response     ResponseOptions
	RequestLine  int // default alb.MaxRequestLine
	SingleHeader int // default alb.MaxHeaderLine
	TotalHeader  int // default alb.MaxRequestHeaders
	// OnReject, when set, is called before the 400 is written, with a short
	// reason such as "request line of 16385 bytes exceeds 16384", so the
	// caller can log the request (elb_status_code 400, actions_executed "-").
	OnReject func(r *http.Request, reason string)
}

// Limits enforces ALB's request-line and header quotas (package alb,
// alb-behaviour §1.2) in front of next, answering ALB's 400 page (with
// "Connection: close", as observed) for any request over them. Sizes are measured on the HTTP/1.1 form of the request,
// also for HTTP/2, where the request line is rebuilt from the pseudo-headers
// [INF]. Pair it with http.Server.MaxHeaderBytes >= ServerMaxHeaderBytes.
func Limits(next http.Handler, opts LimitOptions) http.Handler {
	if opts.RequestLine <= 0 {
		opts.RequestLine = alb.MaxRequestLine
	}
	if opts.SingleHeader <= 0 {
		opts.SingleHeader = alb.MaxHeaderLine
	}
	if opts.TotalHeader <= 0 {
		opts.TotalHeader = alb.MaxRequestHeaders
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if reason := opts.check(r); reason != "" {
			if opts.OnReject != nil {
				opts.OnReject(r, reason)
			}
			WriteError(w, r, http.StatusBadRequest, opts.Response)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// check returns why r exceeds a quota, or "".
func (o LimitOptions) check(r *http.Request) string {
	uri := r.RequestURI
	if uri == "" {
		uri = r.URL.RequestURI()
	}
	// "METHOD SP request-target SP HTTP/x.y"; HTTP/2 requests count as HTTP/1.1.
	line := len(r.Method) + 1 + len(uri) + 1 + len("HTTP/1.1")
	if line > o.RequestLine {
		return fmt.Sprintf("request line of %d bytes exceeds %d", line, o.RequestLine)
	}
	total := 0
	if r.Host != "" {
		// net/http moves Host (HTTP/2: :authority) out of r.Header.
		n := len("Host: ") + len(r.Host)
		if n > o.SingleHeader {
			return fmt.Sprintf("header Host of %d bytes exceeds %d", n, o.SingleHeader)
		}
		total += n + 2
	}
	for name, values := range r.Header {
		for _, v := range values {
			n := len(name) + 2 + len(v)
			if n > o.SingleHeader {
				return fmt.Sprintf("header %s of %d bytes exceeds %d", name, n, o.SingleHeader)
			}
			total += n + 2
		}
	}
	if total > o.TotalHeader {
		return fmt.Sprintf("request headers of %d bytes exceed %d", total, o.TotalHeader)
	}
	return ""
}
