package targetgroup

import (
	"bufio"
	"bytes"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"

	"golang.org/x/net/http/httpguts"

	"github.com/albmtls/albmtls/internal/headerline"
)

// HeaderOrder is the order in which the synchronous round-tripper writes a
// forwarded request's header lines: Before, then Host, then After, then
// Client, then every other header sorted by name (alb-behaviour §4.1).
// Names are canonical (http.CanonicalHeaderKey); a name missing from the
// request is skipped, and a name is written once, at its first place.
//
// ALB's order, observed in the EID capture: X-Forwarded-For, -Proto, -Port,
// the mTLS headers, Host, then the client's headers in the client's order.
// The zero value means Go's order: Host, User-Agent, then sorted, as
// net/http writes every request.
type HeaderOrder struct {
	Before []string
	After  []string
	// Client is the client's own header names in the order it sent them,
	// when the listener recorded it; nil writes them sorted.
	Client []string
	// Lines are header lines ("Name: value\r\n" each) written as they are
	// after Before's, ahead of Host; their names are not in the request's
	// header map. The synchronous head writer writes them (ForwardDirect's
	// and the synchronous round-tripper's), orderConn's reordering of
	// http.Transport's requests does not, so only ForwardDirect's callers
	// set them: routing, with the connection's ALB headers rendered once
	// per connection (albheader.ConnHeaders.ApplyLines).
	Lines []byte
}

// SetHeaderOrder asks Forward to write the request it is rewriting in
// order o. It is called from the rewrite function given to Forward, on
// pr.Out; outside a Forward it does nothing. The synchronous round-tripper
// writes the request in that order; requests that go to http.Transport (a
// body, an HTTPS target, an upgrade) get their header block reordered on
// the way out by orderConn.
func SetHeaderOrder(req *http.Request, o HeaderOrder) {
	if f, ok := req.Context().Value(forwardKey{}).(*forward); ok {
		f.order = o
		f.ordered = true
	}
}

// orderFor returns the order SetHeaderOrder set for req's Forward.
func orderFor(req *http.Request) (HeaderOrder, bool) {
	if f, ok := req.Context().Value(forwardKey{}).(*forward); ok && f.ordered {
		return f.order, true
	}
	return HeaderOrder{}, false
}

// writeOrdered writes req, a body-less plain-HTTP request that handles
// accepted, as Request.Write would, but with its header lines in order o.
// It keeps Request.Write's rules for what it writes: the Host from req.Host
// (else the URL's), no User-Agent line when the header is empty,
// Content-Length: 0 for a body-less POST, PUT or PATCH, Connection: close
// when req.Close, values with CR and LF turned to spaces and trimmed, lines
// with an invalid name dropped. It reports false, having written nothing,
// for a request it does not cover (then the caller uses req.Write).
func writeOrdered(w *bufio.Writer, req *http.Request, o HeaderOrder) bool {
	host := req.Host
	if host == "" && req.URL != nil {
		host = req.URL.Host
	}
	if req.URL == nil || len(req.Trailer) > 0 || len(req.TransferEncoding) > 0 {
		return false
	}
	return writeOrderedHead(w, req.Method, req.URL.RequestURI(), host, req.Header, req.ContentLength, req.Close, o)
}

// writeOrderedHead is writeOrdered for a request given by its parts: the
// method, the request target, the Host, the headers, the body's length
// and whether the connection closes after it.
func writeOrderedHead(w *bufio.Writer, method, ruri, host string, h http.Header, contentLength int64, closeAfter bool, o HeaderOrder) bool {
	if host == "" || !httpguts.ValidHostHeader(host) || strings.ContainsAny(method, " \r\n") || strings.ContainsAny(ruri, " \r\n") {
		return false
	}
	if method == "" {
		method = http.MethodGet
	}
	w.WriteString(method)
	w.WriteByte(' ')
	w.WriteString(ruri)
	w.WriteString(" HTTP/1.1\r\n")

	// A name goes out once, at its first place in o (a list may repeat
	// it); the few dozen names of a request make a linear scan cheapest,
	// and the array keeps it off the heap.
	var buf [48]string
	wrote := buf[:0]
	for _, k := range o.Before {
		wrote = putOrdered(w, h, k, wrote)
	}
	w.Write(o.Lines)
	w.WriteString("Host: ")
	w.WriteString(removeZone(host))
	w.WriteString("\r\n")
	for _, k := range o.After {
		wrote = putOrdered(w, h, k, wrote)
	}
	// A body-less POST, PUT or PATCH carries Content-Length: 0, as
	// Request.Write writes it: where the client had it, else last.
	needCL := false
	if contentLength == 0 {
		switch method {
		case http.MethodPost, http.MethodPut, http.MethodPatch:
			needCL = true
		}
	}
	for _, k := range o.Client {
		if k == "Content-Length" && needCL {
			w.WriteString("Content-Length: 0\r\n")
			needCL = false
		}
		wrote = putOrdered(w, h, k, wrote)
	}
	if n := countUnwritten(h, wrote); n > 0 {
		var rbuf [32]string
		rest := rbuf[:0]
		for k := range h {
			if !slices.Contains(wrote, k) {
				rest = append(rest, k)
			}
		}
		slices.Sort(rest)
		for _, k := range rest {
			writeHeader(w, h, k)
		}
	}
	if needCL {
		w.WriteString("Content-Length: 0\r\n")
	}
	if closeAfter && !httpguts.HeaderValuesContainsToken(h["Connection"], "close") {
		w.WriteString("Connection: close\r\n")
	}
	w.WriteString("\r\n")
	return true
}

