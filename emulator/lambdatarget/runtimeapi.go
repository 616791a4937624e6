package lambdatarget

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// RuntimeHost serves the Lambda Runtime API
// (https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html) for one
// function, so that a handler process started with
// AWS_LAMBDA_RUNTIME_API=HOST:PORT (aws-lambda-go's lambda.Start, or any
// runtime interface client) receives the load balancer's events directly:
// it polls /runtime/invocation/next and posts /response or /error.
//
// It does not start or stop the handler: a handler still running at the
// function timeout is not killed (Lambda would end its environment), so it
// takes the next event only when it polls again.
type RuntimeHost struct {
	addr        string
	functionARN string

	queue chan *invocation
	mu    sync.Mutex
	open  map[string]*invocation // handed to the runtime, not yet answered
	// expired are invocations that timed out while the runtime had them:
	// their late answer is accepted and dropped, so that the handler
	// (aws-lambda-go exits on a refused post) goes on to the next event.
	expired map[string]bool
	ln      net.Listener
	srv     *http.Server
	done    chan struct{}
}

type invocation struct {
	id       string
	payload  []byte
	deadline time.Time
	traceID  string
	result   chan hostResult // buffered 1; written once
	once     sync.Once
}

type hostResult struct {
	res Result
	err error
}

// maxExpired bounds the remembered timed-out request IDs.
const maxExpired = 1024

func (inv *invocation) finish(r hostResult) { inv.once.Do(func() { inv.result <- r }) }

// NewRuntimeHost returns a host for functionARN that will listen on addr
// (host:port; port 0 picks one) when started.
func NewRuntimeHost(addr, functionARN string) *RuntimeHost {
	return &RuntimeHost{
		addr:        addr,
		functionARN: functionARN,
		queue:       make(chan *invocation),
		open:        map[string]*invocation{},
		expired:     map[string]bool{},
		done:        make(chan struct{}),
	}
}

// Start binds the address and serves the Runtime API until Close.
func (h *RuntimeHost) Start() error {
	ln, err := net.Listen("tcp", h.addr)
	if err != nil {
		return fmt.Errorf("the Lambda Runtime API cannot listen on %s: %w (set lambda.runtime_api to a free address)", h.addr, err)
	}
	h.ln = ln
	mux := http.NewServeMux()
	mux.HandleFunc("GET /2018-06-01/runtime/invocation/next", h.next)
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/response", h.response)
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/error", h.invocationError)
	mux.HandleFunc("POST /2018-06-01/runtime/init/error", h.initError)
	h.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = h.srv.Serve(ln) }()
	return nil
}

// Addr is the bound address (for AWS_LAMBDA_RUNTIME_API), or the
// configured one before Start.
func (h *RuntimeHost) Addr() string {
	if h.ln != nil {
		return h.ln.Addr().String()
	}
	return h.addr
}

// Close stops serving; pending invocations fail.
func (h *RuntimeHost) Close() {
	select {
	case <-h.done:
		return
	default:
	}
	close(h.done)
	if h.srv != nil {
		_ = h.srv.Close()
	}
}

// Invoke hands payload to the next runtime that polls and waits for its
// answer until ctx ends (the function timeout).
func (h *RuntimeHost) Invoke(ctx context.Context, _ string, payload []byte, traceID string) (Result, error) {
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(15 * time.Minute)
	}
	inv := &invocation{id: newRequestID(), payload: payload, deadline: deadline, traceID: traceID, result: make(chan hostResult, 1)}
	h.mu.Lock()
	h.open[inv.id] = inv
	h.mu.Unlock()
	defer func() {
		h.mu.Lock()
		if h.open[inv.id] != nil {
			delete(h.open, inv.id)
			if len(h.expired) >= maxExpired {
				clear(h.expired)
			}
			h.expired[inv.id] = true
		}
		h.mu.Unlock()
	}()
	select {
	case h.queue <- inv:
	case <-ctx.Done():
		return Result{}, fmt.Errorf("no handler process polled the Runtime API at %s within the function timeout (start it with AWS_LAMBDA_RUNTIME_API=%s): %w", h.Addr(), h.Addr(), errFunctionTimeout)
	case <-h.done:
		return Result{}, &InvokeError{ReasonServiceException, errors.New("the Runtime API host is shut down")}
	}
	select {
	case r := <-inv.result:
		return r.res, r.err
	case <-ctx.Done():
		return Result{}, errFunctionTimeout
	case <-h.done:
		return Result{}, &InvokeError{ReasonServiceException, errors.New("the Runtime API host is shut down")}
	}
}

