package emulator_test

import (
	"bufio"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/albmtls/albmtls/emulator"
	"github.com/albmtls/albmtls/emulator/certfmt"
	"github.com/albmtls/albmtls/pki"
	"github.com/albmtls/albmtls/pki/pkitest"
)

// cgiTarget is a raw-socket target that records the header lines exactly as
// they arrive and answers with what a WSGI server (wsgiref) would put in the
// environ: HTTP_ + the name upper-cased with '-' turned into '_', lines that
// land on one variable joined with ",".
type cgiView struct {
	Lines   []string          `json:"lines"`
	Environ map[string]string `json:"environ"`
	Body    string            `json:"body,omitempty"` // a Content-Length body
}

func cgiTarget(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	serveEach(t, ln, serveCGI)
	return ln.Addr().String()
}

func serveCGI(c net.Conn) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	br := bufio.NewReader(c)
	if _, err := br.ReadString('\n'); err != nil { // request line
		return
	}
	v := cgiView{Environ: map[string]string{}}
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimRight(line, "\r\n")
		if line == "" {
			break
		}
		v.Lines = append(v.Lines, line)
		name, value, _ := strings.Cut(line, ":")
		key := "HTTP_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
		value = strings.TrimSpace(value)
		if old, ok := v.Environ[key]; ok {
			value = old + "," + value
		}
		v.Environ[key] = value
	}
	if n, err := strconv.Atoi(v.Environ["HTTP_CONTENT_LENGTH"]); err == nil && n > 0 && n < 1<<20 {
		b := make([]byte, n)
		if _, err := io.ReadFull(br, b); err != nil {
			return
		}
		v.Body = string(b)
	}
	body, _ := json.Marshal(v)
	fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", len(body), body)
}

const variantsConfig = `load_balancer: {name: test-alb%s}
trust_stores: [{name: ts, ca_certificates_bundle: ca/bundle.pem, revocations: [crl/intermediate.crl.pem, crl/root.crl.pem]}]
target_groups: [{name: web, targets: ["%s"], health_check: {enabled: false}}]
listeners:
  - {port: 0, protocol: HTTPS, certificates: [{certificate: server/server.pem, private_key: server/server-key.pem}],
     mutual_authentication: {mode: verify, trust_store: ts}, default_action: {type: forward, target_group: web}}
  - {port: 0, protocol: HTTPS, certificates: [{certificate: server/server.pem, private_key: server/server-key.pem}],
     mutual_authentication: {mode: verify, trust_store: ts}, default_action: {type: forward, target_group: web},
     attributes: {routing.http.request.x_amzn_mtls_clientcert_subject.header_name: X-Client-Subject}}
  - {port: 0, protocol: HTTPS, certificates: [{certificate: server/server.pem, private_key: server/server-key.pem}],
     mutual_authentication: {mode: passthrough}, default_action: {type: forward, target_group: web}}
  - {port: 0, protocol: HTTPS, certificates: [{certificate: server/server.pem, private_key: server/server-key.pem}],
     mutual_authentication: {mode: "off"}, default_action: {type: forward, target_group: web},
     attributes: {routing.http.request.x_amzn_mtls_clientcert_subject.header_name: X-Client-Subject}}
  - {port: 0, protocol: HTTP, default_action: {type: forward, target_group: web}}
emulation: {watch_interval: 0s%s}
`

// spoofVariants are what a hostile client sends: spellings of the mTLS,
// TLS, forwarding and trace headers that a CGI-style target folds onto the
// real ones (issue 19 item 1).
var spoofVariants = [][2]string{
	{"X_Amzn_Mtls_Clientcert_Subject", "CN=admin"},
	{"X-Amzn_Mtls-Clientcert_Subject", "CN=admin"},
	{"X_Amzn_Mtls_Clientcert", "spoof-chain"},
	{"X_Amzn_Mtls_Clientcert_Leaf", "spoof-leaf"},
	{"X_Amzn_Mtls_Clientcert_Serial_Number", "spoof-serial"},
	{"X_Amzn_Mtls_Clientcert_Issuer", "CN=spoof-issuer"},
	{"X_Amzn_Mtls_Clientcert_Validity", "spoof-validity"},
	{"X_Amzn_Tls_Version", "spoof-SSLv3"},
	{"X_Amzn_Tls_Cipher_Suite", "spoof-NULL"},
	{"X_Client_Subject", "CN=root"},
	{"X_Forwarded_For", "10.6.6.6"},
	{"X_Forwarded_Proto", "spoof-proto"},
	{"X_Amzn_Trace_Id", "spoof-trace"},
}

func startVariantsLB(t *testing.T, lb, target, emulation string) (*emulator.Server, *pki.Set, string) {
	t.Helper()
	dir := pkitest.Dir(t)
	set, err := pki.Load(dir)
	require.NoError(t, err)
	srv := serveConfig(t, dir, fmt.Appendf(nil, variantsConfig, lb, target, emulation))
	return srv, set, dir
}

