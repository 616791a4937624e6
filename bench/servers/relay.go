package servers

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"sync"
)

// Relay is the keep-alive floor of a Go mTLS proxy: it terminates TLS with
// crypto/tls on Go's network poller, as albmtls does, and relays each
// HTTP/1.1 request of a kept-alive connection to a backend connection of
// its own, adding the same client-certificate and forwarding headers as
// the proxies of the comparison, with no more work than that: request
// heads copied line by line (no header map, no validation), the response
// read to its Content-Length and written back in one record, nothing
// logged, nothing routed. It serves only what the comparison sends
// (requests without a body, responses with a Content-Length) and closes
// the connection on anything else. The gap between albmtls and it is what
// albmtls's HTTP handling costs; the gap between it and nginx is what Go's
// runtime and crypto/tls cost on the same system calls.
func Relay(ctx context.Context, ln net.Listener, tc *tls.Config, backend string) error {
	tl := tls.NewListener(ln, tc)
	var wg sync.WaitGroup
	stop := context.AfterFunc(ctx, func() { _ = tl.Close() })
	defer stop()
	var err error
	for {
		var c net.Conn
		c, err = tl.Accept()
		if err != nil {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			relayConn(ctx, c.(*tls.Conn), backend)
		}()
	}
	wg.Wait()
	if ctx.Err() != nil {
		return nil
	}
	return err
}

var errRelayUnsupported = errors.New("relay: request or response the relay does not serve")

func relayConn(ctx context.Context, c *tls.Conn, backend string) {
	defer c.Close()
	if err := c.HandshakeContext(ctx); err != nil {
		return
	}
	host, _, _ := net.SplitHostPort(c.RemoteAddr().String())
	_, lport, _ := net.SplitHostPort(c.LocalAddr().String())
	var extra []byte
	if st := c.ConnectionState(); len(st.PeerCertificates) > 0 {
		leaf := st.PeerCertificates[0]
		extra = fmt.Appendf(extra, "%s: %s\r\n%s: %s\r\n", SubjectHeader, leaf.Subject.String(),
			LeafHeader, url.QueryEscape(string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leaf.Raw}))))
	}
	extra = fmt.Appendf(extra, "X-Forwarded-For: %s\r\nX-Forwarded-Proto: https\r\nX-Forwarded-Port: %s\r\n", host, lport)
	var d net.Dialer
	b, err := d.DialContext(ctx, "tcp", backend)
	if err != nil {
		return
	}
	defer b.Close()
	cr := bufio.NewReaderSize(c, 8<<10)
	br := bufio.NewReaderSize(b, 8<<10)
	out := make([]byte, 0, 8<<10)
	var id uint64
	for {
		out, err = relayRequest(cr, out[:0], extra, &id)
		if err != nil {
			return
		}
		if _, err := b.Write(out); err != nil {
			return
		}
		out, err = relayResponse(br, out[:0])
		if err != nil {
			return
		}
		if _, err := c.Write(out); err != nil {
			return
		}
	}
}

// relayRequest appends the next request head from r to out with the
// connection's extra headers and a trace id.
func relayRequest(r *bufio.Reader, out, extra []byte, id *uint64) ([]byte, error) {
	for first := true; ; first = false {
		line, err := r.ReadSlice('\n')
		if err != nil {
			return out, err
		}
		if len(line) <= 2 {
			if first {
				return out, errRelayUnsupported
			}
			break
		}
		// No request body: the comparison's load sends none.
		if hasFold(line, "transfer-encoding:") ||
			(hasFold(line, "content-length:") && string(bytes.TrimSpace(line[len("content-length:"):])) != "0") {
			return out, errRelayUnsupported
		}
		out = append(out, line...)
	}
	out = append(out, extra...)
	*id++
	out = append(out, "X-Amzn-Trace-Id: Root=1-"...)
	out = strconv.AppendUint(out, *id, 16)
	return append(out, "\r\n\r\n"...), nil
}

// relayResponse appends the next response (head and Content-Length body)
// from r to out.
func relayResponse(r *bufio.Reader, out []byte) ([]byte, error) {
	n := -1
	for {
		line, err := r.ReadSlice('\n')
		if err != nil {
			return out, err
		}
		out = append(out, line...)
		if len(line) <= 2 {
			break
		}
		if hasFold(line, "content-length:") {
			v := bytes.TrimSpace(line[len("content-length:"):])
			if n, err = strconv.Atoi(string(v)); err != nil {
				return out, errRelayUnsupported
			}
		}
	}
	if n < 0 {
		return out, errRelayUnsupported
	}
	start := len(out)
	out = append(out, make([]byte, n)...)
	_, err := io.ReadFull(r, out[start:])
	return out, err
}

func hasFold(line []byte, prefix string) bool {
	return len(line) >= len(prefix) && bytes.EqualFold(line[:len(prefix)], []byte(prefix))
}
