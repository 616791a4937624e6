package conformance

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/albmtls/albmtls/emulator/certfmt"
	"github.com/albmtls/albmtls/emulator/sslpolicy"
)

// request is one connection and request, as a step describes it.
type request struct {
	base       string // https://host:port or http://host:port
	serverName string // SNI and the name the server certificate must carry
	cert       *tls.Certificate
	version    string // "1.2", "1.3" or "" for either
	roots      *x509.CertPool
	method     string
	path       string
	headers    [][2]string
	timeout    time.Duration // for each network step
}

// Outcomes of a connection (StepRecord.Handshake).
const (
	outcomeAccepted = "accepted"
	outcomeRejected = "rejected"
	outcomeError    = "error"
)

// outcome is what the client saw.
type outcome struct {
	local         netip.AddrPort
	handshake     string
	err           string
	certRequested bool
	acceptableCAs []string
	version       string // ALB's spelling, e.g. TLSv1.3
	cipher        string
	status        int
	header        http.Header
	body          []byte
	echo          *echoReply
}

// maxBody bounds what is read of a response body.
const maxBody = 1 << 20

// send connects, handshakes and sends one request on a fresh connection,
// with a deadline on every network step. A rejected TLS 1.3 client sees its
// handshake succeed and the reset (or alert) on its first read (alb-behaviour §2.3);
// both count as "rejected". Connection failures, timeouts and an untrusted
// server certificate are "error": they say nothing about the load
// balancer's decision.
func send(ctx context.Context, r request) outcome {
	var o outcome
	u, err := url.Parse(r.base)
	if err != nil {
		return outcome{handshake: outcomeError, err: err.Error()}
	}
	d := net.Dialer{Timeout: r.timeout}
	raw, err := d.DialContext(ctx, "tcp", u.Host)
	if err != nil {
		return outcome{handshake: outcomeError, err: fmt.Sprintf("cannot connect to %s: %v", u.Host, unwrapOp(err))}
	}
	defer raw.Close()
	if a, ok := raw.LocalAddr().(*net.TCPAddr); ok {
		o.local = a.AddrPort()
	}
	stop := context.AfterFunc(ctx, func() { _ = raw.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	var conn net.Conn = raw
	if u.Scheme == "https" {
		tc := tls.Client(raw, r.tlsConfig(&o))
		_ = raw.SetDeadline(time.Now().Add(r.timeout))
		if err := tc.Handshake(); err != nil {
			var cve *tls.CertificateVerificationError
			switch {
			case errors.As(err, &cve):
				o.handshake = outcomeError
				o.err = fmt.Sprintf("the server's certificate is not trusted for %q: %v (the harness trusts the PKI's CA bundle and the system roots; use --pki with the PKI the target's certificate comes from)", r.serverName, cve.Err)
			case isTimeout(err):
				o.handshake = outcomeError
				o.err = fmt.Sprintf("the TLS handshake did not complete within %s", r.timeout)
			default:
				o.handshake = outcomeRejected
				o.err = "TLS handshake: " + unwrapOp(err).Error()
			}
			return o
		}
		cs := tc.ConnectionState()
		o.version, o.cipher = sslpolicy.VersionName(cs.Version), sslpolicy.CipherName(cs.CipherSuite)
		conn = tc
	}

	req, err := http.NewRequestWithContext(ctx, r.method, r.base+r.path, nil)
	if err != nil {
		return outcome{handshake: outcomeError, err: err.Error()}
	}
	for _, h := range r.headers {
		req.Header.Add(h[0], h[1])
	}
	req.Close = true
	_ = raw.SetDeadline(time.Now().Add(r.timeout))
	if err := req.Write(conn); err != nil {
		if isTimeout(err) {
			o.handshake, o.err = outcomeError, fmt.Sprintf("sending the request did not complete within %s", r.timeout)
			return o
		}
		o.handshake, o.err = outcomeRejected, "sending the request: "+unwrapOp(err).Error()
		return o
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), req)
	if err != nil {
		if isTimeout(err) {
			o.handshake, o.err = outcomeError, fmt.Sprintf("no response within %s", r.timeout)
			return o
		}
		o.handshake, o.err = outcomeRejected, "reading the response: "+unwrapOp(err).Error()
		return o
	}
	defer resp.Body.Close()
	o.handshake, o.status, o.header = outcomeAccepted, resp.StatusCode, resp.Header
	o.body, err = io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		o.err = "reading the response body: " + unwrapOp(err).Error()
	}
	o.echo = decodeEcho(o.body)
	return o
}

func (r request) tlsConfig(o *outcome) *tls.Config {
	cfg := &tls.Config{
		RootCAs:    r.roots,
		ServerName: r.serverName,
		MinVersion: tls.VersionTLS12,
		MaxVersion: tls.VersionTLS13,
		NextProtos: []string{"http/1.1"},
		GetClientCertificate: func(cri *tls.CertificateRequestInfo) (*tls.Certificate, error) {
			o.certRequested = true
			for _, raw := range cri.AcceptableCAs {
				dn, err := certfmt.DN(raw)
				if err != nil {
					dn = fmt.Sprintf("(unparseable name: %v)", err)
				}
				o.acceptableCAs = append(o.acceptableCAs, dn)
			}
			if r.cert == nil {
				return &tls.Certificate{}, nil
			}
			return r.cert, nil
		},
	}
	switch r.version {
	case "1.2":
		cfg.MaxVersion = tls.VersionTLS12
	case "1.3":
		cfg.MinVersion = tls.VersionTLS13
	}
	return cfg
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout() || errors.Is(err, os.ErrDeadlineExceeded)
}

// unwrapOp drops net.OpError's address noise ("read tcp 127.0.0.1:1->…:")
// but keeps the cause, e.g. "connection reset by peer".
func unwrapOp(err error) error {
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		return op.Err
	}
	return err
}

// summary describes an outcome in a few words for the "seen" column.
func (o outcome) summary() string {
	switch o.handshake {
	case outcomeAccepted:
		return fmt.Sprintf("accepted (HTTP %d)", o.status)
	case outcomeRejected:
		return "rejected (" + o.err + ")"
	}
	return "error (" + o.err + ")"
}

// bodyExcerpt is the start of the body for the report.
func (o outcome) bodyExcerpt() string {
	const n = 600
	b := string(o.body)
	if len(b) > n {
		b = b[:n] + "…"
	}
	return strings.ToValidUTF8(b, "?")
}
