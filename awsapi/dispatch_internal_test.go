package awsapi

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/albmtls/albmtls/emulator"
	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeServices stands in for the three services: each answers with its
// name, and errors are written as "service code message".
func fakeServices(s *Server) {
	for _, c := range []struct {
		name  string
		codes authCodes
		max   int64
	}{{serviceELBv2, queryAuthCodes, 1 << 10}, {serviceACM, jsonAuthCodes, 1 << 10}, {serviceS3, s3AuthCodes, 1 << 10}} {
		s.services[c.name] = &service{
			name: c.name, codes: c.codes, maxBody: c.max,
			handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				body, err := io.ReadAll(r.Body)
				if err != nil {
					http.Error(w, "body: "+err.Error(), http.StatusRequestEntityTooLarge)
					return
				}
				fmt.Fprintf(w, "served by %s (%d bytes)", c.name, len(body))
			}),
			writeError: func(w http.ResponseWriter, status int, code, message string) {
				w.WriteHeader(status)
				fmt.Fprintf(w, "%s %s %s", c.name, code, message)
			},
		}
	}
}

func newTestEndpoint(t *testing.T, keys map[string]string) string {
	s := &Server{keys: keys, services: map[string]*service{}}
	s.fleet = newFleet(slog.New(slog.DiscardHandler), emulator.Options{})
	s.internal = s.internalHandler()
	fakeServices(s)
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return ts.URL
}

// signed builds a request signed by the AWS SDK's signer for service.
func signed(t *testing.T, method, url, service, key, secret, body string, hdr map[string]string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	require.NoError(t, err)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	sum := sha256.Sum256([]byte(body))
	err = v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = service == "s3" }).SignHTTP(context.Background(), aws.Credentials{AccessKeyID: key, SecretAccessKey: secret},
		req, hex.EncodeToString(sum[:]), service, "eu-west-1", time.Now())
	require.NoError(t, err)
	return req
}

func do(t *testing.T, req *http.Request) (int, string) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestDispatchByCredentialScope(t *testing.T) {
	url := newTestEndpoint(t, nil)
	form := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
	for _, c := range []struct {
		name, service, want string
		status              int
		hdr                 map[string]string
		body                string
	}{
		{"elbv2", "elasticloadbalancing", "served by elasticloadbalancing", 200, form, "Action=DescribeLoadBalancers&Version=2015-12-01"},
		{"acm", "acm", "served by acm", 200, map[string]string{"X-Amz-Target": "CertificateManager.ListCertificates"}, "{}"},
		{"s3", "s3", "served by s3", 200, nil, ""},
		{"scope wins over shape", "acm", "served by acm", 200, form, "Action=DescribeLoadBalancers"},
		{"unknown service", "dynamodb", `elasticloadbalancing UnknownService albmtls serves elasticloadbalancing (ELBv2), acm and s3 on this port; the request is signed for "dynamodb"`, 400, nil, ""},
		{"body over the service's limit", "acm", "acm ValidationException the request body is larger than 1 KiB", 413, nil, strings.Repeat("x", 2000)},
	} {
		t.Run(c.name, func(t *testing.T) {
			status, body := do(t, signed(t, http.MethodPost, url+"/", c.service, "AKIDEXAMPLE", "any", c.body, c.hdr))
			assert.Equal(t, c.status, status)
			assert.True(t, strings.HasPrefix(body, c.want), body)
		})
	}
}

