package listener

import (
	"bytes"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/albmtls/albmtls/emulator/desync"
)

// HeaderOrder records the order of the header names of each HTTP/1.x
// request read from a connection, which net/http does not keep (http.Header
// is a map). ALB forwards the client's headers in the client's order
// (alb-behaviour §4.1, EID capture); the forwarding path writes them in the
// order recorded here.
//
// It follows the request framing of the bytes the HTTP server reads: the
// request line, the header block (names recorded, Content-Length,
// Transfer-Encoding and Upgrade read), then the body by its length or its
// chunks, then the next request. An upgrade or CONNECT ends the recording
// (the bytes after are not HTTP), and so does anything it cannot follow (a
// line over maxOrderLine bytes): Next then returns nil and the request's
// headers go out sorted. Next also checks the recorded names against the
// request's, so a recording that lost step can never reorder the wrong
// request.
//
// It also keeps each request's raw head (request line and header lines,
// line ends as sent) and classifies it for ALB's desync mitigation
// (emulator/desync); Classification returns the class of the request Next
// matched last.
type HeaderOrder struct {
	mu     sync.Mutex
	st     orderState
	line   []byte   // the line being read (request line, header, chunk size)
	names  []string // names of the block being read
	head   []byte   // the raw head being read, for desync.Classify
	queue  []orderBlock
	remain int64 // body or chunk bytes still to skip
	chunk  bool  // the body being read is chunked
	up     bool  // the request asked for an upgrade (or is CONNECT)
	intern map[string]string
	last   []string // the block Next returned last: reused once the next is asked for
	spare  []string
	// lastClass is the classification of the block Next returned last.
	lastClass  orderBlock
	classified bool
	// pushed: the heads are pushed by the HTTP server that parsed them
	// (Push), not followed in the connection's bytes.
	pushed bool
}

// orderBlock is one request's recorded head: its header names and its
// desync classification.
type orderBlock struct {
	names  []string
	class  desync.Class
	reason desync.Reason
}

// maxOrderHead bounds the raw head kept for classification; net/http
// refuses larger heads (MaxHeaderBytes, 1 MiB by default) anyway.
const maxOrderHead = 1 << 20

type orderState uint8

const (
	stLine      orderState = iota // request line (empty lines before it skipped)
	stHeader                      // header lines until the empty line
	stBody                        // remain bytes of a Content-Length body
	stChunkSize                   // a chunk-size line
	stChunkData                   // remain bytes of chunk data and its CRLF
	stTrailer                     // trailer lines until the empty line
	stStop                        // not following any more
)

// maxOrderLine bounds a line the recorder keeps; the HTTP server refuses
// larger headers anyway (its MaxHeaderBytes).
const maxOrderLine = 64 << 10

// maxOrderQueue bounds the blocks read ahead of the handler (pipelining).
const maxOrderQueue = 64

// Next returns the client's header names of the next request, in the
// order it sent them, with their spelling as sent, if they match h (the
// request's header as net/http parsed it); nil when no order is known.
// Call it once per request, in order; the slice is valid until the next
// call.
func (o *HeaderOrder) Next(h http.Header) []string {
	if o == nil {
		return nil
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.last != nil {
		o.spare, o.last = o.last[:0], nil
	}
	o.classified = false
	if len(o.queue) == 0 {
		o.st = stStop // a request the recorder did not see: lost step
		return nil
	}
	// Shifted down rather than resliced, so the queue keeps its array:
	// one block in and one out per request would otherwise allocate a new
	// array each time the capacity ran out.
	b := o.queue[0]
	n := copy(o.queue, o.queue[1:])
	o.queue[n] = orderBlock{}
	o.queue = o.queue[:n]
	if o.pushed {
		// The names come from the parse that built h.
		o.lastClass, o.classified = b, true
		return b.names
	}
	if !sameNames(b.names, h) {
		o.st, o.queue = stStop, nil
		return nil
	}
	o.last, o.lastClass, o.classified = b.names, b, true
	return b.names
}

// Push queues the head of the next request as an HTTP/1.x server that
// parses heads itself (emulator/http1) read it: names are its header
// names, canonical, in the order sent, one per header line; head is the
// raw head (request line and header lines, line ends as sent), which Push
// classifies for ALB's desync mitigation. A recorder that heads are pushed
// to follows no bytes (the listener does not wrap the connection,
// Config.HeadsPushed), and Next returns the pushed names as they are.
// names must not change until the next Push.
func (o *HeaderOrder) Push(names []string, head []byte) {
	class, reason := desync.Classify(head)
	o.mu.Lock()
	defer o.mu.Unlock()
	o.pushed = true
	if len(o.queue) >= maxOrderQueue {
		return // never: the server pushes one head per request it serves
	}
	o.queue = append(o.queue, orderBlock{names: names, class: class, reason: reason})
}

// Classification returns the desync class and reason of the request Next
// matched last; ok is false when Next returned nil (the head was not
// followed, so its class is unknown).
func (o *HeaderOrder) Classification() (c desync.Class, r desync.Reason, ok bool) {
	if o == nil {
		return 0, 0, false
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.lastClass.class, o.lastClass.reason, o.classified
}

// sameNames reports whether names (canonical, as sent) are exactly the
// keys of h, but for the three net/http moves out of the map: Host (to
// Request.Host), a chunked Transfer-Encoding (to Request.TransferEncoding),
// and a Content-Length it drops because the request is chunked.
func sameNames(names []string, h http.Header) bool {
	distinct := 0
	for i, n := range names {
		if _, ok := h[n]; !ok && (n == "Host" || n == "Transfer-Encoding" ||
			n == "Content-Length" && slices.Contains(names, "Transfer-Encoding")) {
			continue
		}
		if _, ok := h[n]; !ok {
			return false
		}
		dup := false
		for _, m := range names[:i] {
			if m == n {
				dup = true
				break
			}
		}
		if !dup {
			distinct++
		}
	}
	return distinct == len(h)
}

// feed follows the framing of the bytes p the server read.
func (o *HeaderOrder) feed(p []byte) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for len(p) > 0 && o.st != stStop {
		switch o.st {
		case stBody, stChunkData:
			n := min(int64(len(p)), o.remain)
			p = p[n:]
			if o.remain -= n; o.remain == 0 {
				if o.st == stBody {
					o.st = stLine
				} else {
					o.st = stChunkSize
				}
			}
			continue
		}
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			o.grow(p)
			return
		}
		o.grow(p[:i])
		p = p[i+1:]
		if o.st == stStop {
			return
		}
		if o.st == stLine && len(o.line) > 0 && !(len(o.line) == 1 && o.line[0] == '\r') {
			o.head = o.head[:0] // a request line starts a new head
		}
		if o.st == stLine || o.st == stHeader {
			if len(o.head)+len(o.line)+1 > maxOrderHead {
				o.st = stStop
				return
			}
			o.head = append(append(o.head, o.line...), '\n')
		}
		line := bytes.TrimSuffix(o.line, []byte("\r"))
		o.lineDone(line)
		o.line = o.line[:0]
	}
}

