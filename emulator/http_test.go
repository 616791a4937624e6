package emulator_test

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/albmtls/albmtls/emulator/accesslog"
	"github.com/albmtls/albmtls/emulator/certfmt"
	"github.com/albmtls/albmtls/emulator/connlog"
	"github.com/albmtls/albmtls/pki/pkitest"
)

const forwardWeb = `{type: forward, target_group: web}`

// openSSLView is what `openssl x509` prints for a certificate file as the
// PKI wrote it: the values ALB's headers must equal (alb-behaviour §4.1, §11).
func openSSLView(t *testing.T, file string) (subject, issuer, serial string) {
	t.Helper()
	data, err := os.ReadFile(file)
	require.NoError(t, err)
	return pkitest.OpenSSLView(t, data)
}

// TestForwardToTwoTargetsWithALBHeaders is issue #4's end-to-end case: two
// targets answer in turn, each sees the five verify-mode headers with the
// values openssl prints, a client-sent copy of an mTLS header never
// arrives, and every access-log line carries its connection's trace ID.
func TestForwardToTwoTargetsWithALBHeaders(t *testing.T) {
	web1, web2 := echoBackend(t, "web-1"), echoBackend(t, "web-2")
	l := startLB(t, params{Action: forwardWeb, Targets: []string{web1.Listener.Addr().String(), web2.Listener.Addr().String()}})
	subject, issuer, serial := openSSLView(t, filepath.Join(l.dir, "clients/member.pem"))
	leaf, _ := l.set.Client("member")

	spoof := http.Header{
		"X-Amzn-Mtls-Clientcert-Subject": {"CN=admin,O=Example Corp"},
		"X-Amzn-Mtls-Clientcert":         {"forged"},
		"X-Forwarded-For":                {"203.0.113.9"},
	}
	seen := map[string]int{}
	for i := 0; i < 4; i++ {
		out := l.get("member", tls.VersionTLS13, "/hello?x=1", spoof)
		require.NoError(t, out.err)
		require.Equal(t, 200, out.status)
		e := decodeEcho(t, out.body)
		seen[e.Name]++
		h := e.Headers
		assert.Equal(t, serial, h.Get("X-Amzn-Mtls-Clientcert-Serial-Number"))
		assert.Equal(t, subject, h.Get("X-Amzn-Mtls-Clientcert-Subject"), "the spoofed subject must be replaced")
		assert.Len(t, h.Values("X-Amzn-Mtls-Clientcert-Subject"), 1)
		assert.Equal(t, issuer, h.Get("X-Amzn-Mtls-Clientcert-Issuer"))
		assert.Equal(t, certfmt.Validity(leaf.Cert), h.Get("X-Amzn-Mtls-Clientcert-Validity"))
		assert.Empty(t, h.Values("X-Amzn-Mtls-Clientcert"), "no chain header in verify mode, and the forged one is stripped")
		certs, err := certfmt.DecodePEMURL(h.Get("X-Amzn-Mtls-Clientcert-Leaf"))
		require.NoError(t, err)
		require.Len(t, certs, 1)
		assert.Equal(t, leaf.Cert.Raw, certs[0].Raw, "the decoded leaf is the client's certificate")
		assert.Equal(t, "203.0.113.9, 127.0.0.1", h.Get("X-Forwarded-For"))
		assert.Equal(t, "https", h.Get("X-Forwarded-Proto"))
		assert.Regexp(t, `^Root=1-[0-9a-f]{8}-[0-9a-f]{24}$`, h.Get("X-Amzn-Trace-Id"))
	}
	assert.Equal(t, map[string]int{"web-1": 2, "web-2": 2}, seen, "round robin over both targets")

	connLines := readLog(t, filepath.Join(l.dir, "logs/conn.log"), 4)
	accLines := readLog(t, filepath.Join(l.dir, "logs/access.log"), 4)
	tids := map[string]bool{}
	for _, line := range connLines {
		e, err := connlog.ParseLine(line)
		require.NoError(t, err)
		tids[e.TraceID] = true
	}
	for _, line := range accLines {
		e, err := accesslog.ParseLine(line)
		require.NoError(t, err, line)
		assert.True(t, tids[e.ConnTraceID], "access-log conn_trace_id %s has no connection-log line", e.ConnTraceID)
		assert.Equal(t, "https", e.Type)
		assert.Equal(t, 200, e.ELBStatusCode)
		assert.Equal(t, 200, e.TargetStatusCode)
		assert.Equal(t, []string{"forward"}, e.ActionsExecuted)
		assert.Contains(t, []string{web1.Listener.Addr().String(), web2.Listener.Addr().String()}, e.Target.String())
		assert.Equal(t, "TLS_AES_128_GCM_SHA256", e.SSLCipher)
		assert.Equal(t, "TLSv1.3", e.SSLProtocol)
		assert.Contains(t, e.TargetGroupARN, ":targetgroup/web/")
		assert.True(t, strings.HasPrefix(e.RequestURL, "https://127.0.0.1:"), e.RequestURL)
	}
}