// putOrdered writes header k unless it is in wrote, and returns wrote
// with k added.
func putOrdered(w *bufio.Writer, h http.Header, k string, wrote []string) []string {
	if slices.Contains(wrote, k) {
		return wrote
	}
	writeHeader(w, h, k)
	return append(wrote, k)
}

// countUnwritten is the number of h's names not in wrote.
func countUnwritten(h http.Header, wrote []string) int {
	n := 0
	for k := range h {
		if !slices.Contains(wrote, k) {
			n++
		}
	}
	return n
}

// writeHeader writes the lines of header k, as Header.Write would.
func writeHeader(w *bufio.Writer, h http.Header, k string) {
	if skipOrdered(k) {
		return
	}
	vs, ok := h[k]
	if !ok || !httpguts.ValidHeaderFieldName(k) {
		return
	}
	if k == "User-Agent" && len(vs) > 0 && vs[0] == "" {
		return // ReverseProxy's way of saying "no User-Agent"
	}
	for _, v := range vs {
		w.WriteString(k)
		w.WriteString(": ")
		writeValue(w, v)
		w.WriteString("\r\n")
	}
}

// skipOrdered reports the headers Request.Write writes from other fields or
// never: Host, Content-Length, Transfer-Encoding, Trailer.
func skipOrdered(k string) bool {
	switch k {
	case "Host", "Content-Length", "Transfer-Encoding", "Trailer":
		return true
	}
	return false
}

// writeValue writes v as Header.Write does (headerline.AppendValue).
func writeValue(w *bufio.Writer, v string) {
	w.Write(headerline.AppendValue(w.AvailableBuffer(), v))
}

// removeZone drops an IPv6 zone from a Host ("[fe80::1%en0]:8080"), as
// Request.Write does.
func removeZone(host string) string {
	if !strings.HasPrefix(host, "[") {
		return host
	}
	i := strings.LastIndex(host, "]")
	if i < 0 {
		return host
	}
	j := strings.LastIndex(host[:i], "%")
	if j < 0 {
		return host
	}
	return host[:j] + host[i:]
}

// orderConn is a target connection of the fallback http.Transport, which
// writes every request's headers sorted and has no hook to order them. It
// rewrites the header block of the next request written on it into the
// order arm was given (from Forward's GotConn trace, which http.Transport
// calls before it writes the request), then passes bytes through until
// armed again: bodies, and the bytes of an upgraded connection, are never
// touched. Unarmed (emulation.forwarded_header_order: sorted) it is a plain
// pass-through.
type orderConn struct {
	net.Conn
	mu    sync.Mutex
	order HeaderOrder
	armed bool
	buf   []byte // the header block so far
}

// maxOrderBlock bounds the header block orderConn holds back; a larger one
// (never sent by a proxy that caps client headers at 64 KiB) goes out as
// it is.
const maxOrderBlock = 1 << 20

func (c *orderConn) arm(o HeaderOrder) {
	c.mu.Lock()
	c.order, c.armed, c.buf = o, true, c.buf[:0]
	c.mu.Unlock()
}

func (c *orderConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.armed {
		return c.Conn.Write(p)
	}
	c.buf = append(c.buf, p...)
	end := bytes.Index(c.buf, []byte("\r\n\r\n"))
	if end < 0 {
		if len(c.buf) <= maxOrderBlock {
			return len(p), nil // held back until the block is complete
		}
		c.armed = false
		_, err := c.Conn.Write(c.buf)
		return len(p), err
	}
	c.armed = false
	out := reorderBlock(c.buf[:end+2], c.order)
	out = append(out, c.buf[end+4:]...) // reorderBlock wrote the empty line
	_, err := c.Conn.Write(out)
	return len(p), err
}

// reorderBlock returns block (a request line and header lines, each ending
// in CRLF) with the header lines in order o: Before, Host, After, Client,
// then the others as they were. Lines of one name stay together, in their
// order.
func reorderBlock(block []byte, o HeaderOrder) []byte {
	lines := bytes.SplitAfter(block, []byte("\r\n"))
	if len(lines) > 0 && len(lines[len(lines)-1]) == 0 {
		lines = lines[:len(lines)-1]
	}
	out := make([]byte, 0, len(block)+2)
	if len(lines) == 0 {
		return append(out, block...)
	}
	out = append(out, lines[0]...)
	used := make([]bool, len(lines))
	take := func(name string) {
		for i := 1; i < len(lines); i++ {
			if !used[i] && lineIs(lines[i], name) {
				used[i] = true
				out = append(out, lines[i]...)
			}
		}
	}
	for _, k := range o.Before {
		take(k)
	}
	take("Host")
	for _, k := range o.After {
		take(k)
	}
	for _, k := range o.Client {
		take(k)
	}
	for i := 1; i < len(lines); i++ {
		if !used[i] {
			out = append(out, lines[i]...)
		}
	}
	return append(out, "\r\n"...)
}

// lineIs reports whether a header line is of header name (any case).
func lineIs(line []byte, name string) bool {
	return len(line) > len(name) && line[len(name)] == ':' && strings.EqualFold(string(line[:len(name)]), name)
}
