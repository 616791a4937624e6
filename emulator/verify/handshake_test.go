package verify_test

import (
	"context"
	"crypto/ecdh"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/albmtls/albmtls/emulator/truststore"
	tt "github.com/albmtls/albmtls/emulator/truststore/truststoretest"
	"github.com/albmtls/albmtls/emulator/verify"
	"github.com/albmtls/albmtls/internal/testtool"
	"github.com/albmtls/albmtls/pki/pkitest"
)

// outcome is what the server side of one real handshake saw.
type outcome struct {
	err    error          // the server's handshake error
	result *verify.Result // set when VerifyConnection ran
}

// serverHandshake runs one real TLS handshake on 127.0.0.1 between a Go
// server configured as the emulator's verify mode (request any
// certificate, decide in VerifyConnection) and a Go client presenting
// cert.
func serverHandshake(t *testing.T, st *truststore.Store, cert *tls.Certificate, clientMax, serverMin uint16) outcome {
	t.Helper()
	set := pkitest.Standard(t)
	v := verify.New(func() *truststore.Store { return st }, verify.Options{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	var out outcome
	done := make(chan struct{})
	go func() {
		defer close(done)
		c, err := ln.Accept()
		if err != nil {
			out.err = err
			return
		}
		defer c.Close()
		srv := tls.Server(c, &tls.Config{
			Certificates: []tls.Certificate{set.Server.TLSCertificate()},
			ClientAuth:   tls.RequestClientCert,
			MinVersion:   serverMin,
			VerifyConnection: func(cs tls.ConnectionState) error {
				r := v.VerifyParsed(cs.Version, cs.PeerCertificates)
				out.result = &r
				if r.Code != verify.Success {
					return fmt.Errorf("rejected: %s", r.Code.LogValue())
				}
				return nil
			},
		})
		_ = srv.SetDeadline(time.Now().Add(10 * time.Second))
		out.err = srv.HandshakeContext(context.Background())
		if out.err == nil {
			_, _ = srv.Write([]byte("ok"))
		}
	}()
	roots := x509.NewCertPool()
	roots.AddCert(set.Root.Cert)
	conn, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{
		RootCAs: roots, ServerName: "localhost", MaxVersion: clientMax,
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return cert, nil },
	})
	if err == nil {
		_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
		_, _ = io.ReadAll(conn) // TLS 1.3: the server's verdict arrives after the client's Finished
		conn.Close()
	}
	<-done
	return out
}

// TestCodeForHandshakeError drives real handshakes into each refusal that
// Go's TLS stack makes before the verifier runs.
func TestCodeForHandshakeError(t *testing.T) {
	set := pkitest.Standard(t)
	k := testKit(t)
	st := storeSpec{bundle: []*tt.Cert{k.inter, k.root}}.load(t)
	x25519, err := ecdh.X25519().GenerateKey(rand.Reader)
	require.NoError(t, err)
	spki, err := x509.MarshalPKIXPublicKey(x25519.PublicKey())
	require.NoError(t, err)
	big := make([][]byte, 5)
	for i := range big {
		big[i] = tt.Chain(k.inter.Leaf(t, "big", tt.WithTemplate(func(c *x509.Certificate) {
			c.ExtraExtensions = []pkix.Extension{{Id: asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 99999, 60}, Value: make([]byte, 60000)}}
		})))[0]
	}
	valid, _ := set.Client("valid")
	other := tt.ECKey(t, elliptic.P256())

	tests := []struct {
		name   string
		cert   tls.Certificate
		client uint16
		server uint16
		code   verify.Code
		ok     bool
	}{
		{"unparseable certificate", tls.Certificate{Certificate: [][]byte{{0x30, 0x03, 0x02, 0x01, 0x01}}, PrivateKey: k.leaf.Key},
			tls.VersionTLS13, 0, verify.ClientCertInvalid, true},
		{"RSA key over 8192 bits", tls.Certificate{Certificate: [][]byte{leafWithPublicKey(t, k.inter, "rsa9000", bigRSAPublicKey(9000))},
			PrivateKey: k.leaf.Key}, tls.VersionTLS13, 0, verify.ClientCertTypeUnsupported, true},
		{"X25519 leaf", tls.Certificate{Certificate: [][]byte{tt.ReplaceSPKI(t, k.leaf, spki, k.inter)}, PrivateKey: k.leaf.Key},
			tls.VersionTLS13, 0, verify.ClientCertTypeUnsupported, true},
		{"Certificate message over 256 KiB", tls.Certificate{Certificate: big, PrivateKey: k.leaf.Key},
			tls.VersionTLS13, 0, verify.ClientCertMaxSizeExceeded, true},
		{"CertificateVerify by the wrong key", tls.Certificate{Certificate: tt.Chain(k.leaf, k.inter), PrivateKey: other},
			tls.VersionTLS13, 0, verify.UnmappedConnectionError, true},
		{"CertificateVerify by the wrong key, TLS 1.2", tls.Certificate{Certificate: tt.Chain(k.leaf, k.inter), PrivateKey: other},
			tls.VersionTLS12, 0, verify.UnmappedConnectionError, true},
		{"no shared protocol version", valid.TLSCertificate(), tls.VersionTLS12, tls.VersionTLS13, "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cert := tc.cert
			out := serverHandshake(t, st, &cert, tc.client, tc.server)
			require.Error(t, out.err)
			if tc.code == verify.UnmappedConnectionError && tc.ok {
				// Go calls VerifyConnection before it checks CertificateVerify.
				require.NotNil(t, out.result)
				assert.Equal(t, verify.Success, out.result.Code)
			} else {
				assert.Nil(t, out.result, "Go refused before the verifier ran")
			}
			code, ok := verify.CodeForHandshakeError(out.err)
			assert.Equal(t, tc.ok, ok, "error: %v", out.err)
			assert.Equal(t, tc.code, code, "error: %v", out.err)
		})
	}
	code, ok := verify.CodeForHandshakeError(errors.New("tls: client didn't provide a certificate"))
	assert.True(t, ok)
	assert.Equal(t, verify.UnmappedConnectionError, code)
	v := verify.New(nil, verify.Options{MissingCertificate: verify.ClientCertUntrusted})
	code, _ = v.CodeForHandshakeError(errors.New("tls: client didn't provide a certificate"))
	assert.Equal(t, verify.ClientCertUntrusted, code)
	_, ok = verify.CodeForHandshakeError(nil)
	assert.False(t, ok)
}