func (o *HeaderOrder) grow(b []byte) {
	if len(o.line)+len(b) > maxOrderLine {
		o.st = stStop
		return
	}
	o.line = append(o.line, b...)
}

// lineDone handles one complete line (without its line end).
func (o *HeaderOrder) lineDone(line []byte) {
	switch o.st {
	case stLine:
		if len(line) == 0 {
			return // an empty line before a request line: net/http refuses the request anyway
		}
		o.names = o.spare[:0]
		o.spare = nil
		o.remain, o.chunk, o.up = 0, false, bytes.HasPrefix(line, []byte("CONNECT "))
		o.st = stHeader
	case stHeader:
		if len(line) == 0 {
			o.blockDone()
			return
		}
		if line[0] == ' ' || line[0] == '\t' {
			// obs-fold: net/http joins the line to the previous header's
			// value (textproto); no new name. The head keeps it for
			// desync.Classify (MultilineHeader).
			if len(o.names) == 0 {
				o.st = stStop // a fold before any header: net/http refuses it
			}
			return
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			o.st = stStop
			return
		}
		canon, ok := commonNames[string(name)]
		if !ok {
			canon, ok = o.intern[string(name)]
		}
		if !ok {
			canon = http.CanonicalHeaderKey(string(name))
			if o.intern == nil {
				o.intern = map[string]string{}
			}
			if len(o.intern) < 256 {
				o.intern[string(name)] = canon
			}
		}
		o.names = append(o.names, canon)
		value = bytes.TrimSpace(value)
		switch canon {
		case "Content-Length":
			n, err := strconv.ParseInt(string(value), 10, 64)
			if err != nil || n < 0 {
				o.st = stStop
				return
			}
			o.remain = n
		case "Transfer-Encoding":
			o.chunk = bytes.EqualFold(value, []byte("chunked")) || bytes.HasSuffix(bytes.ToLower(value), []byte("chunked"))
		case "Upgrade":
			o.up = true
		}
	case stChunkSize:
		size, _, _ := bytes.Cut(line, []byte(";"))
		n, err := strconv.ParseInt(string(bytes.TrimSpace(size)), 16, 64)
		if err != nil || n < 0 || n > 1<<60 { // n+2 below must not overflow
			o.st = stStop
			return
		}
		if n == 0 {
			o.st = stTrailer
			return
		}
		o.remain, o.st = n+2, stChunkData
	case stTrailer:
		if len(line) == 0 {
			o.st = stLine
		}
	}
}

// blockDone queues the names of a complete header block and moves on to
// its body.
func (o *HeaderOrder) blockDone() {
	if len(o.queue) >= maxOrderQueue {
		o.st = stStop
		return
	}
	class, reason := desync.Classify(o.head)
	o.queue = append(o.queue, orderBlock{names: o.names, class: class, reason: reason})
	o.names = nil
	o.head = o.head[:0]
	switch {
	case o.up:
		o.st = stStop // what follows is the upgraded protocol
	case o.chunk:
		o.st = stChunkSize
	case o.remain > 0:
		o.st = stBody
	default:
		o.st = stLine
	}
}

// commonNames interns the header names most requests carry, as sent in
// canonical or lower case, for every connection: a connection's own intern
// table (and its allocations) then only holds the rest.
var commonNames = func() map[string]string {
	m := map[string]string{}
	for _, n := range []string{"Host", "User-Agent", "Accept", "Accept-Encoding", "Accept-Language",
		"Connection", "Content-Length", "Content-Type", "Transfer-Encoding", "Cookie", "Authorization",
		"Cache-Control", "Pragma", "Origin", "Referer", "Upgrade", "If-None-Match", "If-Modified-Since",
		"X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Port", "X-Amzn-Trace-Id", "X-Request-Id",
		"Sec-Fetch-Mode", "Sec-Fetch-Site", "Sec-Fetch-Dest", "Upgrade-Insecure-Requests", "Dnt", "Te",
		"Expect", "Range", "Priority"} {
		canon := http.CanonicalHeaderKey(n)
		m[canon] = canon
		m[strings.ToLower(n)] = canon
	}
	return m
}()

// orderConn is a connection whose reads are fed to a HeaderOrder.
type orderConn struct {
	net.Conn
	order *HeaderOrder
	rec   *Conn
}

func (c *orderConn) record() *Conn { return c.rec }

func (c *orderConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.order.feed(p[:n])
	}
	return n, err
}