// next is GET /runtime/invocation/next: the long poll for an event.
func (h *RuntimeHost) next(w http.ResponseWriter, r *http.Request) {
	select {
	case inv := <-h.queue:
		hd := w.Header()
		hd.Set("Content-Type", "application/json")
		hd.Set("Lambda-Runtime-Aws-Request-Id", inv.id)
		hd.Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(inv.deadline.UnixMilli(), 10))
		hd.Set("Lambda-Runtime-Invoked-Function-Arn", h.functionARN)
		if inv.traceID != "" {
			hd.Set("Lambda-Runtime-Trace-Id", inv.traceID)
		}
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(inv.payload)
	case <-r.Context().Done():
	case <-h.done:
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
	}
}

// take returns the open invocation the path names, or answers 400 as the
// Runtime API does for an unknown (or timed-out) request ID.
func (h *RuntimeHost) take(w http.ResponseWriter, r *http.Request) *invocation {
	id := r.PathValue("id")
	h.mu.Lock()
	inv := h.open[id]
	delete(h.open, id)
	late := h.expired[id]
	delete(h.expired, id)
	h.mu.Unlock()
	if late {
		_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, 64<<20))
		writeJSON(w, http.StatusAccepted, map[string]string{"status": "OK"})
		return nil
	}
	if inv == nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"errorType": "InvalidRequestID", "errorMessage": "no open invocation " + id + " (it timed out or was answered already)"})
	}
	return inv
}

// response is POST /runtime/invocation/ID/response.
func (h *RuntimeHost) response(w http.ResponseWriter, r *http.Request) {
	inv := h.take(w, r)
	if inv == nil {
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxResponseJSON+1))
	switch {
	case err != nil:
		inv.finish(hostResult{err: &InvokeError{ReasonServiceException, fmt.Errorf("reading the runtime's response: %w", err)}})
	case len(body) > MaxResponseJSON:
		_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, 64<<20))
		inv.finish(hostResult{err: &InvokeError{ReasonResponseTooLarge, fmt.Errorf("the function's response is larger than %d bytes", MaxResponseJSON)}})
	default:
		inv.finish(hostResult{res: Result{Payload: body}})
	}
	writeJSON(w, http.StatusAccepted, map[string]string{"status": "OK"})
}

// invocationError is POST /runtime/invocation/ID/error: the function
// failed (aws-lambda-go posts returned errors and panics here).
func (h *RuntimeHost) invocationError(w http.ResponseWriter, r *http.Request) {
	inv := h.take(w, r)
	if inv == nil {
		return
	}
	body, _ := io.ReadAll(io.LimitReader(r.Body, MaxResponseJSON))
	// Lambda reports an error the runtime posts as an Unhandled function
	// error (whatever its Lambda-Runtime-Function-Error-Type).
	inv.finish(hostResult{res: Result{Payload: body, FunctionError: "Unhandled"}})
	writeJSON(w, http.StatusAccepted, map[string]string{"status": "OK"})
}

// initError is POST /runtime/init/error: the runtime failed to start.
// Nothing is pending for it; the invocations time out as on Lambda, where
// they fail as Unhandled.
func (h *RuntimeHost) initError(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, MaxResponseJSON))
	writeJSON(w, http.StatusAccepted, map[string]string{"status": "OK"})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// newRequestID returns a UUID-shaped request ID, as Lambda's.
func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	s := hex.EncodeToString(b[:])
	return s[:8] + "-" + s[8:12] + "-" + s[12:16] + "-" + s[16:20] + "-" + s[20:]
}