// sendVariants sends one GET carrying spoofVariants to a listener, over
// HTTP/1.1 (raw bytes, names exactly as written) or HTTP/2.
func sendVariants(t *testing.T, addr string, tlsCfg *tls.Config, h2 bool) cgiView {
	t.Helper()
	var body []byte
	if h2 {
		tr := &http.Transport{TLSClientConfig: tlsCfg, ForceAttemptHTTP2: true}
		defer tr.CloseIdleConnections()
		req, err := http.NewRequest(http.MethodGet, "https://"+addr+"/", nil)
		require.NoError(t, err)
		for _, kv := range spoofVariants {
			req.Header[kv[0]] = []string{kv[1]}
		}
		resp, err := (&http.Client{Transport: tr, Timeout: 20 * time.Second}).Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		require.Equal(t, "HTTP/2.0", resp.Proto)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		body, err = io.ReadAll(resp.Body)
		require.NoError(t, err)
	} else {
		var c net.Conn
		var err error
		if tlsCfg != nil {
			c, err = tls.Dial("tcp", addr, tlsCfg)
		} else {
			c, err = net.Dial("tcp", addr)
		}
		require.NoError(t, err)
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(20 * time.Second))
		var raw strings.Builder
		raw.WriteString("GET / HTTP/1.1\r\nHost: app.example.com\r\nConnection: close\r\n")
		for _, kv := range spoofVariants {
			raw.WriteString(kv[0] + ": " + kv[1] + "\r\n")
		}
		raw.WriteString("\r\n")
		_, err = io.WriteString(c, raw.String())
		require.NoError(t, err)
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		require.NoError(t, err)
		defer resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
		body, err = io.ReadAll(resp.Body)
		require.NoError(t, err)
	}
	var v cgiView
	require.NoError(t, json.Unmarshal(body, &v), string(body))
	return v
}

// TestHeaderNameVariantsNeverReachTargets is issue 19 item 1 end to end: in
// verify (default and renamed names), passthrough, off and on an HTTP
// listener, over HTTP/1.1 and HTTP/2, no client-sent spelling of a header
// the emulator owns reaches the target, and a WSGI-style target sees only
// the emulator's identity. With emulation.strip_header_name_variants off
// the same requests do carry the variants: the rehearsal the knob is for,
// and proof that the recording target sees them.
func TestHeaderNameVariantsNeverReachTargets(t *testing.T) {
	target := cgiTarget(t)
	for _, knobOff := range []bool{false, true} {
		emu := ""
		if knobOff {
			emu = ", strip_header_name_variants: false"
		}
		srv, set, _ := startVariantsLB(t, "", target, emu)
		valid, ok := set.Client("valid")
		require.True(t, ok)
		subject, err := certfmt.DN(valid.Cert.RawSubject)
		require.NoError(t, err)
		roots := x509Pool(t, set.Bundle())
		lsns := srv.Listeners()
		require.Len(t, lsns, 5)
		for i, name := range []string{"verify", "verify-renamed", "passthrough", "off", "http"} {
			for _, h2 := range []bool{false, true} {
				if name == "http" && h2 {
					continue // ALB's HTTP listeners speak HTTP/1.1 to clients here
				}
				t.Run(fmt.Sprintf("knob-off=%v/%s/h2=%v", knobOff, name, h2), func(t *testing.T) {
					var tlsCfg *tls.Config
					if name != "http" {
						tlsCfg = &tls.Config{RootCAs: roots, ServerName: "localhost", Certificates: []tls.Certificate{valid.TLSCertificate()}}
					}
					v := sendVariants(t, lsns[i].Addr.String(), tlsCfg, h2)
					renamed := name == "verify-renamed" || name == "off"
					spoofed := 0
					for _, line := range v.Lines {
						for _, kv := range spoofVariants {
							if kv[0] == "X_Client_Subject" && !renamed {
								continue // an ordinary header where nothing is renamed to X-Client-Subject
							}
							if strings.Contains(line, kv[1]) {
								spoofed++
							}
						}
					}
					if knobOff {
						assert.Positive(t, spoofed, "the knob off forwards the variants: %q", v.Lines)
						return
					}
					assert.Zero(t, spoofed, "client-sent variants reached the target: %q", v.Lines)
					wantSubject, wantRenamed := "", ""
					switch name {
					case "verify":
						wantSubject = subject
					case "verify-renamed":
						wantRenamed = subject
					}
					assert.Equal(t, wantSubject, v.Environ["HTTP_X_AMZN_MTLS_CLIENTCERT_SUBJECT"], "the identity a WSGI target reads")
					if renamed {
						assert.Equal(t, wantRenamed, v.Environ["HTTP_X_CLIENT_SUBJECT"], "the identity a WSGI target reads under the new name")
					}
					assert.NotContains(t, v.Environ["HTTP_X_FORWARDED_FOR"], "10.6.6.6")
				})
			}
		}
	}
}

// TestDropInvalidHeaderFieldsAttribute: the load balancer attribute
// routing.http.drop_invalid_header_fields.enabled, set under
// load_balancer.attributes, removes every header whose name is not
// [-A-Za-z0-9]+ on every listener, even with the variants knob off.
func TestDropInvalidHeaderFieldsAttribute(t *testing.T) {
	target := cgiTarget(t)
	srv, _, _ := startVariantsLB(t, `, attributes: {routing.http.drop_invalid_header_fields.enabled: "true"}`, target, ", strip_header_name_variants: false")
	http := srv.Listeners()[4].Addr.String()
	c, err := net.Dial("tcp", http)
	require.NoError(t, err)
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(20 * time.Second))
	_, err = io.WriteString(c, "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\nX_Custom: dropped\r\nX.Dotted: dropped\r\nX_Amzn_Mtls_Clientcert_Subject: dropped\r\nX-Good-9: kept\r\n\r\n")
	require.NoError(t, err)
	resp, err := readCGIView(c)
	require.NoError(t, err)
	for _, line := range resp.Lines {
		assert.NotContains(t, line, "dropped")
	}
	assert.Equal(t, "kept", resp.Environ["HTTP_X_GOOD_9"])
}

func readCGIView(c net.Conn) (cgiView, error) {
	var v cgiView
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return v, err
	}
	defer resp.Body.Close()
	err = json.NewDecoder(resp.Body).Decode(&v)
	return v, err
}
