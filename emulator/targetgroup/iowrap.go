package targetgroup

import (
	"errors"
	"io"
	"net/http"
	"sync"
	"time"
)

// holdLimit is how many body bytes responseWriter keeps back before it
// commits a target's response to the client: what net/http's response
// writer buffers anyway before its first write to the socket
// (bufferBeforeChunkingSize), so holding delays nothing a client would
// otherwise have seen.
const holdLimit = 2 << 10

var holdPool = sync.Pool{New: func() any { b := make([]byte, 0, holdLimit); return &b }}

// responseWriter relays a target's response to the client and records what
// the client got: the status, when the headers went out (for
// response_processing_time), the bytes and the first write error (the
// client went away).
//
// It holds the status, the headers and up to holdLimit body bytes until
// the body ends, a flush is asked for (streamed and chunked responses,
// trailers, upgrades) or more arrives. A target that fails while all of its
// response is still held has sent the client nothing, so Forward can still
// answer with ALB's 502 or 504 page and log that (issue 19 item 7); once
// committed, every write is flushed, so bodyBytes counts what reached the
// client's connection, not what sat in a buffer when the response was cut.
type responseWriter struct {
	http.ResponseWriter
	status      int  // final status written by the proxy, 0 if none
	committed   bool // status and headers handed to the client's connection
	held        *[]byte
	headerAt    time.Time
	headerBytes int64
	bodyBytes   int64
	err         error
}

func (w *responseWriter) WriteHeader(code int) {
	if code >= 100 && code <= 199 && code != http.StatusSwitchingProtocols {
		w.ResponseWriter.WriteHeader(code) // informational: passed on at once
		return
	}
	if w.status != 0 {
		return
	}
	w.status = code
	if code == http.StatusSwitchingProtocols {
		w.commit() // the proxy hijacks the connection next
	}
}

func (w *responseWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	if !w.committed {
		if w.held == nil {
			w.held = holdPool.Get().(*[]byte)
		}
		if len(*w.held)+len(b) <= holdLimit {
			*w.held = append(*w.held, b...)
			return len(b), nil
		}
		w.commit()
		if w.err != nil {
			return 0, w.err
		}
	}
	n, err := w.ResponseWriter.Write(b)
	w.bodyBytes += int64(n)
	if err == nil {
		err = flush(w.ResponseWriter)
	}
	if err != nil && w.err == nil {
		w.err = err
	}
	return n, err
}

// commit hands the status, headers and held body bytes to the client's
// connection. Without a status (the proxy wrote nothing) it does nothing.
func (w *responseWriter) commit() {
	if w.committed || w.status == 0 {
		return
	}
	w.committed = true
	w.headerAt = time.Now()
	w.headerBytes = responseHeaderBytes(w.status, w.Header())
	w.ResponseWriter.WriteHeader(w.status)
	if w.held != nil {
		if len(*w.held) > 0 {
			n, err := w.ResponseWriter.Write(*w.held)
			w.bodyBytes += int64(n)
			if err != nil && w.err == nil {
				w.err = err
			}
		}
		w.drop()
	}
}

// discard forgets a response that was never committed: the held bytes and
// every header, so ALB's page can be written in its place.
func (w *responseWriter) discard() {
	w.drop()
	w.status = 0
	clear(w.Header())
}

func (w *responseWriter) drop() {
	if w.held != nil {
		*w.held = (*w.held)[:0]
		holdPool.Put(w.held)
		w.held = nil
	}
}

// FlushError commits and flushes; http.ResponseController finds it.
func (w *responseWriter) FlushError() error {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	w.commit()
	if w.err != nil {
		return w.err
	}
	if err := flush(w.ResponseWriter); err != nil {
		w.err = err
		return err
	}
	return nil
}

// flush flushes w if it can be flushed.
func flush(w http.ResponseWriter) error {
	if err := http.NewResponseController(w).Flush(); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return err
	}
	return nil
}

// Unwrap lets http.ResponseController reach Hijack and deadlines
// underneath.
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

// countingBody counts the request body bytes read from the client and
// remembers the error, other than EOF, that ended reading it: a failure
// the client caused, whatever the transport makes of it.
type countingBody struct {
	io.ReadCloser
	n   int64
	err error
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n += int64(n)
	if err != nil && err != io.EOF && b.err == nil { //nolint:errorlint // io.EOF is returned unwrapped
		b.err = err
	}
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
	n := headBytes(code)
	for k, vs := range h {
		for _, v := range vs {
			n += lineBytes(k, v)
		}
	}
	return int64(n)
}

// headBytes is a response head's size without its header lines: the
// status line, the Date line the client's server adds, the empty line.
func headBytes(code int) int {
	return len("HTTP/1.1 200 \r\n") + len(http.StatusText(code)) + len("Date: Mon, 02 Jan 2006 15:04:05 GMT\r\n") + 2
}

// lineBytes is the size of the header line "k: v\r\n".
func lineBytes(k, v string) int { return len(k) + 2 + len(v) + 2 }