// TestHTTP2AndKeepAlive: one HTTP/2 connection carries several requests,
// all logged with type h2 and the connection's single trace ID.
func TestHTTP2AndKeepAlive(t *testing.T) {
	web := echoBackend(t, "web-1")
	l := startLB(t, params{Action: forwardWeb, Targets: []string{web.Listener.Addr().String()}})
	tr := &http.Transport{TLSClientConfig: l.tlsConfig("valid", tls.VersionTLS13), ForceAttemptHTTP2: true}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	for i := 0; i < 3; i++ {
		resp, err := c.Get("https://" + l.httpsAddr() + "/")
		require.NoError(t, err)
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		assert.Equal(t, "HTTP/2.0", resp.Proto)
	}
	reqs := l.requests()
	require.Len(t, reqs, 3)
	for _, e := range reqs {
		assert.Equal(t, "h2", e.Type)
		assert.Equal(t, reqs[0].ConnTraceID, e.ConnTraceID, "one connection")
	}
	assert.Len(t, l.connEvents(1), 1)
}

// TestPassthroughChainHeader: passthrough forwards the whole chain as sent,
// leaf first, and no header at all without a certificate (alb-behaviour §2.2, §4.1).
func TestPassthroughChainHeader(t *testing.T) {
	web := echoBackend(t, "web-1")
	l := startLB(t, params{Mode: "passthrough", Action: forwardWeb, Targets: []string{web.Listener.Addr().String()}})
	for _, name := range []string{"valid", "untrusted", "deep-chain"} {
		out := l.get(name, tls.VersionTLS13, "/", nil)
		require.NoError(t, out.err)
		h := decodeEcho(t, out.body).Headers
		certs, err := certfmt.DecodePEMURL(h.Get("X-Amzn-Mtls-Clientcert"))
		require.NoError(t, err)
		leaf, _ := l.set.Client(name)
		require.Len(t, certs, len(leaf.Chain), name)
		for i := range certs {
			assert.Equal(t, leaf.Chain[i], certs[i].Raw, "%s certificate %d", name, i)
		}
		assert.Empty(t, h.Get("X-Amzn-Mtls-Clientcert-Subject"), "no verify headers in passthrough")
	}
	out := l.get("", tls.VersionTLS13, "/", nil)
	require.NoError(t, out.err)
	_, present := decodeEcho(t, out.body).Headers["X-Amzn-Mtls-Clientcert"]
	assert.False(t, present, "absent, not empty, without a client certificate")
}

// TestRenamedHeadersAndTLSHeaders: listener attributes rename the headers;
// a client-sent header under the new name or the default one is stripped.
func TestRenamedHeadersAndTLSHeaders(t *testing.T) {
	web := echoBackend(t, "web-1")
	extra := `    attributes:
      routing.http.request.x_amzn_mtls_clientcert_subject.header_name: X-Client-Subject
      routing.http.x_amzn_tls_version_and_cipher_suite.enabled: "true"
`
	l := startLB(t, params{Action: forwardWeb, Targets: []string{web.Listener.Addr().String()}, Extra: extra})
	out := l.get("member", tls.VersionTLS12, "/", http.Header{"X-Client-Subject": {"CN=forged"}, "X-Amzn-Mtls-Clientcert-Subject": {"CN=forged"}})
	require.NoError(t, out.err)
	h := decodeEcho(t, out.body).Headers
	subject, _, _ := openSSLView(t, filepath.Join(l.dir, "clients/member.pem"))
	assert.Equal(t, subject, h.Get("X-Client-Subject"))
	assert.Empty(t, h.Get("X-Amzn-Mtls-Clientcert-Subject"))
	assert.Equal(t, "TLSv1.2", h.Get("X-Amzn-Tls-Version"))
	assert.Equal(t, "ECDHE-ECDSA-AES128-GCM-SHA256", h.Get("X-Amzn-Tls-Cipher-Suite"))
}

// TestNoTargets503 answers ALB's own page when the target group is empty.
func TestNoTargets503(t *testing.T) {
	l := startLB(t, params{Action: forwardWeb, Targets: nil})
	out := l.get("valid", tls.VersionTLS13, "/", nil)
	require.NoError(t, out.err)
	assert.Equal(t, 503, out.status)
	assert.Contains(t, out.body, "<center><h1>503 Service Temporarily Unavailable</h1></center>")
}

// TestRedirectFromHTTP: the HTTP listener redirects with an explicit port.
func TestRedirectFromHTTP(t *testing.T) {
	l := startLB(t, params{})
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get("http://" + l.httpAddr() + "/a/b?c=d")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 301, resp.StatusCode)
	assert.Equal(t, "https://127.0.0.1:443/a/b?c=d", resp.Header.Get("Location"))
	assert.Equal(t, "awselb/2.0", resp.Header.Get("Server"))
	ev := l.connEvents(1)
	assert.Equal(t, "", ev[len(ev)-1].Entry.VerifyStatus, "HTTP listeners log '-'")
}

var _ = x509.ParseCertificate
