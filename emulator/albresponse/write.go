package albresponse

import (
	"bufio"
	"io"
	"maps"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/albmtls/albmtls/emulator/alb"
)

// ResponseOptions are the listener settings that shape every response ALB
// generates itself. The zero value is ALB's default.
type ResponseOptions struct {
	// DisableServerHeader drops "Server: awselb/2.0", as the listener
	// attribute routing.http.response.server.enabled=false does
	// (alb-behaviour §8.1). Whether real ALB honours it on its own error
	// pages is [UNK] (alb-behaviour §10.15); the emulator applies it
	// everywhere.
	DisableServerHeader bool

	// StandardReasonPhrase writes Go's reason phrase (e.g. "503 Service
	// Unavailable") instead of ALB's on HTTP/1.x status lines, for clients
	// that compare phrases with the RFC's. HTTP/2 has no reason phrase, so
	// it is unaffected.
	StandardReasonPhrase bool

	// Reasons overrides reason phrases by status code, for the codes whose
	// phrase is inferred or unknown (see Reason). The page body follows.
	Reasons map[int]string

	// NoFixedResponseCharset sends a fixed-response's Content-Type exactly
	// as configured (emulation.fixed_response_charset: none) instead of
	// ALB's "; charset=utf-8" suffix (see WriteFixed).
	NoFixedResponseCharset bool
}

// hijackWriteTimeout bounds writing a page on a hijacked connection, so a
// client that stops reading cannot pin a goroutine.
const hijackWriteTimeout = 10 * time.Second

// lingerTimeout bounds how long a hijacked connection is drained after its
// write side is closed, so unread request bytes do not turn the close into a
// TCP reset that destroys the page before the client reads it.
const lingerTimeout = 500 * time.Millisecond

// maxDrainBody is how much of an unread request body is read and discarded
// to keep the connection open after an ALB-generated response; a longer
// body closes the connection instead. It is net/http's own threshold.
const maxDrainBody = 256 << 10

// WriteError answers r with ALB's error page for code (alb-behaviour §8.1):
// Server: awselb/2.0 (unless disabled), Content-Type: text/html, the exact
// Content-Length and, on HTTP/1.x, ALB's reason phrase. A 400 closes the
// connection ("Connection: close"), as observed on ALB. It returns the
// bytes sent, for the access log's sent_bytes.
func WriteError(w http.ResponseWriter, r *http.Request, code int, opts ResponseOptions) int64 {
	reason, body := opts.Page(code)
	return write(w, r, response{
		code:        code,
		reason:      reason,
		contentType: "text/html",
		body:        body,
		close:       code == http.StatusBadRequest, // [OBS] alb-behaviour §8.1: 400 has Connection: close
	}, opts)
}

// response is one ALB-generated response, in ALB's header order.
type response struct {
	code        int
	reason      string
	contentType string // "" omits the header
	location    string // "" omits the header
	body        []byte
	close       bool // answer "Connection: close" and close after writing
}

// write sends resp. On HTTP/1.x it writes the bytes itself on the hijacked
// connection, because net/http sorts header names and cannot write ALB's
// order or reason phrases (writeRaw); on HTTP/2, or when the connection
// cannot be hijacked, it goes through net/http (writeStd).
func write(w http.ResponseWriter, r *http.Request, resp response, opts ResponseOptions) int64 {
	if opts.StandardReasonPhrase {
		resp.reason = goReason(resp.code)
	}
	if r.ProtoMajor == 1 {
		if n, ok := writeRaw(w, r, resp, opts); ok {
			return n
		}
	}
	return writeStd(w, r, resp, opts)
}

