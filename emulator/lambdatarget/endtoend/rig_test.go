package endtoend_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"text/template"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/stretchr/testify/require"

	"github.com/albmtls/albmtls/emulator"
	"github.com/albmtls/albmtls/emulator/accesslog"
	"github.com/albmtls/albmtls/emulator/config"
	"github.com/albmtls/albmtls/pki"
	"github.com/albmtls/albmtls/pki/pkitest"
)

// handlerEnv makes the test binary the Lambda handler: run with it set,
// TestMain calls aws-lambda-go's lambda.Start instead of the tests, so the
// same program runs against albmtls's Runtime API and under the Runtime
// Interface Emulator.
const handlerEnv = "ALBMTLS_TEST_LAMBDA_HANDLER"

func TestMain(m *testing.M) {
	if os.Getenv(handlerEnv) == "1" {
		lambda.Start(handle)
		return
	}
	code := m.Run()
	if rie.dir != "" {
		os.RemoveAll(rie.dir)
	}
	os.Exit(code)
}

// handle is the test function: it echoes the event it received, or
// misbehaves as the path says.
func handle(_ context.Context, req events.ALBTargetGroupRequest) (events.ALBTargetGroupResponse, error) {
	switch {
	case strings.HasSuffix(req.Path, "/crash"):
		panic("the handler crashed on purpose")
	case strings.HasSuffix(req.Path, "/error"):
		return events.ALBTargetGroupResponse{}, errors.New("the handler failed on purpose")
	case strings.HasSuffix(req.Path, "/sleep"):
		time.Sleep(1500 * time.Millisecond) // past the 1 s timeout, ignoring ctx
	case strings.HasSuffix(req.Path, "/garbage"):
		return events.ALBTargetGroupResponse{StatusCode: 0, IsBase64Encoded: true, Body: "%%% not base64"}, nil
	case strings.HasSuffix(req.Path, "/big"):
		return events.ALBTargetGroupResponse{StatusCode: 200, StatusDescription: "200 OK", Body: strings.Repeat("x", 6<<20)}, nil
	case strings.HasSuffix(req.Path, "/big2"):
		return events.ALBTargetGroupResponse{StatusCode: 200, StatusDescription: "200 OK", Body: strings.Repeat("x", 2<<20)}, nil
	case strings.HasSuffix(req.Path, "/binary"):
		return events.ALBTargetGroupResponse{StatusCode: 201, StatusDescription: "201 Created", IsBase64Encoded: true,
			Headers: map[string]string{"Content-Type": "application/octet-stream"},
			Body:    base64.StdEncoding.EncodeToString([]byte{0, 1, 2, 0xff})}, nil
	}
	b, err := json.Marshal(req)
	if err != nil {
		return events.ALBTargetGroupResponse{}, err
	}
	resp := events.ALBTargetGroupResponse{StatusCode: 200, StatusDescription: "200 OK", Body: string(b)}
	if req.MultiValueHeaders != nil {
		resp.MultiValueHeaders = map[string][]string{"Content-Type": {"application/json"}, "Set-Cookie": {"a=1", "b=2"}, "Connection": {"close"}}
	} else {
		resp.Headers = map[string]string{"Content-Type": "application/json", "X-Handler": "aws-lambda-go", "Transfer-Encoding": "chunked"}
	}
	return resp, nil
}

// rigParams shape the emulator of one test.
type rigParams struct {
	Mode     string // verify (default) or passthrough
	Function string // the registered function, default echo
	Endpoint string // Invoke API endpoint; "" for the built-in Runtime API
	Multi    bool   // lambda.multi_value_headers.enabled
}

const rigConfig = `load_balancer: {name: test-alb, account_id: "123456789012", region: eu-west-1}
trust_stores: [{name: ts, ca_certificates_bundle: ca/bundle.pem}]
target_groups:
  - name: web
    targets: ["{{.HTTP}}"]
    health_check: {enabled: false}
  - name: fn
    target_type: lambda
    targets: [{function: {{.Function}}{{if .Endpoint}}, endpoint: "{{.Endpoint}}"{{end}}}]
    lambda: {runtime_api: "127.0.0.1:0", timeout: 1s}
    attributes: {lambda.multi_value_headers.enabled: "{{.Multi}}"}
listeners:
  - port: 0
    protocol: HTTPS
    certificates: [{certificate: server/server.pem, private_key: server/server-key.pem}]
    mutual_authentication: {mode: {{.Mode}}{{if eq .Mode "verify"}}, trust_store: ts{{end}}}
    rules:
      - priority: 1
        conditions: {path_pattern: ["/http/*"]}
        action: {type: forward, target_group: web}
    default_action: {type: forward, target_group: fn}
logs: {access: {file: logs/access.log}}
`

// rig is a running emulator with an HTTP target (/http/*) and the lambda
// target group fn (everything else).
type rig struct {
	t   testing.TB
	set *pki.Set
	srv *emulator.Server

	mu      sync.Mutex
	entries []accesslog.Entry
	httpGot []http.Header
}

