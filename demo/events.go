package demo

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/albmtls/albmtls/emulator"
	"github.com/albmtls/albmtls/emulator/verify"
)

// eventPrinter turns the emulator's connection and request events into one
// readable line per connection attempt or request:
//
//	12:01:02  valid                Success                        → web-2 200  GET /
//	12:01:03  revoked              Failed:ClientCertCrlHit        → connection reset
//	12:01:04  http                 redirect                       → 301 https://localhost:8443/
//
// A connection that passes the handshake is remembered by its
// conn_trace_id until its requests arrive (the access log carries the same
// ID), so the line names the certificate, the target and the status.
type eventPrinter struct {
	w       io.Writer
	color   bool
	now     func() time.Time
	names   map[string]string // serial → client name
	targets map[string]string // host:port → backend name
	https   int               // listener index of the HTTPS listener

	mu      sync.Mutex
	pending map[string]pendingConn // by conn_trace_id
	order   []string               // insertion order, to bound pending
}

// pendingConn is a connection that passed its handshake.
type pendingConn struct {
	who, status string
	requests    int // seen so far
}

// maxPending bounds the remembered connections (keep-alive clients may
// send many requests on one, or none).
const maxPending = 4096

const (
	whoWidth    = 20
	statusWidth = 38
)

func (p *eventPrinter) onConnection(ev emulator.ConnectionEvent) {
	who := p.who(ev)
	if ev.ListenerIndex == p.https && ev.Code != verify.Success {
		status := ev.Entry.VerifyStatus
		if status == "" {
			status = "Failed"
		}
		// A rejected client (a certificate that fails, or none in verify
		// mode) has its handshake completed and is then reset
		// (emulation.reject_with's default); without a completed
		// handshake the client gave up or could not agree on TLS.
		end := "connection reset"
		switch alert, kind := classifyFailure(ev); kind {
		case clientRefusedServer:
			// The client's certificate was never sent: not "no certificate".
			who = "-"
			end = "client refused the server certificate (" + alert + "), before sending its own: trust ca/root.pem in the client"
		case closedDuringHandshake:
			who = "-"
			end = "speculative connection: closed by the client during the handshake, no TLS error (browsers open spares)"
		case otherFailure:
			if ev.Entry.TLSProtocol == "" {
				end = "handshake failed: " + ev.Reason
			}
		}
		p.print(who, status, false, end)
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.pending[ev.Entry.TraceID]; !ok {
		p.order = append(p.order, ev.Entry.TraceID)
	}
	p.pending[ev.Entry.TraceID] = pendingConn{who: who, status: ev.Entry.VerifyStatus}
	for len(p.order) > maxPending {
		delete(p.pending, p.order[0])
		p.order = p.order[1:]
	}
}

func (p *eventPrinter) onRequest(ev emulator.RequestEvent) {
	e := ev.Entry
	p.mu.Lock()
	c, ok := p.pending[e.ConnTraceID]
	if ok {
		c.requests++
		p.pending[e.ConnTraceID] = c
	}
	p.mu.Unlock()
	if !ok {
		c = pendingConn{who: "?", status: "?"}
	}
	path := e.RequestURL
	if i := strings.Index(path, "://"); i >= 0 {
		if j := strings.IndexByte(path[i+3:], '/'); j >= 0 {
			path = path[i+3+j:]
		}
	}
	if ev.ListenerIndex != p.https {
		p.print(c.who, "redirect", true, fmt.Sprintf("%d %s", e.ELBStatusCode, e.RedirectURL))
		return
	}
	target := "load balancer"
	if e.Target.IsValid() {
		target = p.targets[e.Target.String()]
		if target == "" {
			target = e.Target.String()
		}
	}
	ok = e.ELBStatusCode < 400
	p.print(c.who, c.status, true, p.paint(fmt.Sprintf("%s %d", target, e.ELBStatusCode), ok)+"  "+e.RequestMethod+" "+path)
}

// failureKind sorts a failed HTTPS connection by what the client did.
type failureKind int

const (
	// otherFailure: the emulator refused the client (its certificate, or
	// none in verify mode) or the two could not agree on TLS.
	otherFailure failureKind = iota
	// clientRefusedServer: the client sent a certificate alert
	// (bad_certificate, unknown_ca, …) after the server's Certificate and
	// before its own: it did not trust the server certificate. Its own
	// certificate was never sent, so "no certificate" would mislead.
	clientRefusedServer
	// closedDuringHandshake: the client closed the connection (EOF or a
	// reset) without an alert before the handshake finished, as browsers
	// do with the spare connections they open speculatively, and as an
	// idle TCP connection that never sends a ClientHello does.
	closedDuringHandshake
)

// alertNames are the RFC 8446 names of the certificate alerts a client
// sends about the server's certificate, by crypto/tls's text for them.
var alertNames = map[string]string{
	"bad certificate":               "bad_certificate",
	"unsupported certificate":       "unsupported_certificate",
	"revoked certificate":           "certificate_revoked",
	"expired certificate":           "certificate_expired",
	"unknown certificate":           "certificate_unknown",
	"unknown certificate authority": "unknown_ca",
	"access denied":                 "access_denied",
	"handshake failure":             "handshake_failure",
	"decrypt error":                 "decrypt_error",
}

// classifyFailure reads what ended a failed handshake from the emulator's
// reason (crypto/tls's error: "remote error: tls: unknown certificate
// authority" for an alert the client sent, "EOF" for a close).
func classifyFailure(ev emulator.ConnectionEvent) (string, failureKind) {
	if ev.Entry.Subject != "" || ev.Code == "" || verify.Code(ev.Code) != verify.UnmappedConnectionError {
		return "", otherFailure // a certificate arrived, or the verifier decided
	}
	r := ev.Reason
	if i := strings.Index(r, "remote error: tls: "); i >= 0 {
		text := strings.TrimSpace(r[i+len("remote error: tls: "):])
		if name, ok := alertNames[text]; ok {
			if name == "handshake_failure" || name == "decrypt_error" {
				return name, otherFailure // not about the certificate
			}
			return "alert " + name, clientRefusedServer
		}
		return "", otherFailure
	}
	// OpenSSL (and so curl) refuses the server certificate in TLS 1.3 with
	// an alert in clear, sent before it switches to the handshake keys;
	// the server, already reading with those keys, sees a bad record MAC.
	if strings.HasSuffix(r, "local error: tls: bad record MAC") && ev.Entry.TLSProtocol == "TLSv1.3" {
		return "an alert sent in clear, as OpenSSL does, read as bad record MAC", clientRefusedServer
	}
	for _, closed := range []string{"EOF", "connection reset by peer", "broken pipe"} {
		if strings.HasSuffix(r, closed) {
			return "", closedDuringHandshake
		}
	}
	return "", otherFailure
}

// onClosed prints the connections that closed without a request: browsers
// open spare connections speculatively (preconnect, a second connection
// while the first waits for the certificate choice) and close them unused.
func (p *eventPrinter) onClosed(ev emulator.ConnectionClosedEvent) {
	p.mu.Lock()
	c, ok := p.pending[ev.TraceID]
	delete(p.pending, ev.TraceID) // order keeps the ID; eviction skips it
	p.mu.Unlock()
	if ok && c.requests == 0 {
		p.print(c.who, c.status, true, "speculative connection: closed without a request")
	}
}

// who names the client: the PKI's name for a known serial, with the CN.
func (p *eventPrinter) who(ev emulator.ConnectionEvent) string {
	if ev.Entry.TLSProtocol == "" && ev.Code == "" {
		return "http"
	}
	subject := ev.Entry.Subject
	if subject == "" {
		return "no certificate"
	}
	cn := firstRDN(subject)
	if name, ok := p.names[ev.Entry.Serial]; ok {
		if cn == "CN="+name { // the PKI's clients are named after their CN
			return name
		}
		return name + " (" + cn + ")"
	}
	return subject
}

// firstRDN returns the first attribute of an RFC 2253 subject, up to the
// first comma that is not escaped.
func firstRDN(subject string) string {
	for i := 0; i < len(subject); i++ {
		switch subject[i] {
		case '\\':
			i++ // skip the escaped character
		case ',':
			return subject[:i]
		}
	}
	return subject
}

func (p *eventPrinter) print(who, status string, ok bool, rest string) {
	line := fmt.Sprintf("%s  %-*s %s → %s\n", p.now().Format("15:04:05"), whoWidth, who,
		p.paint(fmt.Sprintf("%-*s", statusWidth, status), ok), rest)
	p.mu.Lock()
	defer p.mu.Unlock()
	_, _ = io.WriteString(p.w, line)
}

// paint colours s green (ok) or red, when colour is on.
func (p *eventPrinter) paint(s string, ok bool) string {
	if !p.color {
		return s
	}
	if ok {
		return "\x1b[32m" + s + "\x1b[0m"
	}
	return "\x1b[31m" + s + "\x1b[0m"
}