// writeStd sends resp through net/http. On HTTP/2 it comes as close to
// ALB's "server, date, content-type, content-length" as Go's HTTP/2 server
// allows: that server writes the header map sorted by key (lower-casing
// the names), then content-length. Keys are spelled so that the sort gives
// "server, content-type, date": "Server" sorts before the lower-case keys,
// nil "Content-Type" and "Date" entries stop net/http from sniffing a type
// or adding its own date. No spelling can put date before content-type
// (docs/targets.md, "Header order"). HTTP/1.x (only when hijacking is
// impossible, as with a ResponseRecorder) keeps canonical names.
func writeStd(w http.ResponseWriter, r *http.Request, resp response, opts ResponseOptions) int64 {
	h := w.Header()
	h2 := r.ProtoMajor >= 2
	for _, k := range []string{"Server", "Date", "Content-Type", "Content-Length", "Location", "Connection", "server", "date", "content-type", "location"} {
		delete(h, k)
	}
	if !opts.DisableServerHeader {
		h["Server"] = []string{alb.ServerHeader}
	}
	h["Content-Type"] = nil // no sniffed type
	if resp.contentType != "" {
		if h2 {
			h["content-type"] = []string{resp.contentType}
		} else {
			h["Content-Type"] = []string{resp.contentType}
		}
	}
	if h2 {
		h["Date"] = nil
		h["date"] = []string{time.Now().UTC().Format(http.TimeFormat)}
	}
	if bodyAllowed(resp.code) {
		h.Set("Content-Length", strconv.Itoa(len(resp.body)))
	}
	if resp.location != "" {
		if h2 {
			h["location"] = []string{resp.location}
		} else {
			h.Set("Location", resp.location)
		}
	}
	if resp.close && !h2 {
		h.Set("Connection", "close")
	}
	// sent_bytes counts the HTTP/1.1 form of the response on every
	// protocol: HPACK sizes depend on the connection's table.
	n := int64(len(appendRaw(nil, r, resp, nil, opts, !resp.close)))
	w.WriteHeader(resp.code)
	if r.Method != http.MethodHead && bodyAllowed(resp.code) {
		_, _ = w.Write(resp.body)
	}
	return n
}

// bodyAllowed reports whether a response with code carries a body and a
// Content-Length (RFC 9110 §8.6: never on 204).
func bodyAllowed(code int) bool { return code != http.StatusNoContent }

// goReason is the phrase net/http writes on an HTTP/1.x status line.
func goReason(code int) string {
	if t := http.StatusText(code); t != "" {
		return t
	}
	return "status code " + strconv.Itoa(code)
}

// writeRaw writes resp byte for byte on the hijacked connection. ALB keeps
// the connection open after its own responses ("Connection: keep-alive",
// alb-behaviour §8.2) except after a 400; the connection is then handed
// back to an HTTP server (resume). It closes the connection instead, with
// "Connection: close", when the client asked for that, spoke HTTP/1.0,
// left a body too long to discard, or had already sent its next request
// (the hijacked connection cannot give the read bytes back without losing
// its *tls.Conn type). ok is false when the writer cannot be hijacked
// (nothing was written then).
func writeRaw(w http.ResponseWriter, r *http.Request, resp response, opts ResponseOptions) (int64, bool) {
	if rw := rawWriterOf(w); rw != nil {
		keepAlive := !resp.close && r.ProtoAtLeast(1, 1) && !r.Close && discardBody(r)
		return rw.WriteRaw(appendRaw(nil, r, resp, w.Header(), opts, keepAlive), keepAlive), true
	}
	srv, _ := r.Context().Value(http.ServerContextKey).(*http.Server)
	keepAlive := !resp.close && srv != nil && r.ProtoAtLeast(1, 1) && !r.Close && discardBody(r)
	conn, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return 0, false
	}
	if brw.Reader.Buffered() > 0 {
		keepAlive = false
	}
	if keepAlive {
		// Before the client can read the response: a Shutdown it then
		// triggers must find the companion's shutdown hook registered.
		companionFor(srv)
	}
	raw := appendRaw(nil, r, resp, w.Header(), opts, keepAlive)
	_ = conn.SetWriteDeadline(time.Now().Add(hijackWriteTimeout))
	n, err := conn.Write(raw)
	if err != nil || !keepAlive {
		go lingerClose(conn, brw.Reader)
		return int64(n), true
	}
	_ = conn.SetWriteDeadline(time.Time{})
	resume(srv, conn, r.Context())
	return int64(n), true
}

