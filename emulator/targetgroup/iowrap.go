package targetgroup

import (
	"io"
	"net/http"
	"time"
)

// responseWriter records what Forward sent to the client: the status, when
// the headers went out (for response_processing_time), the bytes and the
// first write error (the client went away).
type responseWriter struct {
	http.ResponseWriter
	status      int
	headerAt    time.Time
	headerBytes int64
	bodyBytes   int64
	err         error
}

func (w *responseWriter) WriteHeader(code int) {
	if w.status == 0 && (code < 100 || code > 199 || code == http.StatusSwitchingProtocols) {
		w.status = code
		w.headerAt = time.Now()
		w.headerBytes = responseHeaderBytes(code, w.Header())
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *responseWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	n, err := w.ResponseWriter.Write(b)
	w.bodyBytes += int64(n)
	if err != nil && w.err == nil {
		w.err = err
	}
	return n, err
}

// Unwrap lets http.ResponseController reach Flush and Hijack underneath.
func (w *responseWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *responseWriter) sent() int64 { return w.headerBytes + w.bodyBytes }

// targetBody remembers the error that ended reading a target's body.
type targetBody struct {
	io.ReadCloser
	err error
}

func (b *targetBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && b.err == nil {
		b.err = err
	}
	return n, err
}

// countingBody counts the request body bytes read from the client.
type countingBody struct {
	io.ReadCloser
	n int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n += int64(n)
	return n, err
}

// requestHeaderBytes estimates the request line and headers as HTTP/1.1
// wire bytes, for received_bytes.
func requestHeaderBytes(r *http.Request) int64 {
	n := len(r.Method) + 1 + len(r.RequestURI) + 1 + len(r.Proto) + 2 + 2
	if r.Host != "" {
		n += len("Host: ") + len(r.Host) + 2
	}
	for k, vs := range r.Header {
		for _, v := range vs {
			n += len(k) + 2 + len(v) + 2
		}
	}
	return int64(n)
}

// responseHeaderBytes estimates a response's status line and headers as
// HTTP/1.1 wire bytes (plus the Date net/http adds), for sent_bytes.
func responseHeaderBytes(code int, h http.Header) int64 {
	n := len("HTTP/1.1 200 \r\n") + len(http.StatusText(code)) + len("Date: Mon, 02 Jan 2006 15:04:05 GMT\r\n") + 2
	for k, vs := range h {
		for _, v := range vs {
			n += len(k) + 2 + len(v) + 2
		}
	}
	return int64(n)
}
