package http1

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"errors"
	"io"
	"net/http"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
)

var errHeadTooLarge = errors.New("http1: request head too large")

// readHead appends the next request head to buf: the request line and the
// header lines through the empty line, line ends as sent. Empty lines
// before the request line are skipped (RFC 9112 §2.2).
func readHead(br *bufio.Reader, buf []byte, max int) ([]byte, error) {
	for {
		line, err := br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			// A line longer than the reader's buffer: keep reading it.
			buf = append(buf, line...)
			if len(buf) > max {
				return buf, errHeadTooLarge
			}
			continue
		}
		if err != nil {
			return append(buf, line...), err
		}
		if len(buf) == 0 && (len(line) == 1 || (len(line) == 2 && line[0] == '\r')) {
			continue
		}
		start := len(buf)
		buf = append(buf, line...)
		if len(buf) > max {
			return buf, errHeadTooLarge
		}
		// The empty line ends the head (a line of its own, not the tail
		// of a line read in pieces).
		if l := buf[start:]; start > 0 && (len(l) == 1 || (len(l) == 2 && l[0] == '\r')) && buf[start-1] == '\n' {
			return buf, nil
		}
	}
}

// parseError is a head the parser refuses; routable heads (a request line
// and headers it could read, but framing it will not guess) may still go
// to the handler when ALB's mode blocks their class, so ALB's 400 and
// access-log line come from routing.
type parseError struct {
	msg      string
	routable bool
}

func (e *parseError) Error() string { return "http1: " + e.msg }

// parsed is one request head, its map and slices reused from request to
// request on a connection: a request's Header is its handler's only while
// the handler runs (the front end serves one request at a time, and
// nothing in the emulator keeps a request's header map or value slices past
// its handler). Names and values are cut from one string per head.
type parsed struct {
	method, target, proto string
	major, minor          int
	header                http.Header
	host                  string
	contentLength         int64
	chunked               bool
	close                 bool
	vals                  []string // the value slices of header, one allocation per connection
	// names are the header names, canonical, one per header line in the
	// order sent (Host and framing headers included): what a HeadRecorder
	// gets. Reused from request to request.
	names []string
}

var common = func() map[string]string {
	m := map[string]string{}
	for _, k := range []string{"Host", "User-Agent", "Accept", "Accept-Encoding", "Accept-Language", "Connection",
		"Content-Length", "Content-Type", "Transfer-Encoding", "Cookie", "Authorization", "X-Forwarded-For",
		"X-Forwarded-Proto", "X-Forwarded-Port", "X-Amzn-Trace-Id", "Expect", "Upgrade", "Cache-Control", "Referer", "Origin", "Te", "Trailer"} {
		m[k] = k
	}
	return m
}()

func canonical(name []byte) string {
	if k, ok := common[string(name)]; ok {
		return k
	}
	return textproto.CanonicalMIMEHeaderKey(string(name))
}

func trimLineEnd(l []byte) []byte {
	l = bytes.TrimSuffix(l, []byte{'\n'})
	return bytes.TrimSuffix(l, []byte{'\r'})
}

// parse reads head into p.
func (p *parsed) parse(head []byte) *parseError {
	h, vals, names := p.header, p.vals[:0], p.names[:0]
	if h == nil {
		h = make(http.Header, 16)
	} else {
		clear(h)
	}
	*p = parsed{header: h, vals: vals, names: names}
	text := string(head) // names and values are cut from it
	i := bytes.IndexByte(head, '\n')
	line := trimLineEnd(head[:i+1])
	rest := head[i+1:]
	m, t, v, ok := splitRequestLine(line)
	if !ok {
		return &parseError{msg: "malformed request line"}
	}
	if !validMethod(m) {
		return &parseError{msg: "bad method", routable: true}
	}
	p.method, p.target, p.proto = methodString(m), sub(text, head, t), sub(text, head, v)
	major, minor, ok := http.ParseHTTPVersion(p.proto)
	if !ok || major != 1 {
		return &parseError{msg: "bad version", routable: true}
	}
	p.major, p.minor = major, minor
	var lastKey string
	var cls []string
	var tes []string
	for len(rest) > 0 {
		i := bytes.IndexByte(rest, '\n')
		line := trimLineEnd(rest[:i+1])
		rest = rest[i+1:]
		if len(line) == 0 {
			break
		}
		if line[0] == ' ' || line[0] == '\t' {
			// obs-fold (RFC 9112 §5.2): replaced by a space.
			if lastKey == "" {
				return &parseError{msg: "continuation line before any header", routable: true}
			}
			vs := p.header[lastKey]
			cont := bytes.TrimSpace(line)
			if bad(cont) {
				return &parseError{msg: "control character in a header value", routable: true}
			}
			vs[len(vs)-1] = vs[len(vs)-1] + " " + string(cont)
			continue
		}
		colon := bytes.IndexByte(line, ':')
		if colon <= 0 {
			return &parseError{msg: "header line without a name and colon", routable: true}
		}
		name := line[:colon]
		for _, b := range name {
			if b <= ' ' || b == 0x7f {
				return &parseError{msg: "space or control character in a header name", routable: true}
			}
		}
		val := bytes.Trim(line[colon+1:], " \t")
		if bad(val) {
			return &parseError{msg: "control character in a header value", routable: true}
		}
		key := canonical(name)
		p.names = append(p.names, key)
		sv := sub(text, head, val)
		switch key {
		case "Content-Length":
			cls = append(cls, sv)
		case "Transfer-Encoding":
			tes = append(tes, sv)
		}
		if vs, ok := p.header[key]; ok {
			p.header[key] = append(vs, sv)
		} else {
			if len(p.vals) == cap(p.vals) {
				p.vals = make([]string, 0, max(32, 2*cap(p.vals)))
			}
			p.vals = append(p.vals, sv)
			n := len(p.vals)
			p.header[key] = p.vals[n-1 : n : n]
		}
		lastKey = key
	}
	if hs := p.header["Host"]; len(hs) > 1 {
		return &parseError{msg: "more than one Host header", routable: true}
	} else if len(hs) == 1 {
		p.host = hs[0]
		delete(p.header, "Host")
	} else if p.minor >= 1 {
		return &parseError{msg: "missing Host header", routable: true}
	}
	if len(tes) > 0 {
		if len(tes) != 1 || !strings.EqualFold(tes[0], "chunked") {
			return &parseError{msg: "unsupported Transfer-Encoding", routable: true}
		}
		p.chunked, p.contentLength = true, -1
		delete(p.header, "Transfer-Encoding")
		delete(p.header, "Content-Length")
	} else if len(cls) > 0 {
		for _, v := range cls[1:] {
			if v != cls[0] {
				return &parseError{msg: "differing Content-Length values", routable: true}
			}
		}
		n, err := strconv.ParseUint(cls[0], 10, 63)
		if err != nil || cls[0] == "" || cls[0][0] == '+' {
			return &parseError{msg: "bad Content-Length", routable: true}
		}
		p.contentLength = int64(n)
		if len(cls) > 1 {
			p.header["Content-Length"] = cls[:1]
		}
	}
	conn := p.header["Connection"]
	if p.minor == 0 {
		p.close = !hasToken(conn, "keep-alive")
	} else {
		p.close = hasToken(conn, "close")
	}
	return nil
}

