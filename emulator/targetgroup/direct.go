package targetgroup

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httputil"
	"net/netip"
	"net/textproto"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/net/http/httpguts"

	"github.com/albmtls/albmtls/emulator/albresponse"
	"github.com/albmtls/albmtls/internal/headerline"
)

// The direct forward: the common request (plain-HTTP target, no body, no
// upgrade) relayed without httputil.ReverseProxy, http.Request clones or
// http.ReadResponse, over the synchronous transport's pooled connections.
// It is what emulator/http1's front end uses (routing.Config.DirectForward;
// docs/http1-front-end.md): the request's own header map is rewritten in
// place, the request head is written straight into the target connection's
// buffer, and the response head is parsed from the connection's reader into
// the client's header map. What goes on the wire, to the target and to the
// client, is what Forward sends; the tests in direct_test.go run both on
// the same exchanges and compare.

// DirectRequest is how ForwardDirect writes the request to the target.
type DirectRequest struct {
	// Host is the Host header for the target (TargetHost).
	Host string
	// Close closes the target connection after the response.
	Close bool
	// Order is the header order (SetHeaderOrder's); Ordered false writes
	// Go's order (Host, User-Agent, the rest sorted by name).
	Order   HeaderOrder
	Ordered bool
}

// CanForwardDirect reports whether ForwardDirect can relay r: a plain-HTTP
// target group, a request without a body, not CONNECT, no upgrade, and a
// query that ReverseProxy would pass unchanged (no ';', no bad escape, at
// most its parameter limit). Anything else goes to Forward.
func (g *Group) CanForwardDirect(r *http.Request) bool {
	if g.cfg.Protocol == "HTTPS" || r.Method == http.MethodConnect || r.ContentLength != 0 ||
		len(r.TransferEncoding) > 0 || r.URL == nil || r.URL.Opaque != "" || r.URL.Host != "" {
		return false
	}
	if _, ok := r.Header["Upgrade"]; ok {
		return false
	}
	return cleanQuery(r.URL.RawQuery)
}

