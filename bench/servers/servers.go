// Package servers holds the two small servers of the proxy comparison: the
// backend every proxy forwards to, and the "ceiling", a bare crypto/tls
// HTTPS server. The ceiling does the handshake work no mTLS server can
// avoid (key exchange, the ECDSA P-256 signature of its CertificateVerify,
// the check of the client's CertificateVerify, i.e. its proof of key
// possession) and, in the comparison, the same forwarding work as the
// proxies with the standard library's httputil.ReverseProxy
// (CeilingForward): no chain or CRL check, no log. The gap between it and
// a proxy is the proxy's own cost. Ceiling, which answers by itself, is the
// ceiling of the in-process benchmarks, whose emulator answers with a
// fixed response.
package servers

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"time"
)

// Header names of the comparison. Every proxy is configured to add the
// subject and leaf of the client certificate under ALB's names; the backend
// echoes what it saw so the load generator can check each proxy really did.
const (
	SubjectHeader = "X-Amzn-Mtls-Clientcert-Subject"
	LeafHeader    = "X-Amzn-Mtls-Clientcert-Leaf"
	// EchoSubject carries, in the response, the subject header the backend
	// received (or the ceiling's own view of the client certificate).
	EchoSubject = "X-Bench-Client-Subject"
	// EchoLeafBytes is the length of the leaf header the backend received.
	EchoLeafBytes = "X-Bench-Client-Leaf-Bytes"
)

var body = []byte("ok\n")

// Backend answers every request with 200 "ok" and echoes the client
// certificate headers the proxy added.
func Backend() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set(EchoSubject, r.Header.Get(SubjectHeader))
		h.Set(EchoLeafBytes, fmt.Sprint(len(r.Header.Get(LeafHeader))))
		h.Set("Content-Type", "text/plain")
		_, _ = w.Write(body)
	})
}

// Ceiling answers every request itself with the client certificate's
// subject, as the backend would echo it behind a proxy.
func Ceiling() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
			h.Set(EchoSubject, r.TLS.PeerCertificates[0].Subject.String())
			h.Set(EchoLeafBytes, fmt.Sprint(len(r.TLS.PeerCertificates[0].Raw)))
		}
		h.Set("Content-Type", "text/plain")
		_, _ = w.Write(body)
	})
}

// CeilingForward forwards every request to the backend at addr (host:port)
// with Go's httputil.ReverseProxy over a pooled http.Transport, adding the
// client certificate's subject and URL-encoded PEM leaf under ALB's header
// names, as the proxies of the comparison are configured to: the same
// forwarding work, done the standard library's way.
func CeilingForward(addr string) http.Handler {
	target := &url.URL{Scheme: "http", Host: addr}
	return &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.Out.Host = pr.In.Host
			if st := pr.In.TLS; st != nil && len(st.PeerCertificates) > 0 {
				leaf := st.PeerCertificates[0]
				pr.Out.Header.Set(SubjectHeader, leaf.Subject.String())
				// url.QueryEscape, not albmtls's certfmt.PEMURLEncode: the
				// ceiling runs none of albmtls's code, so the gap to it is
				// albmtls's own cost (nginx's $ssl_client_escaped_cert is
				// the same kind of escaping).
				pr.Out.Header.Set(LeafHeader, url.QueryEscape(string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leaf.Raw}))))
			}
		},
		Transport: &http.Transport{
			Proxy: nil, MaxIdleConns: 1024, MaxIdleConnsPerHost: 256, IdleConnTimeout: 90 * time.Second,
			DisableCompression: true,
		},
	}
}

// CeilingTLS is the ceiling's TLS configuration: the server certificate
// (chain and key files), a client certificate required (crypto/tls checks
// its CertificateVerify signature) but its chain not verified, TLS 1.2–1.3,
// no session tickets (ALB does not resume mTLS sessions). The bundle is
// only checked to be readable, so the ceiling takes the same files as the
// proxies.
func CeilingTLS(certFile, keyFile, bundleFile string) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("loading the ceiling's server certificate %s and key %s: %w", certFile, keyFile, err)
	}
	pem, err := os.ReadFile(bundleFile)
	if err != nil {
		return nil, fmt.Errorf("reading the CA bundle: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s holds no PEM certificate; pass the PKI's ca/bundle.pem", bundleFile)
	}
	return &tls.Config{
		Certificates:           []tls.Certificate{cert},
		ClientAuth:             tls.RequireAnyClientCert,
		MinVersion:             tls.VersionTLS12,
		SessionTicketsDisabled: true,
		NextProtos:             []string{"http/1.1"},
	}, nil
}

// Serve serves h on ln (wrapped in TLS when tc is set) until ctx ends,
// then shuts down within a second.
func Serve(ctx context.Context, ln net.Listener, h http.Handler, tc *tls.Config) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	if tc != nil {
		ln = tls.NewListener(ln, tc)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = srv.Shutdown(sctx)
	if err := <-done; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
