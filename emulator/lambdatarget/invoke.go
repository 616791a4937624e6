package lambdatarget

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"sync/atomic"
	"time"
)

// Result is what an invocation returned: the payload, and FunctionError
// ("Unhandled", "Handled") when the function failed.
type Result struct {
	Payload       []byte
	FunctionError string
}

// Invoker runs one synchronous invocation. A returned *InvokeError names
// the ALB reason; ctx carries the function timeout.
type Invoker interface {
	Invoke(ctx context.Context, function string, payload []byte, traceID string) (Result, error)
}

// InvokeError is an invocation that failed before the function answered,
// with the access-log reason ALB would write.
type InvokeError struct {
	Reason Reason
	Err    error
}

func (e *InvokeError) Error() string { return string(e.Reason) + ": " + e.Err.Error() }
func (e *InvokeError) Unwrap() error { return e.Err }

// DefaultConnectTimeout bounds the connection to an Invoke API endpoint
// (ALB's 10 s target connect timeout, alb-behaviour §8.1) [INF].
const DefaultConnectTimeout = 10 * time.Second

// InvokeClient calls the Lambda Invoke API
// (POST /2015-03-31/functions/NAME/invocations) at an endpoint: the
// Runtime Interface Emulator, sam local start-lambda, LocalStack. Requests
// are not SigV4-signed (docs/lambda.md).
type InvokeClient struct {
	endpoint *url.URL
	client   *http.Client
}

// NewInvokeClient returns a client for the Invoke API at endpoint (a base
// URL such as http://127.0.0.1:9000).
func NewInvokeClient(endpoint string) (*InvokeClient, error) {
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("lambda endpoint %q is not an http(s) base URL such as http://127.0.0.1:9000", endpoint)
	}
	d := &net.Dialer{Timeout: DefaultConnectTimeout}
	tr := &http.Transport{DialContext: d.DialContext, MaxIdleConnsPerHost: 16, IdleConnTimeout: 60 * time.Second}
	return &InvokeClient{endpoint: u, client: &http.Client{Transport: tr}}, nil
}

// Close drops idle connections to the endpoint.
func (c *InvokeClient) Close() { c.client.CloseIdleConnections() }

// Invoke posts payload as a RequestResponse invocation of function.
func (c *InvokeClient) Invoke(ctx context.Context, function string, payload []byte, traceID string) (Result, error) {
	u := c.endpoint.JoinPath("2015-03-31", "functions", function, "invocations")
	var connected atomic.Bool
	trace := &httptrace.ClientTrace{GotConn: func(httptrace.GotConnInfo) { connected.Store(true) }}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, trace), http.MethodPost, u.String(), bytes.NewReader(payload))
	if err != nil {
		return Result{}, &InvokeError{ReasonServiceException, err}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Amz-Invocation-Type", "RequestResponse")
	if traceID != "" {
		req.Header.Set("X-Amzn-Trace-Id", traceID)
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return Result{}, transportError(ctx, err, connected.Load())
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponseJSON+1))
	if err != nil {
		return Result{}, transportError(ctx, err, true)
	}
	if len(body) > MaxResponseJSON {
		return Result{}, &InvokeError{ReasonResponseTooLarge, fmt.Errorf("the function's response is larger than %d bytes", MaxResponseJSON)}
	}
	switch {
	case resp.StatusCode == http.StatusOK:
		if fe := resp.Header.Get("X-Amz-Function-Error"); fe != "" {
			return Result{Payload: body, FunctionError: fe}, nil
		}
		if functionErrorRIE(body) {
			// The Runtime Interface Emulator drops X-Amz-Function-Error
			// and answers a function error with 200 and Lambda's error
			// document; as a response it would lack statusCode (a 502
			// either way), so it is read as the function error it is.
			return Result{Payload: body, FunctionError: "Unhandled"}, nil
		}
		if timedOutRIE(body) {
			// The Runtime Interface Emulator answers a timeout with 200 and
			// this text, where Lambda sets X-Amz-Function-Error: Unhandled
			// ("Unhandled errors include ... function timeouts").
			return Result{Payload: body, FunctionError: "Unhandled"}, nil
		}
		return Result{Payload: body}, nil
	case resp.StatusCode == http.StatusNotFound:
		return Result{}, &InvokeError{ReasonResourceNotFound, fmt.Errorf("%s answered 404: no function %q there (%s)", c.endpoint.Host, function, snippet(body))}
	case resp.StatusCode == http.StatusTooManyRequests:
		return Result{}, &InvokeError{ReasonThrottling, fmt.Errorf("%s answered 429 (%s)", c.endpoint.Host, snippet(body))}
	case resp.StatusCode == http.StatusRequestEntityTooLarge:
		return Result{}, &InvokeError{ReasonRequestTooLarge, fmt.Errorf("%s answered 413 (%s)", c.endpoint.Host, snippet(body))}
	case resp.StatusCode == http.StatusBadGateway:
		// The Runtime Interface Emulator's answer when the runtime process
		// exited during the invocation; Lambda reports that as an
		// Unhandled function error (Runtime.ExitError).
		return Result{Payload: body, FunctionError: "Unhandled"}, nil
	default:
		return Result{}, &InvokeError{ReasonServiceException, fmt.Errorf("%s answered %s (%s)", c.endpoint.Host, resp.Status, snippet(body))}
	}
}

// functionErrorRIE recognises Lambda's error document
// ({"errorMessage", "errorType"}, no statusCode) in a 200 answer.
func functionErrorRIE(body []byte) bool {
	var doc map[string]json.RawMessage
	if json.Unmarshal(body, &doc) != nil {
		return false
	}
	_, msg := doc["errorMessage"]
	_, typ := doc["errorType"]
	_, status := doc["statusCode"]
	return msg && typ && !status
}

// timedOutRIE recognises the Runtime Interface Emulator's timeout answer.
func timedOutRIE(body []byte) bool {
	return bytes.HasPrefix(body, []byte("Task timed out after "))
}

// transportError classifies a failed exchange with the endpoint.
func transportError(ctx context.Context, err error, connected bool) error {
	var ne net.Error
	if !connected && (ctx.Err() != nil || (errors.As(err, &ne) && ne.Timeout())) {
		// The connection was never made (the dial timed out, or the
		// function timeout ended it first): the function never ran.
		return &InvokeError{ReasonConnectTimeout, fmt.Errorf("connecting to the Invoke API endpoint timed out: %w", err)}
	}
	if ctx.Err() != nil {
		return errFunctionTimeout
	}
	return &InvokeError{ReasonServiceException, fmt.Errorf("the Invoke API endpoint failed: %w (is it running?)", err)}
}

// errFunctionTimeout is an invocation still running at the function
// timeout: Lambda reports it as an Unhandled function error.
var errFunctionTimeout = errors.New("the function did not answer within its timeout")

func snippet(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}