// cleanQuery reports whether ReverseProxy's cleanQueryParams would keep q
// as it is.
func cleanQuery(q string) bool {
	if strings.Count(q, "&")+1 > 10000 { // net/url's default urlmaxqueryparams
		return false
	}
	for i := 0; i < len(q); {
		switch q[i] {
		case ';':
			return false
		case '%':
			if i+2 >= len(q) || !isHex(q[i+1]) || !isHex(q[i+2]) {
				return false
			}
			i += 3
		default:
			i++
		}
	}
	return true
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// hopHeaders are the headers ReverseProxy removes from both the forwarded
// request and the relayed response, besides those the Connection header
// names.
var hopHeaders = []string{"Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate",
	"Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade"}

// removeHopByHop removes hop-by-hop headers as ReverseProxy does.
func removeHopByHop(h http.Header) {
	for _, f := range h["Connection"] {
		for sf := range strings.SplitSeq(f, ",") {
			if sf = textproto.TrimString(sf); sf != "" {
				h.Del(sf)
			}
		}
	}
	for _, f := range hopHeaders {
		delete(h, f)
	}
}

// prepareDirect turns the client's header map into the forwarded request's,
// in place, as ReverseProxy does before its Rewrite: hop-by-hop headers go
// ("Te: trailers" is kept), and so do Forwarded, X-Forwarded-Host and
// X-Forwarded-Proto. The client's X-Forwarded-For stays (routing puts it
// back on Forward's path too), for ALB's header rules to decide.
func prepareDirect(h http.Header) {
	xff, hasXFF := h["X-Forwarded-For"]
	trailers := httpguts.HeaderValuesContainsToken(h["Te"], "trailers")
	removeHopByHop(h)
	if trailers {
		h["Te"] = []string{"trailers"}
	}
	delete(h, "Forwarded")
	delete(h, "X-Forwarded-Host")
	delete(h, "X-Forwarded-Proto")
	if hasXFF {
		h["X-Forwarded-For"] = xff
	}
}

// ForwardDirect is Forward for a request CanForwardDirect accepts. It
// rewrites r.Header in place into the forwarded request's headers (the
// caller's r is the front end's own and is not read again for them), calls
// prepare with it once the target is chosen, to add ALB's headers and say
// how the request is written, and relays the response to w with Forward's
// outcome, pages and timings.
func (g *Group) ForwardDirect(w http.ResponseWriter, r *http.Request, prepare func(h http.Header) DirectRequest) (out Outcome) {
	start := time.Now()
	out = Outcome{RequestTime: -1, TargetTime: -1, ResponseTime: -1}
	out.ReceivedBytes = requestHeaderBytes(r)
	t := g.pick()
	if t == nil {
		out.ELBStatus, out.Failure = http.StatusServiceUnavailable, FailureNoTargets
		out.SentBytes = albresponse.WriteError(w, r, http.StatusServiceUnavailable, g.cfg.Response)
		out.ErrorReason = g.errorReason(out.Failure)
		return out
	}
	prepareDirect(r.Header)
	dr := prepare(r.Header)
	d := direct{g: g, t: t, w: w, r: r, dr: dr, out: out, start: start}
	d.run()
	d.out.ErrorReason = g.errorReason(d.out.Failure)
	return d.out
}

// direct is the state of one ForwardDirect.
type direct struct {
	g     *Group
	t     *target
	w     http.ResponseWriter
	r     *http.Request
	dr    DirectRequest
	out   Outcome
	start time.Time

	c         *syncConn
	stop      func() bool
	remote    netip.AddrPort
	wrote     time.Time // request head flushed to the target
	firstByte time.Time
	headerAt  time.Time // response head handed to the client's writer
	head      *respHead // the connection's, reused
}

func (d *direct) attempt() {
	a := Attempt{Target: d.remote, Registered: d.t.addr, Status: d.out.TargetStatus}
	if !a.Target.IsValid() {
		a.Target, _ = netip.ParseAddrPort(d.t.addr)
	}
	d.out.Attempts = []Attempt{a}
}

// fail answers a failure before any of the target's response reached the
// client: ALB's page (none for 460).
func (d *direct) fail(err error) {
	code, failure := classify(d.r.Context(), err)
	d.out.ELBStatus, d.out.Failure = code, failure
	var de *dialError
	if errors.As(err, &de) && de.addr.IsValid() && !d.remote.IsValid() {
		d.remote = de.addr
	}
	d.attempt()
	if code != StatusClientClosed {
		clear(d.w.Header())
		d.out.SentBytes = albresponse.WriteError(d.w, d.r, code, d.g.cfg.Response)
	}
}

func (d *direct) run() {
	ctx := d.r.Context()
	tr := d.g.transport
	c, err := tr.get(ctx, d.t.addr, nil)
	if err != nil {
		d.fail(err)
		return
	}
	retry, err := d.exchange(ctx, c)
	if retry {
		if c, err = tr.dialConn(ctx, d.t.addr, nil); err != nil {
			d.fail(err)
			return
		}
		_, err = d.exchange(ctx, c)
	}
	if err != nil {
		d.fail(err)
		return
	}
	d.relay()
}

// exchange writes the request on c and reads the final response head into
// d.head, relaying 1xx heads to the client. On failure c is closed; retry
// says a new connection may be tried (as syncTransport.exchange).
func (d *direct) exchange(ctx context.Context, c *syncConn) (retry bool, _ error) {
	d.c = c
	d.remote = remoteAddr(c.conn)
	if c.head == nil {
		c.head = new(respHead)
	}
	d.head = c.head
	switch w := watchOf(ctx); {
	case w != nil:
		d.stop = w.hold(c) // the client connection's, set up once
	case ctx.Done() != nil:
		d.stop = context.AfterFunc(ctx, func() { c.conn.Close() })
	default:
		d.stop = alwaysStopped
	}
	failed := func(err error, stale bool) (bool, error) {
		d.stop()
		c.close()
		if ctx.Err() != nil {
			return false, ctx.Err()
		}
		return stale && c.reused && replayable(d.r) && !isTimeout(err), err
	}
	r := d.r
	if d.dr.Ordered {
		if !writeOrderedHead(c.bw, r.Method, r.URL.RequestURI(), d.dr.Host, r.Header, 0, d.dr.Close, d.dr.Order) {
			return failed(errors.New("the request cannot be written to the target"), false)
		}
	} else {
		// Go's order, written by Request.Write as on Forward's path; an
		// empty User-Agent keeps Go's own out, as ReverseProxy does.
		if _, ok := r.Header["User-Agent"]; !ok {
			r.Header["User-Agent"] = []string{""}
		}
		out := &http.Request{Method: r.Method, URL: r.URL, Host: d.dr.Host, Header: r.Header, Close: d.dr.Close,
			Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1}
		if err := out.Write(c.bw); err != nil {
			return failed(err, false)
		}
	}
	if err := c.bw.Flush(); err != nil {
		return failed(err, true)
	}
	d.wrote = time.Now()
	c.limit = maxResponseHeaderBytes
	if _, err := c.br.Peek(1); err != nil {
		return failed(err, true)
	}
	d.firstByte = time.Now()
	for {
		if err := d.head.read(c.br); err != nil {
			return failed(err, false)
		}
		switch {
		case d.head.status == http.StatusSwitchingProtocols:
			return failed(errors.New("target switched protocols without an upgrade request"), false)
		case d.head.status >= 200:
			c.limit = math.MaxInt64
			return false, nil
		}
		// 1xx: to the client at once, as ReverseProxy's Got1xxResponse.
		h := d.w.Header()
		d.head.fill(h)
		d.w.WriteHeader(d.head.status)
		clear(h)
		c.limit = maxResponseHeaderBytes
	}
}

func alwaysStopped() bool { return true }

// relay sends the response whose head is in d.head to the client. As on
// Forward's path, up to holdLimit bytes of a body of known length are
// held back before the head goes to the client, so a target that fails
// within them still gets ALB's page; a chunked or unframed body goes out
// read by read.
func (d *direct) relay() {
	h := d.head
	out := &d.out
	out.TargetStatus = h.status
	noBody := d.r.Method == http.MethodHead || h.status == http.StatusNoContent || h.status == http.StatusNotModified
	var body io.Reader
	var cb *chunkedBody
	switch {
	case noBody || h.contentLength == 0:
		body = nil
	case h.chunked:
		cb = &chunkedBody{r: httputil.NewChunkedReader(d.c.br), br: d.c.br}
		body = cb
	case h.contentLength > 0:
		d.c.body = io.LimitedReader{R: d.c.br, N: h.contentLength} // the connection's, reused
		body = &d.c.body
	default:
		body = d.c.br // to the end of the connection
	}
	// A body without a length ends with the connection.
	reuse := !h.close && !d.dr.Close && (h.chunked || h.contentLength >= 0 || body == nil)

	bufp := copyBuffers.Get().(*[]byte)
	defer copyBuffers.Put(bufp)
	buf := *bufp
	held := 0
	committed := false
	var bodyBytes, headerBytes int64
	var werr error
	commit := func() {
		committed = true
		fw, byFields := d.w.(fieldsWriter)
		if byFields = byFields && !h.hasTrailer; byFields {
			// The head as lines, without the header map (http1's writer).
			fields := h.relayed()
			headerBytes = fieldsHeaderBytes(h.status, fields)
			d.headerAt = time.Now()
			byFields = fw.WriteHeaderFields(h.status, fields)
		}
		if !byFields {
			wh := d.w.Header()
			h.fill(wh)
			if t := h.declaredTrailers(); len(t) > 0 {
				wh["Trailer"] = []string{strings.Join(t, ", ")} // announced again, as ReverseProxy does
			}
			headerBytes = responseHeaderBytes(h.status, wh)
			d.headerAt = time.Now()
			d.w.WriteHeader(h.status)
		}
		if held > 0 {
			n, err := d.w.Write(buf[:held])
			bodyBytes += int64(n)
			werr = err
			held = 0
		}
	}
	// A body of unknown length, or server-sent events, goes out read by
	// read, as ReverseProxy flushes them (its flushInterval -1).
	stream := h.contentLength < 0 || h.eventStream
	if stream && body != nil {
		// As ReverseProxy flushes a streamed response's head before its
		// first body byte, so a client sees it while the target is silent.
		commit()
		werr = flushWriter(d.w)
	}
	var rerr error
	for body != nil && werr == nil {
		var n int
		n, rerr = body.Read(buf[held:])
		if !committed {
			held += n
			if held > holdLimit || (stream && held > 0) {
				commit()
			}
		} else if n > 0 {
			m, err := d.w.Write(buf[:n])
			bodyBytes += int64(m)
			werr = err
		}
		if rerr != nil {
			break
		}
		if lr, ok := body.(*io.LimitedReader); ok && lr.N == 0 {
			continue // the next read ends the body without waiting
		}
		if committed && werr == nil && d.c.br.Buffered() == 0 {
			// The next read may wait for the target: what came so far goes
			// to the client first, as Forward flushes every write.
			werr = flushWriter(d.w)
		}
	}
	if errors.Is(rerr, io.EOF) || (rerr == nil && body == nil) {
		rerr = nil
		if lr, ok := body.(*io.LimitedReader); ok && lr.N > 0 {
			rerr = io.ErrUnexpectedEOF // the target closed before its Content-Length
		}
	}
	d.attempt()
	switch {
	case rerr != nil && !committed:
		// The target failed before any of its response reached the client.
		d.stop()
		d.c.close()
		code, failure := http.StatusBadGateway, FailureTargetResponseError
		if d.r.Context().Err() != nil {
			code, failure = StatusClientClosed, FailureClientClosed
		} else if isTimeout(rerr) {
			code, failure = http.StatusGatewayTimeout, FailureTargetTimeout
		}
		out.ELBStatus, out.Failure = code, failure
		if code != StatusClientClosed {
			clear(d.w.Header())
			out.SentBytes = albresponse.WriteError(d.w, d.r, code, d.g.cfg.Response)
		}
	case rerr != nil:
		// Cut short mid-body after part of it went out.
		d.stop()
		d.c.close()
		out.ELBStatus, out.Aborted = h.status, true
		out.Failure = FailureTargetResponseError
		if isTimeout(rerr) {
			out.Failure = FailureTargetTimeout
		}
		out.SentBytes = headerBytes + bodyBytes
	case werr != nil:
		d.stop()
		d.c.close()
		out.ELBStatus, out.Failure = StatusClientClosed, FailureClientClosed
		out.SentBytes = headerBytes + bodyBytes
	default:
		declared := h.declaredTrailers()
		if !committed {
			commit()
		}
		if cb != nil && (len(declared) > 0 || len(cb.trailers) > 0) {
			// ReverseProxy's way: flush to force chunking, then the
			// trailers, under their names when they are the ones declared,
			// else under http.TrailerPrefix.
			werr = flushWriter(d.w)
			setTrailers(d.w.Header(), declared, cb.trailers)
		}
		d.g.transport.release(d.c, d.stop, reuse && werr == nil)
		out.ELBStatus = h.status
		out.SentBytes = headerBytes + bodyBytes
		if werr != nil {
			out.ELBStatus, out.Failure = StatusClientClosed, FailureClientClosed
		}
	}
	{ // a head came: the times are known, as on Forward's path
		out.RequestTime = d.wrote.Sub(d.start)
		out.TargetTime = d.firstByte.Sub(d.wrote)
		if !d.headerAt.IsZero() {
			out.ResponseTime = d.headerAt.Sub(d.firstByte)
		}
	}
}

// flushWriter flushes w if it can be flushed.
func flushWriter(w http.ResponseWriter) error {
	switch f := w.(type) {
	case interface{ FlushError() error }:
		return f.FlushError()
	case http.Flusher:
		f.Flush()
		return nil
	}
	return flush(w)
}

// chunkedBody reads a chunked body and then its trailer section.
type chunkedBody struct {
	r        io.Reader
	br       *bufio.Reader
	done     bool
	trailers []respLine
}

func (b *chunkedBody) Read(p []byte) (int, error) {
	if b.done {
		return 0, io.EOF
	}
	n, err := b.r.Read(p)
	if err == io.EOF { //nolint:errorlint // the chunked reader returns io.EOF unwrapped
		// The trailer section: header lines up to an empty line.
		for {
			line, rerr := b.br.ReadSlice('\n')
			if rerr != nil {
				return n, fmt.Errorf("reading the target's trailer section: %w", rerr)
			}
			l := bytes.TrimRight(line, "\r\n")
			if len(l) == 0 {
				break
			}
			name, value, ok := bytes.Cut(l, []byte(":"))
			if !ok || !httpguts.ValidHeaderFieldName(string(name)) {
				return n, fmt.Errorf("malformed trailer line %q", l)
			}
			b.trailers = append(b.trailers, respLine{textproto.CanonicalMIMEHeaderKey(string(name)), string(bytes.Trim(value, " \t"))})
		}
		b.done = true
	}
	return n, err
}

// fieldsWriter is a client response writer that takes a response head as
// header lines, in the target's order, instead of through its header map
// (emulator/http1's: http1.response.WriteHeaderFields). false: it
// declined, and the head goes through the map.
type fieldsWriter interface {
	WriteHeaderFields(status int, fields []headerline.Field) bool
}

// relayed returns the head's lines less the hop-by-hop ones: what fill
// puts into a header map, line by line. The slice is the head's, reused.
func (h *respHead) relayed() []headerline.Field {
	h.fields = h.fields[:0]
	for _, l := range h.lines {
		if !h.hopByHop(l.name) {
			h.fields = append(h.fields, headerline.Field{Name: l.name, Value: l.value})
		}
	}
	return h.fields
}

// fieldsHeaderBytes is responseHeaderBytes for a head given as lines.
func fieldsHeaderBytes(code int, fields []headerline.Field) int64 {
	n := headBytes(code)
	for _, f := range fields {
		n += lineBytes(f.Name, f.Value)
	}
	return int64(n)
}

// respHead is a target's response head, parsed from the connection's
// reader; its fields are reused from response to response.
type respHead struct {
	status        int
	minor         int
	text          string // the head as one string: names and values are slices of it
	lines         []respLine
	fields        []headerline.Field // relayed's
	hasTrailer    bool               // a Trailer line
	contentLength int64              // -1: not given (chunked, or to the end of the connection)
	chunked       bool
	close         bool
	eventStream   bool // Content-Type text/event-stream
	buf           []byte
}

type respLine struct{ name, value string }

// read parses the next response head from br with http.ReadResponse's
// rules for what is malformed: a bad status line, a header line without a
// colon or with a bad name, control characters in a value, obs-fold
// continuation lines, differing Content-Length values, a transfer coding
// other than chunked.
func (h *respHead) read(br *bufio.Reader) error {
	h.buf = h.buf[:0]
	for {
		line, err := br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			h.buf = append(h.buf, line...)
			continue
		}
		if err != nil {
			if len(h.buf) == 0 && len(line) == 0 && errors.Is(err, io.EOF) {
				return io.ErrUnexpectedEOF
			}
			return err
		}
		start := len(h.buf)
		h.buf = append(h.buf, line...)
		if l := h.buf[start:]; start > 0 && (len(l) == 1 || (len(l) == 2 && l[0] == '\r')) {
			break
		}
	}
	h.text = string(h.buf)
	return h.parse()
}

