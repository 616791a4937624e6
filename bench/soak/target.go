package soak

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"time"
)

// startTarget runs an HTTP target on 127.0.0.1: 200 "ok" for every path;
// paths under /slow/ answer after a random pause of up to 200 ms, so that
// requests are in flight when the sigterm phase signals.
func startTarget() (addr string, stop func(), err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, fmt.Errorf("target: listening on 127.0.0.1: %w", err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/slow/") {
			time.Sleep(time.Duration(rand.IntN(200)) * time.Millisecond)
		}
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, "ok\n")
	}), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	return ln.Addr().String(), func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}, nil
}

// cutBodyLength is the Content-Length the dying target announces.
const cutBodyLength = 100_000

// startDyingTarget runs a raw HTTP/1.1 target that, for /cut-head, resets
// the connection before answering and, for /cut-body, sends the headers and
// 1,000 of the announced 100,000 body bytes and then resets; any other path
// gets 200 "ok". The reset is a real RST (SO_LINGER 0), as a crashed target
// process leaves.
func startDyingTarget() (addr string, stop func(), err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, fmt.Errorf("target: listening on 127.0.0.1: %w", err)
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go serveDying(c)
		}
	}()
	return ln.Addr().String(), func() { ln.Close() }, nil
}

func serveDying(c net.Conn) {
	defer c.Close()
	br := bufio.NewReader(c)
	for {
		_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
		req, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		_, _ = io.Copy(io.Discard, req.Body)
		reset := func() {
			if tc, ok := c.(*net.TCPConn); ok {
				_ = tc.SetLinger(0)
			}
		}
		switch req.URL.Path {
		case "/cut-head":
			reset()
			return
		case "/cut-body":
			fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: %d\r\n\r\n", cutBodyLength)
			_, _ = c.Write(make([]byte, 1000))
			time.Sleep(50 * time.Millisecond) // let the bytes leave before the reset
			reset()
			return
		}
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n\r\nok\n")
	}
}

// conn is one client connection with its reader, for kept-alive requests.
type conn struct {
	c  *tls.Conn
	br *bufio.Reader
}

// dial opens a verified mTLS connection (full handshake) to addr.
func dial(addr string, tc *tls.Config, timeout time.Duration) (*conn, error) {
	d := &net.Dialer{Timeout: timeout}
	c, err := tls.DialWithDialer(d, "tcp", addr, tc)
	if err != nil {
		return nil, err
	}
	return &conn{c: c, br: bufio.NewReader(c)}, nil
}

// get sends one GET on the connection and reads the whole response. A
// response whose body ends early returns its status, the bytes read and the
// error.
func (c *conn) get(path string, close bool, timeout time.Duration) (status int, n int64, err error) {
	_ = c.c.SetDeadline(time.Now().Add(timeout))
	hdr := ""
	if close {
		hdr = "Connection: close\r\n"
	}
	if _, err := fmt.Fprintf(c.c, "GET %s HTTP/1.1\r\nHost: soak.test\r\n%s\r\n", path, hdr); err != nil {
		return 0, 0, err
	}
	resp, err := http.ReadResponse(c.br, nil)
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	n, err = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, n, err
}

func (c *conn) Close() error { return c.c.Close() }

// request opens a connection, sends one request and closes.
func request(addr string, tc *tls.Config, path string) (status int, n int64, err error) {
	c, err := dial(addr, tc, 10*time.Second)
	if err != nil {
		return 0, 0, err
	}
	defer c.Close()
	return c.get(path, true, 10*time.Second)
}