// TestHandshakeReachesVerifier: the chains Go's stack accepts reach the
// verifier, which decides them (the standard PKI over real TLS).
func TestHandshakeReachesVerifier(t *testing.T) {
	set := pkitest.Standard(t)
	st := loadStandard(t, "crl/intermediate.crl.pem", "crl/root.crl.pem")
	for _, tc := range []struct {
		client string
		want   verify.Code
	}{
		{"valid", verify.Success},
		{"valid-rsa", verify.Success},
		{"revoked", verify.ClientCertCrlHit},
		{"revoked-intermediate", verify.ClientCertCrlHit},
		{"expired", verify.ClientCertExpired},
		{"untrusted", verify.ClientCertUntrusted},
		{"server-purpose", verify.ClientCertPurposeInvalid},
		{"weak-rsa", verify.ClientCertTypeUnsupported},
		{"deep-chain", verify.ClientCertMaxChainDepthExceeded},
		{"oversized", verify.ClientCertMaxSizeExceeded},
	} {
		for _, ver := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
			t.Run(fmt.Sprintf("%s/%x", tc.client, ver), func(t *testing.T) {
				leaf, ok := set.Client(tc.client)
				require.True(t, ok)
				cert := leaf.TLSCertificate()
				out := serverHandshake(t, st, &cert, ver, 0)
				require.NotNil(t, out.result, "verifier ran (handshake error: %v)", out.err)
				assert.Equal(t, tc.want, out.result.Code, out.result.Reason)
				assert.Equal(t, tc.want == verify.Success, out.err == nil, "handshake error: %v", out.err)
			})
		}
	}
}

// TestRealClients runs the verifier behind an HTTPS server and connects
// with the real openssl and curl binaries, as users do.
func TestRealClients(t *testing.T) {
	curl, openssl := testtool.Need(t, "curl"), testtool.Need(t, "openssl")
	dir := pkitest.Dir(t)
	st := loadStandard(t, "crl/intermediate.crl.pem", "crl/root.crl.pem")
	set := pkitest.Standard(t)
	v := verify.New(func() *truststore.Store { return st }, verify.Options{})
	results := make(chan verify.Code, 16)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "hello") }))
	srv.TLS = &tls.Config{
		Certificates: []tls.Certificate{set.Server.TLSCertificate()},
		ClientAuth:   tls.RequestClientCert,
		VerifyConnection: func(cs tls.ConnectionState) error {
			r := v.VerifyParsed(cs.Version, cs.PeerCertificates)
			results <- r.Code
			if r.Code != verify.Success {
				return errors.New(r.Reason)
			}
			return nil
		},
	}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	defer srv.Close()
	port := srv.Listener.Addr().(*net.TCPAddr).Port
	p := func(rel string) string { return filepath.Join(dir, rel) }

	for _, tc := range []struct {
		client string
		want   verify.Code
	}{
		{"valid", verify.Success},
		{"revoked", verify.ClientCertCrlHit},
		{"expired", verify.ClientCertExpired},
	} {
		t.Run("curl/"+tc.client, func(t *testing.T) {
			out, err := exec.Command(curl, "-sS", "--max-time", "10", "--cacert", p("ca/root.pem"),
				"--cert", p("clients/"+tc.client+"-chain.pem"), "--key", p("clients/"+tc.client+"-key.pem"),
				fmt.Sprintf("https://localhost:%d/", port)).CombinedOutput()
			assert.Equal(t, tc.want, <-results)
			if tc.want == verify.Success {
				require.NoError(t, err, "%s", out)
				assert.Equal(t, "hello", string(out))
			} else {
				assert.Error(t, err, "curl must fail: %s", out)
			}
		})
		for _, ver := range []string{"-tls1_2", "-tls1_3"} {
			t.Run("openssl"+ver+"/"+tc.client, func(t *testing.T) {
				cmd := exec.Command(openssl, "s_client", ver, "-connect", fmt.Sprintf("127.0.0.1:%d", port),
					"-servername", "localhost", "-CAfile", p("ca/root.pem"),
					"-cert", p("clients/"+tc.client+".pem"), "-key", p("clients/"+tc.client+"-key.pem"),
					"-cert_chain", p("ca/intermediate.pem"), "-ign_eof")
				cmd.Stdin = strings.NewReader("GET / HTTP/1.0\r\nHost: localhost\r\n\r\n")
				out, _ := cmd.CombinedOutput()
				select {
				case got := <-results:
					assert.Equal(t, tc.want, got)
				case <-time.After(10 * time.Second):
					t.Fatalf("the server saw no handshake; openssl said:\n%s", out)
				}
				assert.Equal(t, tc.want == verify.Success, strings.Contains(string(out), "hello"), "%s", out)
			})
		}
	}
}