// RawWriter is a ResponseWriter that can send a whole HTTP/1.1 response
// as bytes on its connection (emulator/http1, the front end of
// emulation.http1_front_end: albmtls), as writeRaw does on a hijacked
// net/http connection; keepAlive false asks it to close the connection
// after. It returns the bytes written.
type RawWriter interface {
	WriteRaw(b []byte, keepAlive bool) int64
}

// rawWriterOf finds a RawWriter under w's Unwrap chain.
func rawWriterOf(w http.ResponseWriter) RawWriter {
	for w != nil {
		if rw, ok := w.(RawWriter); ok {
			return rw
		}
		u, ok := w.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			return nil
		}
		w = u.Unwrap()
	}
	return nil
}

// discardBody reads and discards what is left of r's body, up to
// maxDrainBody, and reports whether the body is now fully read. A client
// waiting for "100 Continue" gets none: its body is not read.
func discardBody(r *http.Request) bool {
	if r.Body == nil || r.Body == http.NoBody {
		return true
	}
	if r.ContentLength != 0 && strings.EqualFold(r.Header.Get("Expect"), "100-continue") {
		return false
	}
	n, err := io.CopyN(io.Discard, r.Body, maxDrainBody+1)
	return err == io.EOF && n <= maxDrainBody
}

// appendRaw renders an HTTP/1.1 response in the header order of ALB's
// captures (alb-behaviour §8.1, §8.2): Server, Date, Content-Type,
// Content-Length, Connection, Location, then any headers the caller had
// already set on w (response header modification), sorted.
func appendRaw(b []byte, r *http.Request, resp response, extra http.Header, opts ResponseOptions, keepAlive bool) []byte {
	b = append(b, "HTTP/1.1 "...)
	b = strconv.AppendInt(b, int64(resp.code), 10)
	b = append(b, ' ')
	b = append(b, resp.reason...)
	b = append(b, "\r\n"...)
	if !opts.DisableServerHeader {
		b = append(b, "Server: "+alb.ServerHeader+"\r\n"...)
	}
	b = append(b, "Date: "...)
	b = time.Now().UTC().AppendFormat(b, http.TimeFormat)
	b = append(b, "\r\n"...)
	if resp.contentType != "" {
		b = append(b, "Content-Type: "...)
		b = append(b, resp.contentType...)
		b = append(b, "\r\n"...)
	}
	if bodyAllowed(resp.code) {
		b = append(b, "Content-Length: "...)
		b = strconv.AppendInt(b, int64(len(resp.body)), 10)
		b = append(b, "\r\n"...)
	}
	if keepAlive {
		b = append(b, "Connection: keep-alive\r\n"...)
	} else {
		b = append(b, "Connection: close\r\n"...)
	}
	if resp.location != "" {
		b = append(b, "Location: "...)
		b = append(b, resp.location...)
		b = append(b, "\r\n"...)
	}
	for _, k := range slices.Sorted(maps.Keys(extra)) {
		switch http.CanonicalHeaderKey(k) {
		case "Server", "Date", "Content-Type", "Content-Length", "Connection", "Location", "Transfer-Encoding":
			continue
		}
		for _, v := range extra[k] {
			b = append(b, k...)
			b = append(b, ": "...)
			b = append(b, v...)
			b = append(b, "\r\n"...)
		}
	}
	b = append(b, "\r\n"...)
	if r.Method != http.MethodHead && bodyAllowed(resp.code) {
		b = append(b, resp.body...)
	}
	return b
}

// lingerClose half-closes conn, drains what the client still sends for a
// short while, then closes it: closing a socket with unread input would send
// a TCP reset that can discard the page in flight.
func lingerClose(conn net.Conn, buffered *bufio.Reader) {
	defer conn.Close()
	type closeWriter interface{ CloseWrite() error }
	if cw, ok := conn.(closeWriter); ok {
		if err := cw.CloseWrite(); err != nil {
			return
		}
	}
	_ = conn.SetReadDeadline(time.Now().Add(lingerTimeout))
	if buffered != nil {
		_, _ = buffered.Discard(buffered.Buffered())
	}
	_, _ = io.Copy(io.Discard, conn)
}
