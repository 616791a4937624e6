package conformance

import (
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"time"
)

// EchoMarker is the JSON key by which the harness recognises its own echo
// target's answers (and so knows that a request reached it).
const EchoMarker = "albmtls_echo"

// echoReply is the echo target's answer: the request as the target saw it.
type echoReply struct {
	Marker  int         `json:"albmtls_echo"`
	Method  string      `json:"method"`
	Path    string      `json:"path"`
	Host    string      `json:"host"`
	Headers http.Header `json:"headers"`
}

// EchoHandler answers every request with the request line and headers it
// received as JSON, so that header expectations can be checked from the
// client side. It is the harness's target; behind a remote emulator or a
// real ALB, register `albmtls conformance --echo-listen ADDR`'s address.
func EchoHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, 1<<20))
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(echoReply{Marker: 1, Method: r.Method, Path: r.URL.RequestURI(), Host: r.Host, Headers: r.Header})
	})
}

// decodeEcho returns the echo reply in body, or nil when the body is not
// one (an ALB page, another target's answer).
func decodeEcho(body []byte) *echoReply {
	var e echoReply
	if json.Unmarshal(body, &e) != nil || e.Marker != 1 {
		return nil
	}
	if e.Headers == nil {
		e.Headers = http.Header{}
	}
	return &e
}

// servers are the harness's own targets: the echo target, a port where
// nothing listens (502) and a target that never answers (504).
type servers struct {
	echo      *http.Server
	echoAddr  string
	refused   string
	silent    net.Listener
	mu        sync.Mutex
	held      []net.Conn
	closeOnce sync.Once
	// lambda serves the harness's functions (lambda.go).
	lambda     *http.Server
	lambdaAddr string
}

// startServers starts the echo target on echoListen ("127.0.0.1:0" for a
// free port) and the silent target, and finds a refused port.
func startServers(echoListen string) (*servers, error) {
	s := &servers{}
	ln, err := net.Listen("tcp", echoListen)
	if err != nil {
		return nil, errors.New("starting the echo target on " + echoListen + ": " + err.Error() + " (choose another --echo-listen address)")
	}
	s.echoAddr = ln.Addr().String()
	s.echo = &http.Server{Handler: EchoHandler(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.echo.Serve(ln) }()

	refused, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		s.close()
		return nil, err
	}
	s.refused = refused.Addr().String()
	refused.Close() // nothing listens there any more: connections are refused

	if s.silent, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
		s.close()
		return nil, err
	}
	go s.holdSilent()
	if err := s.startLambda(); err != nil {
		s.close()
		return nil, err
	}
	return s, nil
}

// holdSilent accepts connections and never answers, until close.
func (s *servers) holdSilent() {
	for {
		c, err := s.silent.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		s.held = append(s.held, c)
		s.mu.Unlock()
		go func() { _, _ = io.Copy(io.Discard, c) }()
	}
}

func (s *servers) close() {
	s.closeOnce.Do(func() {
		if s.echo != nil {
			_ = s.echo.Close()
		}
		if s.silent != nil {
			_ = s.silent.Close()
		}
		if s.lambda != nil {
			_ = s.lambda.Close()
		}
		s.mu.Lock()
		for _, c := range s.held {
			_ = c.Close()
		}
		s.mu.Unlock()
	})
}
