package http1

import (
	"bufio"
	"errors"
	"net"
	"net/http"
	"net/textproto"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/net/http/httpguts"

	"github.com/albmtls/albmtls/internal/headerline"
)

// response is the http.ResponseWriter of one request: the head is written
// at the first flush or when the handler returns; a response that fits in
// the buffer and has no Content-Length gets one, as net/http does; a
// longer one is chunked (HTTP/1.1) or ends with the connection (HTTP/1.0).
type response struct {
	c           *conn
	r           *http.Request
	header      http.Header
	status      int
	wroteHeader bool // WriteHeader called with a final status
	committed   bool // head on the wire
	chunked     bool
	closeAfter  bool
	noBody      bool
	raw         bool // sent whole by WriteRaw
	buf         []byte
	keys        []string
	declared    []string // trailer names the Trailer header declared at commit
	// fields is the head given by WriteHeaderFields, when byFields: the
	// header lines in the order given, instead of the header map.
	fields   []headerline.Field
	byFields bool
}

const bufLimit = 4096

func (w *response) reset(c *conn, r *http.Request) {
	h := w.header
	if h == nil {
		h = make(http.Header, 8)
	} else {
		clear(h)
	}
	*w = response{c: c, r: r, header: h, buf: w.buf[:0], keys: w.keys[:0], declared: w.declared[:0], fields: w.fields[:0], closeAfter: r.Close}
}

// WriteHeaderFields is WriteHeader with the head's header fields given as
// lines instead of set in the header map (the direct forward's relay of a
// target's response: no map to fill, iterate and clear per request). The
// head written is the one the map would give: the same fields, sorted by
// name as net/http writes them, each name's values in the order given.
// It declines (false, nothing done) when the map already holds headers,
// a status was written, or a field is Trailer (declared trailers go
// through the map); fields is copied.
func (w *response) WriteHeaderFields(status int, fields []headerline.Field) bool {
	if w.wroteHeader || len(w.header) > 0 || status < 200 {
		return false
	}
	for _, f := range fields {
		if f.Name == "Trailer" {
			return false
		}
	}
	w.fields = append(w.fields[:0], fields...)
	w.byFields = true
	w.WriteHeader(status)
	return true
}

// values returns the values of the field named k (canonical), from the
// fields or the map.
func (w *response) values(k string) []string {
	if !w.byFields {
		return w.header[k]
	}
	var vs []string
	for _, f := range w.fields {
		if f.Name == k {
			vs = append(vs, f.Value)
		}
	}
	return vs
}

// has reports whether the head has a field named k.
func (w *response) has(k string) bool {
	if !w.byFields {
		_, ok := w.header[k]
		return ok
	}
	for _, f := range w.fields {
		if f.Name == k {
			return true
		}
	}
	return false
}

// set makes v the only value of the field named k.
func (w *response) set(k, v string) {
	if !w.byFields {
		w.header[k] = []string{v}
		return
	}
	w.fields = slices.DeleteFunc(w.fields, func(f headerline.Field) bool { return f.Name == k })
	w.fields = append(w.fields, headerline.Field{Name: k, Value: v})
}

func (w *response) Header() http.Header { return w.header }

func (w *response) WriteHeader(code int) {
	if w.wroteHeader {
		return
	}
	if code >= 100 && code < 200 && code != http.StatusSwitchingProtocols {
		// An informational response goes out at once (103 Early Hints).
		b := w.c.bw
		b.WriteString("HTTP/1.1 ")
		b.WriteString(strconv.Itoa(code))
		b.WriteString(" " + http.StatusText(code) + "\r\n")
		w.writeFields(false)
		b.WriteString("\r\n")
		_ = b.Flush()
		return
	}
	w.wroteHeader, w.status = true, code
	w.noBody = w.r.Method == http.MethodHead || code == http.StatusNoContent || code == http.StatusNotModified
}

