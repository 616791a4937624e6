package lambdatarget

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/albmtls/albmtls/emulator/albresponse"
)

// Config describes a lambda target group.
type Config struct {
	Name string
	// ARN is the target group's ARN (requestContext.elb.targetGroupArn).
	ARN string
	// Function is the registered function's name; "" means none is
	// registered (503, as for an empty target group).
	Function string
	// Invoker runs the function: an *InvokeClient or a *RuntimeHost.
	Invoker Invoker
	// Timeout is the function timeout.
	Timeout time.Duration
	// Grace is how much longer than Timeout the invocation may take before
	// the load balancer gives up: an Invoke API endpoint enforces the
	// timeout itself and reports it; the built-in host needs none.
	Grace time.Duration
	// MultiValueHeaders is lambda.multi_value_headers.enabled.
	MultiValueHeaders bool
}

// Group is a running lambda target group; safe for concurrent use.
type Group struct {
	cfg Config
	log *slog.Logger
}

// New returns the group; a nil logger discards.
func New(cfg Config, logger *slog.Logger) *Group {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Group{cfg: cfg, log: logger}
}

// Name is the target group's name.
func (g *Group) Name() string { return g.cfg.Name }

// Outcome is what the access log needs about one request to the function.
type Outcome struct {
	// ELBStatus is the status the client got; FunctionStatus the
	// function's statusCode (target_status_code), 0 when there was none.
	ELBStatus, FunctionStatus int
	Reason                    Reason
	// Detail says what failed, for operational logs.
	Detail string
	// RequestTime, TargetTime, ResponseTime: reading the request and
	// building the event, the invocation, writing the response.
	RequestTime, TargetTime, ResponseTime time.Duration
	SentBytes                             int64
	// Invoked is false when no invocation was made.
	Invoked bool
}

// Serve answers r through the function. header is the request's header as
// ALB forwards it (albheader applied); w receives the function's response
// or ALB's error page (pages).
func (g *Group) Serve(w http.ResponseWriter, r *http.Request, header http.Header, traceID string, pages albresponse.ResponseOptions) Outcome {
	start := time.Now()
	var out Outcome
	fail := func(reason Reason, detail string) Outcome {
		out.Reason, out.Detail = reason, detail
		out.ELBStatus = reason.Status()
		t := time.Now()
		out.SentBytes = albresponse.WriteError(w, r, out.ELBStatus, pages)
		out.ResponseTime = time.Since(t)
		g.log.Warn("lambda target failed", "target_group", g.cfg.Name, "function", g.cfg.Function, "error_reason", string(reason), "detail", detail)
		return out
	}
	if g.cfg.Function == "" || g.cfg.Invoker == nil {
		out.ELBStatus = http.StatusServiceUnavailable
		out.SentBytes = albresponse.WriteError(w, r, out.ELBStatus, pages)
		return out
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxRequestBody+1))
	out.RequestTime = time.Since(start)
	if err != nil {
		out.ELBStatus = http.StatusBadRequest
		out.Detail = "reading the request body: " + err.Error()
		out.SentBytes = albresponse.WriteError(w, r, out.ELBStatus, pages)
		return out
	}
	if len(body) > MaxRequestBody {
		return fail(ReasonRequestTooLarge, "the request body is larger than 1 MB")
	}
	event, reason := BuildEvent(Request{Method: r.Method, RequestURI: r.RequestURI, Host: r.Host, Header: header, Body: body}, g.cfg.ARN, g.cfg.MultiValueHeaders)
	if reason != ReasonNone {
		return fail(reason, "the request's headers or body are not UTF-8")
	}
	out.RequestTime = time.Since(start)
	ctx, cancel := context.WithTimeout(r.Context(), g.cfg.Timeout+g.cfg.Grace)
	defer cancel()
	t := time.Now()
	res, err := g.cfg.Invoker.Invoke(ctx, g.cfg.Function, event, traceID)
	out.TargetTime = time.Since(t)
	out.Invoked = true
	if err != nil {
		if r.Context().Err() != nil {
			// The client went away first: ALB's 460, nothing is sent.
			out.ELBStatus = 460
			out.Detail = "the client closed the connection"
			return out
		}
		var ie *InvokeError
		if errors.As(err, &ie) {
			return fail(ie.Reason, ie.Err.Error())
		}
		if errors.Is(err, errFunctionTimeout) {
			return fail(ReasonUnhandled, err.Error()+" (timeout "+g.cfg.Timeout.String()+")")
		}
		return fail(ReasonServiceException, err.Error())
	}
	if res.FunctionError != "" {
		if responseTooLarge(res.Payload) {
			return fail(ReasonResponseTooLarge, "the function's response is larger than Lambda's 6 MB: "+snippet(res.Payload))
		}
		return fail(ReasonUnhandled, "the function failed ("+res.FunctionError+"): "+snippet(res.Payload))
	}
	resp, err := ParseResponse(res.Payload, g.cfg.MultiValueHeaders)
	if err != nil {
		return fail(ReasonInvalidResponse, err.Error())
	}
	out.FunctionStatus = resp.Status
	out.ELBStatus = resp.Status
	t = time.Now()
	h := w.Header()
	for k, vs := range resp.Header {
		h[k] = vs
	}
	if _, ok := h["Content-Type"]; !ok {
		h["Content-Type"] = nil // no sniffed Content-Type: ALB adds none
	}
	h.Set("Content-Length", strconv.Itoa(len(resp.Body)))
	w.WriteHeader(resp.Status)
	n, _ := w.Write(resp.Body)
	out.SentBytes = int64(n) + headerBytes(h, resp.Status)
	out.ResponseTime = time.Since(t)
	return out
}

// responseTooLarge recognises Lambda's error for a response over its own
// 6 MB limit (errorType Function.ResponseSizeTooLarge): over ALB's 1 MB
// as well, so LambdaResponseTooLarge [INF].
func responseTooLarge(payload []byte) bool {
	var doc struct {
		ErrorType string `json:"errorType"`
	}
	return json.Unmarshal(payload, &doc) == nil && doc.ErrorType == "Function.ResponseSizeTooLarge"
}

// headerBytes estimates the response head's HTTP/1.1 size for sent_bytes.
func headerBytes(h http.Header, code int) int64 {
	n := int64(len("HTTP/1.1 000 ") + len(http.StatusText(code)) + 2)
	for k, vs := range h {
		for _, v := range vs {
			n += int64(len(k) + 2 + len(v) + 2)
		}
	}
	return n + 2
}
