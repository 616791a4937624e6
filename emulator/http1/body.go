package http1

import (
	"errors"
	"io"
	"net/http"
	"net/http/httputil"
)

// bodyState says whether reading the body failed (the connection cannot
// serve another request then).
type bodyState struct{ failed bool }

// noBodyState is the state of every request without a body: nothing reads
// one, so nothing sets failed.
var noBodyState bodyState

// bodyReader is a request body: Content-Length bytes, or chunks decoded by
// httputil's strict chunked reader (an invalid chunk size is an error,
// and nothing after it is read as a request).
type bodyReader struct {
	c      *conn
	r      io.Reader
	done   bool
	err    error
	expect bool // "100-continue" still to send on the first read
	failed *bool
}

// errBodyRead marks a body whose framing failed.
var errBodyRead = errors.New("http1: invalid request body framing")

func (c *conn) body() (io.ReadCloser, *bodyState) {
	p := &c.p
	if !p.chunked && p.contentLength == 0 {
		return http.NoBody, &noBodyState
	}
	st := &bodyState{}
	b := &bodyReader{c: c, failed: &st.failed}
	if p.chunked {
		b.r = httputil.NewChunkedReader(c.br)
	} else {
		b.r = io.LimitReader(c.br, p.contentLength)
	}
	b.expect = p.minor >= 1 && hasToken(p.header["Expect"], "100-continue")
	return b, st
}

func (b *bodyReader) Read(p []byte) (int, error) {
	if b.done {
		return 0, io.EOF
	}
	if b.err != nil {
		return 0, b.err
	}
	if b.expect {
		b.expect = false
		if !b.c.w.wroteHeader {
			_, _ = b.c.bw.WriteString("HTTP/1.1 100 Continue\r\n\r\n")
			_ = b.c.bw.Flush()
		}
	}
	n, err := b.r.Read(p)
	switch {
	case err == io.EOF:
		if lr, ok := b.r.(*io.LimitedReader); ok && lr.N > 0 {
			// The client closed before the body's length.
			b.err = io.ErrUnexpectedEOF
			*b.failed = true
			return n, b.err
		}
		if _, chunked := b.r.(*io.LimitedReader); !chunked {
			// The trailer section through its empty line (dropped).
			if terr := b.c.skipTrailer(); terr != nil {
				b.err = errBodyRead
				*b.failed = true
				return n, b.err
			}
		}
		b.done = true
	case err != nil:
		b.err = err
		*b.failed = true
		if _, ok := b.r.(*io.LimitedReader); !ok {
			b.err = errBodyRead
		}
		return n, b.err
	}
	if b.done && n > 0 {
		return n, nil
	}
	return n, err
}

func (b *bodyReader) Close() error {
	if b.expect {
		// The body was never asked for: the connection cannot be reused
		// without reading it, so it closes.
		*b.failed = true
	}
	return nil
}

// skipTrailer reads a chunked body's trailer section through the empty
// line that ends it, bounded as a head is.
func (c *conn) skipTrailer() error {
	total := 0
	for {
		line, err := c.br.ReadSlice('\n')
		if err != nil {
			return err
		}
		total += len(line)
		if total > 64<<10 {
			return errBodyRead
		}
		if len(line) == 1 || (len(line) == 2 && line[0] == '\r') {
			return nil
		}
	}
}
