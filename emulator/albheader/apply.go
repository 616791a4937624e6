package albheader

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/http/httpguts"

	"github.com/albmtls/albmtls/emulator/alb"
	"github.com/albmtls/albmtls/emulator/connfacts"
	"github.com/albmtls/albmtls/internal/headerline"
)

// Mutual-authentication modes of a listener (alb-behaviour §1.1), as Conn.Mode spells
// them.
const (
	ModeOff         = "off"
	ModePassthrough = "passthrough"
	ModeVerify      = "verify"
)

// Conn is what the listener knows about a client connection; every request
// on the connection gets headers built from it.
type Conn struct {
	// Mode is ModeOff, ModePassthrough or ModeVerify; anything else is off.
	Mode string
	// Cert is the client certificate, formatted once per connection
	// (connfacts.NewCert); nil when the client sent none.
	Cert *connfacts.Cert
	// TLS is what the handshake negotiated; the zero value on plain HTTP.
	TLS connfacts.TLS
	// Client is the client's address and source port.
	Client netip.AddrPort
	// ListenerPort is the port the client connected to.
	ListenerPort int
	// Scheme is "http" or "https", the client's protocol.
	Scheme string
}

// ConnHeaders holds a connection's precomputed header values: certificate
// formatting is done once per connection, not per request.
type ConnHeaders struct {
	strip     []string // canonical names removed from every request
	variants  []string // canonical names whose folded spellings are removed
	dropBad   bool     // drop names outside [-A-Za-z0-9]+
	copies    Copies   // client copies of set headers (StripClientHeaders off)
	keys      []string // canonical names set from vals
	vals      []string
	xffMode   XFFMode
	xffClient string // client address as appended to X-Forwarded-For, "" if unknown
	proto     string
	port      string
	order     Order
	before    []string // ALB's order up to Host: X-Forwarded-*, then keys
	// lines is keys and vals as header lines, rendered at the first
	// ApplyLines; linesAlone says Apply's strip set removes every one of
	// keys from each request, so the map holds none of them once it ran.
	linesOnce  sync.Once
	lines      []byte
	linesAlone bool
}

// NewConnHeaders formats the per-connection values for c under opts.
//
// In verify mode they are the five X-Amzn-Mtls-Clientcert-* detail headers;
// in passthrough mode X-Amzn-Mtls-Clientcert with the chain, leaf first, and
// nothing when the client sent no certificate (inferred, alb-behaviour §10.3); in off
// mode none (alb-behaviour §4.1). The TLS headers follow when opts.TLSHeaders is set
// and the connection is TLS.
func NewConnHeaders(c *Conn, opts *Options) *ConnHeaders {
	p := preparedFor(opts) // the same for every connection of the listener
	ch := &ConnHeaders{
		strip:    p.strip,
		variants: p.variants,
		dropBad:  opts.DropInvalidHeaderFields,
		copies:   opts.ClientCopies,
		xffMode:  opts.XFFMode,
		proto:    c.Scheme,
		order:    opts.Order,
	}
	if ch.xffMode == "" {
		ch.xffMode = XFFAppend
	}
	if c.ListenerPort > 0 {
		ch.port = strconv.Itoa(c.ListenerPort)
	}
	if c.Client.Addr().IsValid() {
		addr := c.Client.Addr().Unmap().WithZone("")
		if opts.XFFClientPort { // netip prints [v6]:port, as ALB does (alb-behaviour §4.4)
			ch.xffClient = netip.AddrPortFrom(addr, c.Client.Port()).String()
		} else {
			ch.xffClient = addr.String()
		}
	}
	// ALB's order up to Host (alb-behaviour §4.1, Order): X-Forwarded-*,
	// then the connection's headers, which keys shares; at most five mTLS
	// and two TLS headers, so one allocation each for names and values.
	const maxConnHeaders = 7
	ch.before = make([]string, 0, 3+maxConnHeaders)
	ch.before = append(ch.before, XForwardedFor, XForwardedProto, XForwardedPort)
	ch.vals = make([]string, 0, maxConnHeaders)
	add := func(name, value string) {
		ch.before = append(ch.before, name)
		ch.vals = append(ch.vals, value)
	}
	switch cert := c.Cert; {
	case cert == nil:
	case c.Mode == ModeVerify:
		if cert.Leaf != nil { // an unparseable leaf: no headers
			// Spec §4.1; header order as in the EID capture.
			add(p.serial, cert.Serial)
			add(p.issuer, cert.Issuer())
			add(p.subject, cert.Subject)
			add(p.validity, cert.Validity)
			add(p.leaf, cert.LeafPEMURL(opts.Equals))
		}
	case c.Mode == ModePassthrough:
		if len(cert.Chain) > 0 {
			add(p.clientCert, cert.ChainPEMURL(opts.Equals))
		}
	}
	if opts.TLSHeaders && c.TLS.Version != 0 {
		// OpenSSL-style names, as ALB writes them in these headers and in
		// its logs (alb-behaviour §4.2).
		add(p.tlsVersion, c.TLS.Protocol)
		add(p.tlsCipher, c.TLS.Cipher)
	}
	ch.keys = ch.before[3:len(ch.before):len(ch.before)]
	return ch
}

