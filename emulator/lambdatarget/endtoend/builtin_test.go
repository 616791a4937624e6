package endtoend_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/albmtls/albmtls/emulator"
	"github.com/albmtls/albmtls/emulator/awsarn"
	"github.com/albmtls/albmtls/emulator/config"
	"github.com/albmtls/albmtls/pki"
	"github.com/albmtls/albmtls/pki/pkitest"
)

// fnARN is the lambda target group's ARN in the rig.
var fnARN = awsarn.TargetGroup("eu-west-1", "123456789012", "fn", awsarn.TargetGroupID("123456789012", "fn"))

// echoRequest sends the request both runtimes answer and returns the event
// the handler saw; it also sends the same client certificate to the HTTP
// target, and checks that every mTLS header, X-Forwarded-* included, has
// the value the HTTP target got, byte for byte.
func echoRequest(t *testing.T, r *rig) events.ALBTargetGroupRequest {
	t.Helper()
	c := r.client()
	hdr := http.Header{"Cookie": {"a=1", "b=2"}, "X-Custom": {"Mixed Case"}}
	resp, body := r.do(c, http.MethodGet, "/echo/p%20q?a=1&a=2&&plus=x+y%2Bz&flag", nil, hdr)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	var ev events.ALBTargetGroupRequest
	require.NoError(t, json.Unmarshal(body, &ev), string(body))
	line := r.lastLine()
	assert.Equal(t, "-", line[fTarget], "target:port of a Lambda target")
	assert.Equal(t, "200", line[fELBStatus])
	assert.Equal(t, "200", line[fTargetStatus])
	assert.Equal(t, fnARN, line[fTGARN])
	assert.Equal(t, "-", line[fErrorReason])
	assert.Equal(t, "-", line[fTargetList])
	assert.Equal(t, "-", line[fStatusList])

	resp, body = r.do(c, http.MethodGet, "/http/x", nil, hdr)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	got := r.lastHTTPHeaders()
	headers := ev.Headers
	if ev.MultiValueHeaders != nil {
		headers = map[string]string{}
		for k, vs := range ev.MultiValueHeaders {
			headers[k] = vs[len(vs)-1]
		}
	}
	n := 0
	for k, vs := range got {
		lk := strings.ToLower(k)
		if !strings.HasPrefix(lk, "x-amzn-mtls-clientcert") && !strings.HasPrefix(lk, "x-forwarded-") {
			continue
		}
		n++
		require.Len(t, vs, 1, k)
		assert.Equal(t, vs[0], headers[lk], "%s: the Lambda event and the HTTP target disagree", k)
	}
	for k := range headers {
		if strings.HasPrefix(k, "x-amzn-mtls-clientcert") {
			assert.NotEmpty(t, got.Values(k), "%s reached the function but not the HTTP target", k)
		}
	}
	assert.GreaterOrEqual(t, n, 4, "the mTLS and X-Forwarded headers the HTTP target got: %v", got)
	return ev
}

func TestBuiltInRuntimeAPIGivesTheHandlerALBsEvent(t *testing.T) {
	r := startRig(t, rigParams{})
	startHandler(t, r.srv.LambdaRuntimeAPI("fn"))
	ev := echoRequest(t, r)
	assert.Equal(t, fnARN, ev.RequestContext.ELB.TargetGroupArn)
	assert.Equal(t, "GET", ev.HTTPMethod)
	assert.Equal(t, "/echo/p%20q", ev.Path, "the path as sent")
	assert.Equal(t, map[string]string{"a": "2", "plus": "x+y%2Bz", "flag": ""}, ev.QueryStringParameters, "last value, not decoded")
	assert.Nil(t, ev.MultiValueHeaders)
	assert.Equal(t, "b=2", ev.Headers["cookie"], "the last value of a repeated header")
	assert.Equal(t, "Mixed Case", ev.Headers["x-custom"], "names lower-cased, values kept")
	assert.Equal(t, r.srv.Listeners()[0].Addr.String(), ev.Headers["host"])
	assert.Equal(t, "https", ev.Headers["x-forwarded-proto"])
	assert.Equal(t, strconv.Itoa(r.srv.Listeners()[0].Addr.(*net.TCPAddr).Port), ev.Headers["x-forwarded-port"])
	assert.Equal(t, "127.0.0.1", ev.Headers["x-forwarded-for"])
	assert.True(t, strings.HasPrefix(ev.Headers["x-amzn-trace-id"], "Root=1-"), ev.Headers["x-amzn-trace-id"])
	for _, k := range []string{"x-amzn-mtls-clientcert-subject", "x-amzn-mtls-clientcert-issuer", "x-amzn-mtls-clientcert-serial-number", "x-amzn-mtls-clientcert-validity", "x-amzn-mtls-clientcert-leaf"} {
		assert.NotEmpty(t, ev.Headers[k], k)
	}
	for k := range ev.Headers {
		assert.Equal(t, strings.ToLower(k), k)
	}
	assert.False(t, ev.IsBase64Encoded)
	assert.Equal(t, "", ev.Body)
}