func (w *response) Write(p []byte) (int, error) {
	if w.raw {
		return 0, http.ErrBodyNotAllowed
	}
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if w.noBody {
		return len(p), nil
	}
	if !w.committed {
		if len(w.buf)+len(p) <= bufLimit {
			w.buf = append(w.buf, p...)
			return len(p), nil
		}
		w.commit(false)
	}
	return w.writeBody(p)
}

func (w *response) writeBody(p []byte) (int, error) {
	b := w.c.bw
	if w.chunked {
		if len(p) == 0 {
			return 0, nil
		}
		b.WriteString(strconv.FormatInt(int64(len(p)), 16))
		b.WriteString("\r\n")
		n, err := b.Write(p)
		b.WriteString("\r\n")
		return n, err
	}
	return b.Write(p)
}

// Flush sends the head and what is buffered.
func (w *response) Flush() { _ = w.FlushError() }

// FlushError is Flush for http.ResponseController.
func (w *response) FlushError() error {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if !w.committed {
		w.commit(false)
	}
	return w.c.bw.Flush()
}

// SetReadDeadline and SetWriteDeadline are http.ResponseController's.
func (w *response) SetReadDeadline(t time.Time) error {
	w.c.idleSet = 0 // the idle wait must set its own again
	return w.c.nc.SetReadDeadline(t)
}
func (w *response) SetWriteDeadline(t time.Time) error { return w.c.nc.SetWriteDeadline(t) }

// commit writes the status line and headers; final says the handler
// returned, so the buffered body is the whole body.
func (w *response) commit(final bool) {
	w.committed = true
	h := w.header
	if w.byFields && len(h) > 0 {
		// The handler set headers after WriteHeaderFields: the fields go
		// into the map with them.
		for _, f := range w.fields {
			h[f.Name] = append(h[f.Name], f.Value)
		}
		w.byFields = false
	}
	if hasToken(w.values("Connection"), "close") {
		w.closeAfter = true
	}
	if w.c.srv.shutdown.Load() {
		w.closeAfter = true
	}
	hasCL := w.has("Content-Length")
	for _, v := range h["Trailer"] { // never set by fields (WriteHeaderFields)
		for k := range strings.SplitSeq(v, ",") {
			if k = textproto.TrimString(k); k != "" {
				w.declared = append(w.declared, textproto.CanonicalMIMEHeaderKey(k))
			}
		}
	}
	if !w.noBody && !hasCL {
		// Declared trailers need a chunked body, as in net/http.
		if final && len(w.declared) == 0 {
			if w.status != http.StatusNoContent && w.status != http.StatusNotModified {
				w.set("Content-Length", strconv.Itoa(len(w.buf)))
			}
		} else if w.r.ProtoAtLeast(1, 1) {
			w.chunked = true
			w.set("Transfer-Encoding", "chunked")
		} else {
			w.closeAfter = true
		}
	}
	if w.noBody && w.r.Method == http.MethodHead && !hasCL && final && len(w.buf) > 0 {
		w.set("Content-Length", strconv.Itoa(len(w.buf)))
	}
	if w.closeAfter {
		w.set("Connection", "close")
	} else if w.r.ProtoMinor == 0 {
		w.set("Connection", "keep-alive")
	}
	b := w.c.bw
	b.WriteString("HTTP/1.1 ")
	var num [20]byte
	b.Write(strconv.AppendInt(num[:0], int64(w.status), 10))
	b.WriteByte(' ')
	if t := http.StatusText(w.status); t != "" {
		b.WriteString(t)
	} else {
		b.WriteString("status code " + strconv.Itoa(w.status))
	}
	b.WriteString("\r\n")
	if !w.has("Date") {
		b.WriteString("Date: ")
		b.Write(w.c.date(time.Now()))
		b.WriteString("\r\n")
	}
	w.writeFields(true)
	b.WriteString("\r\n")
	if len(w.buf) > 0 {
		p := w.buf
		w.buf = w.buf[:0]
		_, _ = w.writeBody(p)
	}
}