// renderLines computes lines and linesAlone, once per connection and only
// for connections whose requests take ApplyLines.
func (ch *ConnHeaders) renderLines() {
	ch.linesAlone = true
	for i, k := range ch.keys {
		ch.lines = appendLine(ch.lines, k, ch.vals[i])
		ch.linesAlone = ch.linesAlone && ch.strips(k)
	}
}

// appendLine appends the header line "k: v\r\n" as net/http's Header.Write
// writes it: v without surrounding whitespace (space, tab, CR, LF), a CR
// or LF within it turned into a space; nothing when k is not a valid
// field name, which Header.Write would not write either.
func appendLine(b []byte, k, v string) []byte {
	if !httpguts.ValidHeaderFieldName(k) {
		return b
	}
	b = append(b, k...)
	b = append(b, ": "...)
	b = headerline.AppendValue(b, v)
	return append(b, "\r\n"...)
}

// Apply builds the headers of one request for c; it is NewConnHeaders and
// ConnHeaders.Apply in one call, for connections that carry one request.
func Apply(h http.Header, c *Conn, opts *Options, now time.Time, rnd io.Reader) error {
	return NewConnHeaders(c, opts).Apply(h, now, rnd)
}

// traceRewriteSize is the size of request headers beyond which ALB replaces
// X-Amzn-Trace-Id with a fresh Root (alb-behaviour §4.4).
const traceRewriteSize = alb.TraceRewriteHeaderSize

// Apply rewrites the headers of a request about to be forwarded, in ALB's
// order: remove client-sent mTLS/TLS headers (when stripping is on), set the
// connection's mTLS and TLS headers, then X-Forwarded-For, -Proto, -Port and
// X-Amzn-Trace-Id. now dates a new trace id and rnd supplies its 12 random
// bytes (crypto/rand when nil); an error means rnd failed.
func (ch *ConnHeaders) Apply(h http.Header, now time.Time, rnd io.Reader) error {
	return ch.apply(h, now, rnd, true)
}