func TestUnsignedAndMalformed(t *testing.T) {
	url := newTestEndpoint(t, nil)
	for _, c := range []struct {
		name, method, path, body string
		hdr                      map[string]string
		status                   int
		want                     string
	}{
		{"unsigned ELBv2 form", "POST", "/", "Action=DescribeLoadBalancers&Version=2015-12-01", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, 403, "elasticloadbalancing MissingAuthenticationToken "},
		{"unsigned ELBv2 query", "GET", "/?Action=DescribeLoadBalancers&Version=2015-12-01", "", nil, 403, "elasticloadbalancing MissingAuthenticationToken "},
		{"unsigned ACM", "POST", "/", "{}", map[string]string{"X-Amz-Target": "CertificateManager.ListCertificates"}, 403, "acm MissingAuthenticationTokenException "},
		{"anonymous S3", "GET", "/bucket/key", "", nil, 200, "served by s3"},
		{"not SigV4", "GET", "/bucket/key", "", map[string]string{"Authorization": "AWS AKID:sig"}, 400, `s3 AuthorizationHeaderMalformed the Authorization header must use AWS4-HMAC-SHA256 (Signature Version 4); got "AWS"`},
		{"bad scope", "POST", "/", "", map[string]string{"Authorization": "AWS4-HMAC-SHA256 Credential=AKID/2026/eu-west-1/acm, SignedHeaders=host, Signature=ab"}, 400, `s3 AuthorizationHeaderMalformed the credential "AKID/2026/eu-west-1/acm" is not ACCESS_KEY/DATE/REGION/SERVICE/aws4_request`},
		{"no signature", "POST", "/", "", map[string]string{"Authorization": "AWS4-HMAC-SHA256 Credential=AKID/20261202/eu-west-1/acm/aws4_request, SignedHeaders=host"}, 400, "s3 AuthorizationHeaderMalformed the Authorization header has no Signature="},
		{"internal route", "GET", "/_albmtls/health", "", nil, 200, "{\n  \"services\""},
		{"unknown internal route", "GET", "/_albmtls/nope", "", nil, 404, `{`},
	} {
		t.Run(c.name, func(t *testing.T) {
			req, err := http.NewRequest(c.method, url+c.path, strings.NewReader(c.body))
			require.NoError(t, err)
			for k, v := range c.hdr {
				req.Header.Set(k, v)
			}
			status, body := do(t, req)
			assert.Equal(t, c.status, status, body)
			assert.True(t, strings.HasPrefix(body, c.want), body)
		})
	}
}

// TestSignatureCheck: with access keys configured, only requests signed
// with a configured key's secret get through.
func TestSignatureCheck(t *testing.T) {
	url := newTestEndpoint(t, map[string]string{"AKIDALBMTLS": "s3cr3t"})
	form := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
	body := "Action=DescribeLoadBalancers&Version=2015-12-01"

	status, out := do(t, signed(t, "POST", url+"/", "elasticloadbalancing", "AKIDALBMTLS", "s3cr3t", body, form))
	assert.Equal(t, 200, status, out)
	assert.Equal(t, "served by elasticloadbalancing (47 bytes)", out, "the body the signature check read is put back")

	status, out = do(t, signed(t, "PUT", url+"/bucket/a%20key", "s3", "AKIDALBMTLS", "s3cr3t", "object", nil))
	assert.Equal(t, 200, status, out)

	status, out = do(t, signed(t, "POST", url+"/", "elasticloadbalancing", "AKIDALBMTLS", "wrong", body, form))
	assert.Equal(t, 403, status)
	assert.Contains(t, out, "elasticloadbalancing SignatureDoesNotMatch ")

	status, out = do(t, signed(t, "POST", url+"/", "acm", "AKIDOTHER", "s3cr3t", "{}", nil))
	assert.Equal(t, 403, status)
	assert.Equal(t, `acm UnrecognizedClientException the access key ID "AKIDOTHER" is not one of aws_api.access_keys`, out)

	req := signed(t, "POST", url+"/", "elasticloadbalancing", "AKIDALBMTLS", "s3cr3t", body, form)
	changed := strings.Replace(body, "Describe", "Xescribe", 1)
	req.Body, req.GetBody = io.NopCloser(strings.NewReader(changed)), nil
	status, out = do(t, req)
	assert.Equal(t, 403, status, "a changed body fails the check: %s", out)

	req, _ = http.NewRequest("GET", url+"/bucket/key", nil)
	status, out = do(t, req)
	assert.Equal(t, 403, status)
	assert.Contains(t, out, "s3 AccessDenied ", "anonymous S3 is refused when keys are set")
}
