package albresponse

import (
	"bufio"
	"io"
	"maps"
	"net"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/albmtls/albmtls/emulator/alb"
)

// ResponseOptions are the listener settings that shape every response ALB
// generates itself. The zero value is ALB's default.
type ResponseOptions struct {
	// DisableServerHeader drops "Server: awselb/2.0", as the listener
	// attribute routing.http.response.server.enabled=false does ([DOC: HM],
	// spec §8.1). Whether real ALB honours it on its own error pages is
	// [UNK] (spec §10 item 15); the emulator applies it everywhere.
	DisableServerHeader bool

	// StandardReasonPhrase keeps Go's reason phrase (e.g. "503 Service
	// Unavailable") instead of ALB's on HTTP/1.x status lines. Go's net/http
	// cannot write a custom phrase, so ALB's phrase is written on a hijacked
	// connection, which is then closed ("Connection: close"). Set this to keep
	// the connection alive at the cost of the phrase. HTTP/2 has no reason
	// phrase, so it is unaffected.
	StandardReasonPhrase bool

	// Reasons overrides reason phrases by status code, for the codes whose
	// phrase is inferred or unknown (see Reason). The page body follows.
	Reasons map[int]string
}

// hijackWriteTimeout bounds writing a page on a hijacked connection, so a
// client that stops reading cannot pin a goroutine.
const hijackWriteTimeout = 10 * time.Second

// lingerTimeout bounds how long a hijacked connection is drained after its
// write side is closed, so unread request bytes do not turn the close into a
// TCP reset that destroys the page before the client reads it.
const lingerTimeout = 500 * time.Millisecond

// WriteError answers r with ALB's error page for code (spec §8.1):
// Server: awselb/2.0 (unless disabled), Content-Type: text/html, the exact
// Content-Length and, on HTTP/1.x, ALB's reason phrase. A 400 closes the
// connection, as observed on ALB. It returns the bytes sent, for the access
// log's sent_bytes (header bytes are estimated when net/http writes them).
func WriteError(w http.ResponseWriter, r *http.Request, code int, opts ResponseOptions) int64 {
	reason, body := opts.Page(code)
	return write(w, r, response{
		code:        code,
		reason:      reason,
		contentType: "text/html",
		body:        body,
		close:       code == http.StatusBadRequest, // [OBS] spec §8.1: 400 has Connection: close
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

// write sends resp. On HTTP/1.x, when ALB's reason phrase differs from the one
// net/http would write, it hijacks the connection to write the exact status
// line and closes the connection afterwards.
func write(w http.ResponseWriter, r *http.Request, resp response, opts ResponseOptions) int64 {
	if r.ProtoMajor == 1 && !opts.StandardReasonPhrase && resp.reason != goReason(resp.code) {
		if n, ok := writeHijacked(w, r, resp, opts); ok {
			return n
		}
	}
	h := w.Header()
	if !opts.DisableServerHeader {
		h.Set("Server", alb.ServerHeader)
	}
	if resp.contentType != "" {
		h.Set("Content-Type", resp.contentType)
	} else {
		h["Content-Type"] = nil // stop net/http from sniffing one
	}
	h.Set("Content-Length", strconv.Itoa(len(resp.body)))
	if resp.location != "" {
		h.Set("Location", resp.location)
	}
	if resp.close && r.ProtoMajor == 1 {
		h.Set("Connection", "close")
	}
	w.WriteHeader(resp.code)
	n := int64(estimateHeaderBytes(goReason(resp.code), h))
	if r.Method != http.MethodHead {
		m, _ := w.Write(resp.body)
		n += int64(m)
	}
	return n
}

// goReason is the phrase net/http writes on an HTTP/1.x status line.
func goReason(code int) string {
	if t := http.StatusText(code); t != "" {
		return t
	}
	return "status code " + strconv.Itoa(code)
}

// writeHijacked writes resp byte for byte on the hijacked connection and
// closes it. ok is false when the writer cannot be hijacked (nothing was
// written then).
func writeHijacked(w http.ResponseWriter, r *http.Request, resp response, opts ResponseOptions) (int64, bool) {
	conn, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return 0, false
	}
	raw := appendRaw(nil, r, resp, w.Header(), opts)
	_ = conn.SetWriteDeadline(time.Now().Add(hijackWriteTimeout))
	n, _ := conn.Write(raw)
	go lingerClose(conn, brw.Reader)
	return int64(n), true
}

// appendRaw renders an HTTP/1.1 response in the header order of ALB's
// captures (spec §8.2): Server, Date, Content-Type, Content-Length,
// Connection, Location, then any headers the caller had already set on w.
func appendRaw(b []byte, r *http.Request, resp response, extra http.Header, opts ResponseOptions) []byte {
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
	b = append(b, "Content-Length: "...)
	b = strconv.AppendInt(b, int64(len(resp.body)), 10)
	b = append(b, "\r\nConnection: close\r\n"...)
	if resp.location != "" {
		b = append(b, "Location: "...)
		b = append(b, resp.location...)
		b = append(b, "\r\n"...)
	}
	for _, k := range slices.Sorted(maps.Keys(extra)) {
		vs := extra[k]
		switch http.CanonicalHeaderKey(k) {
		case "Server", "Date", "Content-Type", "Content-Length", "Connection", "Location", "Transfer-Encoding":
			continue
		}
		for _, v := range vs {
			b = append(b, k...)
			b = append(b, ": "...)
			b = append(b, v...)
			b = append(b, "\r\n"...)
		}
	}
	b = append(b, "\r\n"...)
	if r.Method != http.MethodHead {
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

// estimateHeaderBytes approximates the size of an HTTP/1.1 response header
// block as net/http writes it (it adds Date itself), for sent_bytes.
func estimateHeaderBytes(reason string, h http.Header) int {
	n := len("HTTP/1.1 000 \r\n") + len(reason) + len("Date: Mon, 02 Jan 2006 15:04:05 GMT\r\n") + 2
	for k, vs := range h {
		for _, v := range vs {
			n += len(k) + 2 + len(v) + 2
		}
	}
	return n
}