func TestBuiltInRuntimeAPIPassthroughSendsTheChainHeader(t *testing.T) {
	r := startRig(t, rigParams{Mode: "passthrough"})
	startHandler(t, r.srv.LambdaRuntimeAPI("fn"))
	ev := echoRequest(t, r)
	assert.True(t, strings.HasPrefix(ev.Headers["x-amzn-mtls-clientcert"], "-----BEGIN%20CERTIFICATE-----"), ev.Headers["x-amzn-mtls-clientcert"])
	assert.Empty(t, ev.Headers["x-amzn-mtls-clientcert-subject"], "passthrough sends the chain only")
}

func TestBuiltInRuntimeAPIBodiesAndResponses(t *testing.T) {
	r := startRig(t, rigParams{})
	startHandler(t, r.srv.LambdaRuntimeAPI("fn"))
	c := r.client()
	for _, tc := range []struct {
		ct   string
		b64  bool
		body []byte
	}{
		{"text/plain; charset=utf-8", false, []byte("hé+llo")},
		{"application/json", false, []byte(`{"a":1}`)},
		{"application/xml", false, []byte(`<a/>`)},
		{"application/octet-stream", true, []byte{0, 1, 0xff}},
		{"", true, []byte("no content type")},
		{"image/png", true, []byte("png")},
	} {
		resp, body := r.do(c, http.MethodPost, "/echo", tc.body, http.Header{"Content-Type": {tc.ct}})
		require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
		var ev events.ALBTargetGroupRequest
		require.NoError(t, json.Unmarshal(body, &ev))
		assert.Equal(t, tc.b64, ev.IsBase64Encoded, tc.ct)
		want := string(tc.body)
		if tc.b64 {
			want = base64.StdEncoding.EncodeToString(tc.body)
		}
		assert.Equal(t, want, ev.Body, tc.ct)
		assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
		assert.Equal(t, "aws-lambda-go", resp.Header.Get("X-Handler"))
		assert.Empty(t, resp.TransferEncoding, "hop-by-hop headers of the function are dropped")
		assert.Equal(t, int64(len(body)), resp.ContentLength)
	}
	resp, body := r.do(c, http.MethodGet, "/binary", nil, nil)
	assert.Equal(t, http.StatusCreated, resp.StatusCode)
	assert.Equal(t, []byte{0, 1, 2, 0xff}, body, "isBase64Encoded bodies are decoded")
	assert.Equal(t, "application/octet-stream", resp.Header.Get("Content-Type"))
	line := r.lastLine()
	assert.Equal(t, "201", line[fTargetStatus])
}

func TestBuiltInRuntimeAPIMultiValueHeaders(t *testing.T) {
	r := startRig(t, rigParams{Multi: true})
	startHandler(t, r.srv.LambdaRuntimeAPI("fn"))
	c := r.client()
	resp, body := r.do(c, http.MethodGet, "/echo?a=1&a=2&b=%20", nil, http.Header{"Cookie": {"a=1", "b=2"}})
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	var ev events.ALBTargetGroupRequest
	require.NoError(t, json.Unmarshal(body, &ev))
	assert.Nil(t, ev.Headers)
	assert.Nil(t, ev.QueryStringParameters)
	assert.Equal(t, map[string][]string{"a": {"1", "2"}, "b": {"%20"}}, ev.MultiValueQueryStringParameters)
	assert.Equal(t, []string{"a=1", "b=2"}, ev.MultiValueHeaders["cookie"])
	assert.Equal(t, []string{"a=1", "b=2"}, resp.Header.Values("Set-Cookie"), "multiValueHeaders reach the client")
	assert.False(t, resp.Close, "Connection from the function is not honoured")
	echoRequest(t, r)
}

// failure asserts ALB's answer and log line for a failed invocation.
func failure(t *testing.T, r *rig, c *http.Client, method, path string, body []byte, status int, reason string) {
	t.Helper()
	resp, page := r.do(c, method, path, body, nil)
	assert.Equal(t, status, resp.StatusCode, string(page))
	assert.Equal(t, "awselb/2.0", resp.Header.Get("Server"), "ALB's own page")
	assert.Contains(t, string(page), strconv.Itoa(status))
	line := r.lastLine()
	assert.Equal(t, strconv.Itoa(status), line[fELBStatus])
	assert.Equal(t, "-", line[fTarget])
	assert.Equal(t, "-", line[fTargetStatus])
	assert.Equal(t, reason, line[fErrorReason])
	assert.Equal(t, "-", line[fTargetList])
	assert.Equal(t, "-", line[fStatusList])
}