func startRig(t testing.TB, p rigParams) *rig {
	t.Helper()
	if p.Mode == "" {
		p.Mode = "verify"
	}
	if p.Function == "" {
		p.Function = "echo"
	}
	r := &rig{t: t}
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		r.httpGot = append(r.httpGot, req.Header.Clone())
		r.mu.Unlock()
		_, _ = io.WriteString(w, "http target")
	}))
	t.Cleanup(target.Close)
	dir := pkitest.Dir(t)
	var err error
	r.set, err = pki.Load(dir)
	require.NoError(t, err)
	var buf bytes.Buffer
	require.NoError(t, template.Must(template.New("cfg").Parse(rigConfig)).Execute(&buf, struct {
		rigParams
		HTTP string
	}{p, target.Listener.Addr().String()}))
	file := filepath.Join(dir, "albmtls.yaml")
	require.NoError(t, os.WriteFile(file, buf.Bytes(), 0o644))
	cfg, err := config.Load(file)
	require.NoError(t, err, buf.String())
	r.srv, err = emulator.New(cfg, emulator.Options{
		Logger: slog.New(slog.NewTextHandler(testWriter{t}, nil)),
		OnRequest: func(ev emulator.RequestEvent) {
			r.mu.Lock()
			r.entries = append(r.entries, *ev.Entry)
			r.mu.Unlock()
		},
	})
	require.NoError(t, err)
	require.NoError(t, r.srv.Start(context.Background()))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		require.NoError(t, r.srv.Shutdown(ctx))
	})
	return r
}

// client presents the standard PKI's valid client certificate.
func (r *rig) client() *http.Client {
	pool := x509.NewCertPool()
	require.True(r.t, pool.AppendCertsFromPEM(r.set.Bundle()))
	leaf, ok := r.set.Client("valid")
	require.True(r.t, ok)
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "localhost", Certificates: []tls.Certificate{leaf.TLSCertificate()}}}
	r.t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 20 * time.Second}
}

// do sends one request over real mTLS and returns the response and body.
func (r *rig) do(c *http.Client, method, path string, body []byte, hdr http.Header) (*http.Response, []byte) {
	r.t.Helper()
	req, err := http.NewRequest(method, "https://"+r.srv.Listeners()[0].Addr.String()+path, bytes.NewReader(body))
	require.NoError(r.t, err)
	if body == nil {
		req.Body = nil
	}
	for k, vs := range hdr {
		req.Header[k] = vs
	}
	resp, err := c.Do(req)
	require.NoError(r.t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(r.t, err)
	return resp, b
}

// lastEntry is the access-log entry of the last request, as its line.
func (r *rig) lastLine() []string {
	r.t.Helper()
	var e accesslog.Entry
	require.Eventually(r.t, func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		if len(r.entries) == 0 {
			return false
		}
		e = r.entries[len(r.entries)-1]
		return true
	}, 5*time.Second, 10*time.Millisecond)
	r.mu.Lock()
	r.entries = nil
	r.mu.Unlock()
	return splitLogLine(r.t, e.String())
}

// splitLogLine splits an access-log line into its fields (quoted ones
// unquoted).
func splitLogLine(t testing.TB, line string) []string {
	var out []string
	for line != "" {
		line = strings.TrimLeft(line, " ")
		if strings.HasPrefix(line, `"`) {
			end := strings.Index(line[1:], `"`)
			require.GreaterOrEqual(t, end, 0, line)
			out = append(out, line[1:1+end])
			line = line[2+end:]
			continue
		}
		f, rest, _ := strings.Cut(line, " ")
		out = append(out, f)
		line = rest
	}
	return out
}

// Access-log field positions (alb-behaviour §7).
const (
	fTarget       = 4
	fELBStatus    = 8
	fTargetStatus = 9
	fTGARN        = 16
	fErrorReason  = 24
	fTargetList   = 25
	fStatusList   = 26
)

// lastHTTPHeaders is what the HTTP target received last.
func (r *rig) lastHTTPHeaders() http.Header {
	r.mu.Lock()
	defer r.mu.Unlock()
	require.NotEmpty(r.t, r.httpGot)
	return r.httpGot[len(r.httpGot)-1]
}

// startHandler runs the test binary as the handler process against the
// built-in Runtime API at addr; the returned function waits for it to end.
func startHandler(t testing.TB, addr string) (wait func() error) {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), handlerEnv+"=1", "AWS_LAMBDA_RUNTIME_API="+addr)
	cmd.Stdout, cmd.Stderr = testWriter{t}, testWriter{t}
	require.NoError(t, cmd.Start())
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-done
	})
	return func() error {
		select {
		case err := <-done:
			done <- err
			return err
		case <-time.After(10 * time.Second):
			return fmt.Errorf("the handler process did not exit")
		}
	}
}

// freeAddr returns a loopback address nothing listens on (just released).
func freeAddr(t testing.TB) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
