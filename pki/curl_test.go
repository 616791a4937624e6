package pki_test

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/albmtls/albmtls/internal/testtool"
	"github.com/albmtls/albmtls/pki/pkitest"
)

// TestCurlSendsTheChainFile proves the docs' usage, `curl --cert
// clients/NAME-chain.pem --key clients/NAME-key.pem`, sends exactly the
// chain file: a Go server that accepts any client certificate reports the
// certificates it received.
func TestCurlSendsTheChainFile(t *testing.T) {
	curl := testtool.Need(t, "curl")
	dir := pkitest.Dir(t)
	set := pkitest.Standard(t)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var cns []string
		for _, c := range r.TLS.PeerCertificates {
			cns = append(cns, c.Subject.CommonName)
		}
		fmt.Fprint(w, strings.Join(cns, "|"))
	})}
	srv.TLSConfig = &tls.Config{
		Certificates: []tls.Certificate{set.Server.TLSCertificate()},
		ClientAuth:   tls.RequireAnyClientCert,
		// Without this, Go's TLS 1.3 server fails the handshake with
		// oversized when the client (curl) accepts tickets: the ticket
		// carries the 83 KB client chain and its length prefix is 2 bytes.
		// ALB does not resume mTLS sessions either (alb-behaviour §S6).
		SessionTicketsDisabled: true,
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go func() { _ = srv.ServeTLS(ln, "", "") }()
	t.Cleanup(func() { _ = srv.Close() })
	url := "https://localhost:" + fmt.Sprint(ln.Addr().(*net.TCPAddr).Port) + "/"

	for name, want := range map[string]int{"valid": 2, "valid-rsa": 2, "deep-chain": 5, "oversized": 2, "self-signed": 1, "untrusted": 2} {
		t.Run(name, func(t *testing.T) {
			leaf, _ := set.Client(name)
			out, err := exec.Command(curl, "-sS", "--fail",
				"--cacert", filepath.Join(dir, "ca/bundle.pem"),
				"--resolve", "localhost:"+fmt.Sprint(ln.Addr().(*net.TCPAddr).Port)+":127.0.0.1",
				"--cert", filepath.Join(dir, "clients", name+"-chain.pem"),
				"--key", filepath.Join(dir, "clients", name+"-key.pem"),
				url).CombinedOutput()
			require.NoError(t, err, "%s", out)
			got := strings.Split(string(out), "|")
			assert.Len(t, got, want)
			var wantCNs []string
			for _, der := range leaf.Chain {
				c, err := x509.ParseCertificate(der)
				require.NoError(t, err)
				wantCNs = append(wantCNs, c.Subject.CommonName)
			}
			assert.Equal(t, wantCNs, got)
		})
	}
}