// works asserts that the function answers again.
func works(t *testing.T, r *rig, c *http.Client) {
	t.Helper()
	resp, body := r.do(c, http.MethodGet, "/echo", nil, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	r.lastLine()
}

func TestBuiltInRuntimeAPIBadInput(t *testing.T) {
	r := startRig(t, rigParams{})
	api := r.srv.LambdaRuntimeAPI("fn")
	wait := startHandler(t, api)
	c := r.client()
	works(t, r, c)

	failure(t, r, c, http.MethodGet, "/garbage", nil, http.StatusBadGateway, "LambdaInvalidResponse")
	works(t, r, c)
	failure(t, r, c, http.MethodGet, "/error", nil, http.StatusBadGateway, "LambdaUnhandled")
	works(t, r, c)
	failure(t, r, c, http.MethodGet, "/big", nil, http.StatusBadGateway, "LambdaResponseTooLarge")
	works(t, r, c)
	failure(t, r, c, http.MethodGet, "/big2", nil, http.StatusBadGateway, "LambdaResponseTooLarge")
	works(t, r, c)
	failure(t, r, c, http.MethodPost, "/echo", make([]byte, 1<<20+1), http.StatusRequestEntityTooLarge, "LambdaRequestTooLarge")
	works(t, r, c)
	// The handler sleeps 1.5 s past the 1 s timeout; its late answer is
	// dropped and it takes the next event.
	failure(t, r, c, http.MethodGet, "/sleep", nil, http.StatusBadGateway, "LambdaUnhandled")
	works(t, r, c)

	// A panic: aws-lambda-go reports it and the process exits, as a Lambda
	// environment ends; until a new handler polls, requests time out.
	failure(t, r, c, http.MethodGet, "/crash", nil, http.StatusBadGateway, "LambdaUnhandled")
	require.Error(t, wait(), "the handler process exits after a panic")
	failure(t, r, c, http.MethodGet, "/echo", nil, http.StatusBadGateway, "LambdaUnhandled")
	startHandler(t, api)
	works(t, r, c)
}

func TestUnreachableEndpoint(t *testing.T) {
	r := startRig(t, rigParams{Endpoint: "http://" + freeAddr(t)})
	c := r.client()
	failure(t, r, c, http.MethodGet, "/echo", nil, http.StatusBadGateway, "LambdaServiceException")
	failure(t, r, c, http.MethodGet, "/echo", nil, http.StatusBadGateway, "LambdaServiceException")
	resp, body := r.do(c, http.MethodGet, "/http/x", nil, nil)
	assert.Equal(t, http.StatusOK, resp.StatusCode, "the HTTP target group is unaffected: %s", body)
}

// TestDocsExampleServes runs docs/lambda.md's example config (ports
// freed, the PKI beside it) with the test handler behind it.
func TestDocsExampleServes(t *testing.T) {
	doc, err := os.ReadFile("../../../docs/lambda.md")
	require.NoError(t, err)
	_, rest, ok := strings.Cut(string(doc), "```yaml\n# lambda.yaml, next to pki/\n")
	require.True(t, ok, "docs/lambda.md lost its example config")
	yml, _, _ := strings.Cut(rest, "```")
	yml = strings.NewReplacer("pki/", "", "port: 8443", "port: 0", "127.0.0.1:9001", "127.0.0.1:0").Replace(yml)
	dir := pkitest.Dir(t)
	file := filepath.Join(dir, "lambda.yaml")
	require.NoError(t, os.WriteFile(file, []byte(yml), 0o644))
	cfg, err := config.Load(file)
	require.NoError(t, err, yml)
	srv, err := emulator.New(cfg, emulator.Options{Logger: slog.New(slog.NewTextHandler(testWriter{t}, nil))})
	require.NoError(t, err)
	require.NoError(t, srv.Start(context.Background()))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		require.NoError(t, srv.Shutdown(ctx))
	})
	startHandler(t, srv.LambdaRuntimeAPI("hello"))
	set, err := pki.Load(dir)
	require.NoError(t, err)
	r := &rig{t: t, set: set, srv: srv}
	resp, body := r.do(r.client(), http.MethodGet, "/", nil, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	var ev events.ALBTargetGroupRequest
	require.NoError(t, json.Unmarshal(body, &ev))
	assert.Equal(t, "CN=valid", ev.Headers["x-amzn-mtls-clientcert-subject"])
	assert.NotEmpty(t, ev.Headers["x-amzn-mtls-clientcert-leaf"])
}

// BenchmarkRoundTrip is one request over a kept-alive mTLS connection
// to the aws-lambda-go handler process on the built-in Runtime API
// (/echo), against the same to the HTTP target (/http/x).
func BenchmarkRoundTrip(b *testing.B) {
	r := startRig(b, rigParams{})
	startHandler(b, r.srv.LambdaRuntimeAPI("fn"))
	c := r.client()
	for _, path := range []string{"/echo", "/http/x"} {
		b.Run(strings.TrimPrefix(path, "/"), func(b *testing.B) {
			for b.Loop() {
				resp, _ := r.do(c, http.MethodGet, path, nil, nil)
				if resp.StatusCode != http.StatusOK {
					b.Fatal(resp.Status)
				}
			}
		})
	}
}