// apply is Apply; conn false leaves the connection's headers out of h.
func (ch *ConnHeaders) apply(h http.Header, now time.Time, rnd io.Reader, conn bool) error {
	// The trace id is from the request as the client sent it: its size
	// (TraceValue's) is summed in the pass that strips.
	incoming, size := h[TraceID], 0
	for k, vs := range h {
		size += fieldSize(k, vs)
		if ch.strips(k) {
			delete(h, k)
		}
	}
	id, err := traceValue(incoming, size > traceRewriteSize, now, rnd)
	if err != nil {
		return err
	}
	if !conn && !ch.linesAlone {
		for _, k := range ch.keys {
			delete(h, k) // the client's copy, which Apply would replace
		}
	}
	// One allocation holds every value Apply sets: the connection's
	// headers, then X-Forwarded-For, -Proto, -Port and the trace id.
	n := 0
	if conn {
		n = len(ch.vals)
	}
	vals := make([]string, n, n+4)
	copy(vals, ch.vals)
	for i, k := range ch.keys[:n] {
		if old := h[k]; len(old) > 0 && (ch.copies == CopiesClientFirst || ch.copies == CopiesClientLast) {
			// Only reachable with stripping off: both lines go on.
			if ch.copies == CopiesClientFirst {
				h[k] = append(old[:len(old):len(old)], vals[i])
			} else {
				h[k] = append([]string{vals[i]}, old...)
			}
			continue
		}
		h[k] = vals[i : i+1 : i+1]
	}
	set := func(k, v string) {
		vals = append(vals, v)
		h[k] = vals[len(vals)-1 : len(vals) : len(vals)]
	}
	switch ch.xffMode {
	case XFFAppend:
		if ch.xffClient != "" {
			set(XForwardedFor, appendXFF(h[XForwardedFor], ch.xffClient))
		}
	case XFFRemove:
		delete(h, XForwardedFor)
	}
	if ch.proto != "" {
		set(XForwardedProto, ch.proto)
	}
	if ch.port != "" {
		set(XForwardedPort, ch.port)
	}
	set(TraceID, id)
	return nil
}

// ApplyLines is Apply for a writer of raw request heads in ALB's order
// (Order): the connection's headers, the mTLS and TLS ones, do not go into
// h; they are returned as header lines, rendered once per connection, to
// be written where Order puts them, ahead of Host. lines is nil when they
// went into h after all: the client's copies of them stay beside them
// (StripClientHeaders off with ClientCopies first or last).
func (ch *ConnHeaders) ApplyLines(h http.Header, now time.Time, rnd io.Reader) (lines []byte, err error) {
	ch.linesOnce.Do(ch.renderLines)
	if !ch.linesAlone && (ch.copies == CopiesClientFirst || ch.copies == CopiesClientLast) {
		return nil, ch.Apply(h, now, rnd)
	}
	return ch.lines, ch.apply(h, now, rnd, false)
}

// strips reports whether a request header named k is removed: an exact
// name of the strip set (in any case: keys from net/http are canonical, but
// code may set others), a spelling a CGI-style target folds onto a name the
// emulator owns, or, with drop_invalid_header_fields, any name outside
// [-A-Za-z0-9]+.
func (ch *ConnHeaders) strips(k string) bool {
	for _, s := range ch.strip {
		if len(s) == len(k) && strings.EqualFold(s, k) {
			return true
		}
	}
	if ch.dropBad && !validFieldName(k) {
		return true
	}
	for _, s := range ch.variants {
		// The exact name of a header outside the strip set (X-Forwarded-For)
		// keeps its own processing; only other spellings go.
		if foldEqual(s, k) && !strings.EqualFold(s, k) {
			return true
		}
	}
	return false
}

// appendXFF adds client to the incoming X-Forwarded-For lines: "a, b, client"
// (comma and space, alb-behaviour §4.4).
func appendXFF(incoming []string, client string) string {
	n := len(client)
	for _, v := range incoming {
		if v = strings.TrimSpace(v); v != "" {
			n += len(v) + 2
		}
	}
	var b strings.Builder
	b.Grow(n)
	for _, v := range incoming {
		if v = strings.TrimSpace(v); v != "" {
			b.WriteString(v)
			b.WriteString(", ")
		}
	}
	b.WriteString(client)
	return b.String()
}

