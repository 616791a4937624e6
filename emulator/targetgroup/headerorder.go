package targetgroup

import (
	"bufio"
	"net/http"
	"slices"
	"strings"

	"golang.org/x/net/http/httpguts"
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
}

// SetHeaderOrder asks Forward to write the request it is rewriting in
// order o. It is called from the rewrite function given to Forward, on
// pr.Out; outside a Forward it does nothing. Requests that go to
// http.Transport (a body, an HTTPS target, an upgrade) keep Go's order: it
// writes headers sorted and offers no hook.
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
	if req.URL == nil || host == "" || !httpguts.ValidHostHeader(host) || len(req.Trailer) > 0 ||
		len(req.TransferEncoding) > 0 || strings.ContainsAny(req.Method, " \r\n") {
		return false
	}
	method := req.Method
	if method == "" {
		method = http.MethodGet
	}
	ruri := req.URL.RequestURI()
	if strings.ContainsAny(ruri, " \r\n") {
		return false
	}
	w.WriteString(method)
	w.WriteByte(' ')
	w.WriteString(ruri)
	w.WriteString(" HTTP/1.1\r\n")

	// A name goes out once, at its first place in o (a list may repeat
	// it); the few dozen names of a request make a linear scan cheapest,
	// and the array keeps it off the heap.
	h := req.Header
	var buf [48]string
	wrote := buf[:0]
	for _, k := range o.Before {
		wrote = putOrdered(w, h, k, wrote)
	}
	w.WriteString("Host: ")
	w.WriteString(removeZone(host))
	w.WriteString("\r\n")
	for _, k := range o.After {
		wrote = putOrdered(w, h, k, wrote)
	}
	for _, k := range o.Client {
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
	if req.ContentLength == 0 {
		switch method {
		case http.MethodPost, http.MethodPut, http.MethodPatch:
			w.WriteString("Content-Length: 0\r\n")
		}
	}
	if req.Close && !httpguts.HeaderValuesContainsToken(h["Connection"], "close") {
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

// writeValue writes v as Header.Write does: CR and LF become spaces, and
// leading and trailing spaces and tabs go.
func writeValue(w *bufio.Writer, v string) {
	v = strings.Trim(v, " \t")
	if !strings.ContainsAny(v, "\r\n") {
		w.WriteString(v)
		return
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == '\r' || c == '\n' {
			c = ' '
		}
		w.WriteByte(c)
	}
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