// sub returns the part of text (string(head)) that b, a slice of head, is.
func sub(text string, head, b []byte) string {
	if len(b) == 0 {
		return ""
	}
	off := cap(head) - cap(b)
	return text[off : off+len(b)]
}

func hasToken(vs []string, tok string) bool {
	for _, v := range vs {
		for f := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(f), tok) {
				return true
			}
		}
	}
	return false
}

// bad reports a control character other than HT in a header value.
func bad(v []byte) bool {
	for _, b := range v {
		if (b < ' ' && b != '\t') || b == 0x7f {
			return true
		}
	}
	return false
}

func splitRequestLine(l []byte) (m, t, v []byte, ok bool) {
	a := bytes.IndexByte(l, ' ')
	if a <= 0 {
		return nil, nil, nil, false
	}
	b := bytes.IndexByte(l[a+1:], ' ')
	if b <= 0 {
		return nil, nil, nil, false
	}
	m, t, v = l[:a], l[a+1:a+1+b], l[a+2+b:]
	for _, c := range t {
		if c <= ' ' || c == 0x7f {
			return nil, nil, nil, false
		}
	}
	return m, t, v, len(v) > 0
}

func validMethod(m []byte) bool {
	for _, c := range m {
		if !isTokenChar(c) {
			return false
		}
	}
	return len(m) > 0
}

func isTokenChar(c byte) bool {
	return c > ' ' && c < 0x7f && !strings.ContainsRune("\"(),/:;<=>?@[\\]{}", rune(c))
}

func methodString(m []byte) string {
	switch string(m) {
	case "GET":
		return http.MethodGet
	case "POST":
		return http.MethodPost
	case "HEAD":
		return http.MethodHead
	case "PUT":
		return http.MethodPut
	}
	return string(m)
}

// request builds the *http.Request of the parsed head, as net/http's
// server would.
// remote and st are the connection's RemoteAddr string and TLS state,
// computed once per connection (st nil without TLS); every request
// shares st, which no handler modifies.
func (p *parsed) request(base *http.Request, remote string, st *tls.ConnectionState, body io.ReadCloser) *http.Request {
	// A copy of base carries the connection's context without the second
	// allocation and copy of r.WithContext.
	r := new(http.Request)
	*r = *base
	r.Method, r.RequestURI, r.Proto, r.ProtoMajor, r.ProtoMinor = p.method, p.target, p.proto, p.major, p.minor
	r.Header, r.Host, r.Body, r.ContentLength, r.Close = p.header, p.host, body, p.contentLength, p.close
	r.RemoteAddr, r.TLS = remote, st
	if p.chunked {
		r.TransferEncoding = []string{"chunked"}
	}
	u := plainTarget(p.target)
	if u == nil {
		var err error
		if u, err = url.ParseRequestURI(p.target); err != nil {
			u = &url.URL{Path: p.target}
		}
	}
	r.URL = u
	if r.Host == "" {
		r.Host = u.Host
	}
	return r
}

// plainTarget is url.ParseRequestURI's result for the common request
// target, a path of unreserved characters and '/' with an optional query
// (no '?' in it, not empty), without its parse: the path needs no
// unescaping, so Path is it and RawPath is empty, and the query is kept
// raw, as ParseRequestURI keeps it. nil for any other target.
func plainTarget(t string) *url.URL {
	path, query, hasQuery := strings.Cut(t, "?")
	if len(path) == 0 || path[0] != '/' || hasQuery && (query == "" || strings.IndexByte(query, '?') >= 0) {
		return nil
	}
	for i := 0; i < len(path); i++ {
		if c := path[i]; !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '/' || c == '-' || c == '.' || c == '_' || c == '~') {
			return nil
		}
	}
	for i := 0; i < len(query); i++ {
		if c := query[i]; c <= ' ' || c == 0x7f || c == '#' {
			return nil
		}
	}
	return &url.URL{Path: path, RawQuery: query}
}