// XFFCount returns the number of addresses in a request's X-Forwarded-For
// lines. ALB answers 463 when a request carries more than 30 (alb-behaviour §4.4).
func XFFCount(h http.Header) int {
	n := 0
	for _, v := range h.Values(XForwardedFor) {
		for part := range strings.SplitSeq(v, ",") {
			if strings.TrimSpace(part) != "" {
				n++
			}
		}
	}
	return n
}

// MaxXFFAddresses is the most X-Forwarded-For addresses ALB accepts; above
// it the request gets HTTP 463 (alb-behaviour §4.4).
const MaxXFFAddresses = 30

// TraceValue is the X-Amzn-Trace-Id ALB writes for a request whose headers
// are h: the value a target receives and the access log's trace_id, also
// for requests that ALB answers itself (redirect, fixed-response, error
// pages). It and ConnHeaders.Apply (which sums the size in its strip
// pass) are the only places the rule is applied, with fieldSize, so a
// request with headers over 7 KB gets a fresh Root whichever action
// answers it.
func TraceValue(h http.Header, now time.Time, rnd io.Reader) (string, error) {
	size := 0
	for k, vs := range h {
		size += fieldSize(k, vs)
	}
	return traceValue(h[TraceID], size > traceRewriteSize, now, rnd)
}

// fieldSize is what a header field's lines add to the size compared with
// traceRewriteSize: "name: value\r\n" per value.
func fieldSize(k string, vs []string) (n int) {
	for _, v := range vs {
		n += len(k) + len(v) + 4
	}
	return n
}

// traceValue computes the forwarded X-Amzn-Trace-Id (alb-behaviour §4.4): a new Root
// when the request has none (or its headers exceed 7 KB), a Self inserted in
// front of an incoming Root, an incoming Self updated in place; other fields
// are kept. Only the first incoming line is read.
func traceValue(incoming []string, oversized bool, now time.Time, rnd io.Reader) (string, error) {
	var id [traceIDLen]byte
	if err := newTraceID(&id, now, rnd); err != nil {
		return "", err
	}
	in := ""
	if !oversized && len(incoming) > 0 {
		in = strings.TrimSpace(incoming[0])
	}
	hasRoot, hasSelf := false, false
	for f := range strings.SplitSeq(in, ";") {
		switch traceKey(f) {
		case "Root":
			hasRoot = true
		case "Self":
			hasSelf = true
		}
	}
	var b strings.Builder
	b.Grow(len("Self=;") + traceIDLen + len(in))
	if !hasSelf {
		if hasRoot {
			b.WriteString("Self=")
		} else { // no header, or custom fields only: they are kept [INF]
			b.WriteString("Root=")
		}
		b.Write(id[:])
	}
	for f := range strings.SplitSeq(in, ";") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(';')
		}
		if traceKey(f) == "Self" {
			b.WriteString("Self=")
			b.Write(id[:])
			continue
		}
		b.WriteString(f)
	}
	return b.String(), nil
}

// traceKey returns the field name of one "Key=value" trace field.
func traceKey(field string) string {
	k, _, _ := strings.Cut(field, "=")
	return strings.TrimSpace(k)
}

// traceIDLen is the length of "1-<8 hex>-<24 hex>".
const traceIDLen = 2 + 8 + 1 + 24

// newTraceID writes "1-<8 hex epoch seconds>-<24 hex random>" to id.
func newTraceID(id *[traceIDLen]byte, now time.Time, rnd io.Reader) error {
	var random [12]byte
	if rnd == nil {
		rand.Read(random[:]) // never fails (crypto/rand)
	} else if _, err := io.ReadFull(rnd, random[:]); err != nil {
		return fmt.Errorf("albheader: reading randomness for X-Amzn-Trace-Id: %w", err)
	}
	const hexDigits = "0123456789abcdef"
	id[0], id[1], id[10] = '1', '-', '-'
	secs := uint32(now.Unix())
	for i := 9; i >= 2; i-- {
		id[i] = hexDigits[secs&0xf]
		secs >>= 4
	}
	hex.Encode(id[11:], random[:])
	return nil
}