func (h *respHead) parse() error {
	s := h.text
	i := strings.IndexByte(s, '\n')
	status := strings.TrimSuffix(s[:i], "\r")
	s = s[i+1:]
	proto, rest, ok := strings.Cut(status, " ")
	if !ok {
		return fmt.Errorf("malformed HTTP response %q", status)
	}
	major, minor, ok := http.ParseHTTPVersion(proto)
	if !ok || major != 1 {
		return fmt.Errorf("malformed HTTP version %q", proto)
	}
	code, _, _ := strings.Cut(strings.TrimLeft(rest, " "), " ")
	if len(code) != 3 {
		return fmt.Errorf("malformed HTTP status code %q", code)
	}
	n, err := strconv.Atoi(code)
	if err != nil || n < 100 {
		return fmt.Errorf("malformed HTTP status code %q", code)
	}
	h.status, h.minor = n, minor
	h.lines = h.lines[:0]
	h.contentLength, h.chunked, h.eventStream, h.hasTrailer = -1, false, false, false
	var cl string
	var conn []string
	for len(s) > 0 {
		i := strings.IndexByte(s, '\n')
		line := strings.TrimSuffix(s[:i], "\r")
		s = s[i+1:]
		if line == "" {
			break
		}
		if line[0] == ' ' || line[0] == '\t' {
			return fmt.Errorf("malformed MIME header: continuation line %q", line)
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok || !httpguts.ValidHeaderFieldName(name) {
			return fmt.Errorf("malformed MIME header line: %q", line)
		}
		value = strings.Trim(value, " \t")
		if !httpguts.ValidHeaderFieldValue(value) {
			return fmt.Errorf("malformed MIME header line: %q", line)
		}
		name = textproto.CanonicalMIMEHeaderKey(name)
		switch name {
		case "Content-Length":
			if cl != "" && cl != value {
				return fmt.Errorf("message cannot contain multiple Content-Length headers; got %q and %q", cl, value)
			}
			cl = value
			continue
		case "Transfer-Encoding":
			if !strings.EqualFold(value, "chunked") || h.chunked {
				return fmt.Errorf("unsupported transfer encoding: %q", value)
			}
			h.chunked = true
			continue
		case "Connection":
			conn = append(conn, value)
		case "Content-Type":
			h.eventStream = len(value) >= 17 && strings.EqualFold(value[:17], "text/event-stream")
		case "Trailer":
			h.hasTrailer = true
		}
		h.lines = append(h.lines, respLine{name, value})
	}
	if cl != "" && !h.chunked {
		n, err := strconv.ParseUint(cl, 10, 63)
		if err != nil || cl[0] == '+' {
			return fmt.Errorf("bad Content-Length %q", cl)
		}
		h.contentLength = int64(n)
		h.lines = append(h.lines, respLine{"Content-Length", cl})
	}
	if h.minor == 0 {
		h.close = !httpguts.HeaderValuesContainsToken(conn, "keep-alive")
	} else {
		h.close = httpguts.HeaderValuesContainsToken(conn, "close")
	}
	return nil
}

// fill adds the head's header lines to wh, less the hop-by-hop ones (those
// the target's Connection header names among them), as ReverseProxy copies
// a response's headers; what wh already holds stays. The values are one
// slice per name, cut from a single allocation.
func (h *respHead) fill(wh http.Header) {
	var vals []string
	for i, l := range h.lines {
		if h.hopByHop(l.name) {
			continue
		}
		if vs, ok := wh[l.name]; ok {
			wh[l.name] = append(vs, l.value)
			continue
		}
		if vals == nil {
			vals = make([]string, len(h.lines))
		}
		vals[i] = l.value
		wh[l.name] = vals[i : i+1 : i+1]
	}
}

// hopByHop reports whether the response header name is not relayed.
func (h *respHead) hopByHop(name string) bool {
	for _, f := range hopHeaders {
		if name == f {
			return true
		}
	}
	for _, l := range h.lines {
		if l.name != "Connection" {
			continue
		}
		for sf := range strings.SplitSeq(l.value, ",") {
			if sf = textproto.TrimString(sf); sf != "" && strings.EqualFold(sf, name) {
				return true
			}
		}
	}
	return false
}

// declaredTrailers is the names the target's Trailer header declares,
// canonical, in its order.
func (h *respHead) declaredTrailers() []string {
	var out []string
	for _, l := range h.lines {
		if l.name != "Trailer" {
			continue
		}
		for k := range strings.SplitSeq(l.value, ",") {
			if k = textproto.TrimString(k); k != "" {
				out = append(out, textproto.CanonicalMIMEHeaderKey(k))
			}
		}
	}
	return out
}

// setTrailers puts a relayed response's trailers into wh after its head
// went out, as ReverseProxy does: under their own names when every field
// received was declared, else each under http.TrailerPrefix.
func setTrailers(wh http.Header, declared []string, got []respLine) {
	undeclared := false
	for _, l := range got {
		if !slices.Contains(declared, l.name) {
			undeclared = true
		}
	}
	for _, l := range got {
		k := l.name
		if undeclared {
			k = http.TrailerPrefix + k
		}
		wh[k] = append(wh[k], l.value)
	}
}