// date returns the Date header value for now, formatted once per second
// on the connection: kept-alive requests within a second share it.
func (c *conn) date(now time.Time) []byte {
	if sec := now.Unix(); sec != c.dateSec || c.dateBuf == nil {
		c.dateSec = sec
		c.dateBuf = now.UTC().AppendFormat(c.dateBuf[:0], http.TimeFormat)
	}
	return c.dateBuf
}

// writeFields writes the header map in net/http's order (sorted by
// name), leaving out nil entries (a nil Date asks for none); or the
// fields given by WriteHeaderFields, in the same order.
func (w *response) writeFields(_ bool) {
	if w.byFields {
		slices.SortStableFunc(w.fields, func(a, b headerline.Field) int { return strings.Compare(a.Name, b.Name) })
		b := w.c.bw
		for _, f := range w.fields {
			b.WriteString(f.Name)
			b.WriteString(": ")
			b.WriteString(f.Value)
			b.WriteString("\r\n")
		}
		return
	}
	w.keys = w.keys[:0]
	for k, vs := range w.header {
		if vs != nil && !strings.HasPrefix(k, http.TrailerPrefix) {
			w.keys = append(w.keys, k)
		}
	}
	slices.Sort(w.keys)
	b := w.c.bw
	for _, k := range w.keys {
		for _, v := range w.header[k] {
			b.WriteString(k)
			b.WriteString(": ")
			b.WriteString(v)
			b.WriteString("\r\n")
		}
	}
}

// Hijack hands the connection to the handler, as net/http's Hijacker does
// (ReverseProxy's upgrade relay: WebSocket and other Upgrade exchanges):
// what the client sent beyond the head is in the returned reader, and the
// front end neither writes nor reads the connection again, nor closes it.
func (w *response) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if w.c.hijacked {
		return nil, nil, http.ErrHijacked
	}
	if w.committed {
		return nil, nil, errors.New("http1: Hijack after the response head was written")
	}
	w.c.hijacked = true
	w.committed, w.raw = true, true
	w.c.idleSet = 0
	_ = w.c.nc.SetDeadline(time.Time{})
	w.c.setState(http.StateHijacked)
	return w.c.nc, bufio.NewReadWriter(w.c.br, w.c.bw), nil
}

// WriteRaw sends a whole response as bytes (albresponse.RawWriter: ALB's
// own pages, byte for byte as on the net/http path); keepAlive false
// closes the connection after it.
func (w *response) WriteRaw(b []byte, keepAlive bool) int64 {
	if w.committed {
		return 0
	}
	w.wroteHeader, w.committed, w.raw = true, true, true
	if !keepAlive {
		w.closeAfter = true
		w.c.linger = true
	}
	n, _ := w.c.bw.Write(b)
	return int64(n)
}

// finish completes the response once the handler returned.
func (w *response) finish() {
	if w.c.hijacked {
		return
	}
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if !w.committed {
		w.commit(true)
	}
	if w.chunked {
		w.c.bw.WriteString("0\r\n")
		w.writeTrailers()
		w.c.bw.WriteString("\r\n")
	}
	_ = w.c.bw.Flush()
}

// writeTrailers writes the trailer fields as net/http does: the names the
// Trailer header declared, with the values the handler set after the
// head went out, then those it set under http.TrailerPrefix.
func (w *response) writeTrailers() {
	b := w.c.bw
	put := func(k string, vs []string) {
		if !httpguts.ValidHeaderFieldName(k) {
			return
		}
		for _, v := range vs {
			b.WriteString(k)
			b.WriteString(": ")
			b.WriteString(strings.NewReplacer("\r", " ", "\n", " ").Replace(v))
			b.WriteString("\r\n")
		}
	}
	for _, k := range w.declared {
		put(k, w.header[k])
	}
	w.keys = w.keys[:0]
	for k := range w.header {
		if strings.HasPrefix(k, http.TrailerPrefix) {
			w.keys = append(w.keys, k)
		}
	}
	slices.Sort(w.keys)
	for _, k := range w.keys {
		put(strings.TrimPrefix(k, http.TrailerPrefix), w.header[k])
	}
}
