package lambdatarget

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestQueryParametersAreNotDecoded(t *testing.T) {
	assert.Equal(t, map[string][]string{"a": {"1", "2"}, "b": {"x+y%2Bz"}, "c": {""}, "%20k": {"v=w"}},
		QueryParameters("&a=1&&a=2&b=x+y%2Bz&c&%20k=v=w"))
	assert.Empty(t, QueryParameters(""))
}

func TestEncodeBody(t *testing.T) {
	for _, tc := range []struct {
		ct  string
		b64 bool
	}{
		{"text/html", false}, {"TEXT/CSV; charset=latin1", false}, {"application/json", false},
		{"application/javascript", false}, {"application/xml", false},
		{"application/x-www-form-urlencoded", true}, {"application/json-seq", true}, {"", true}, {";;bad", true},
	} {
		body, b64 := EncodeBody(tc.ct, []byte("x"))
		assert.Equal(t, tc.b64, b64, tc.ct)
		if b64 {
			assert.Equal(t, "eA==", body)
		}
	}
	body, b64 := EncodeBody("image/png", nil)
	assert.Equal(t, "", body)
	assert.False(t, b64, "an empty body is not encoded")
}

func TestBuildEvent(t *testing.T) {
	req := Request{Method: "POST", RequestURI: "/a%2Fb?x=1&x=2", Host: "lb.example", Header: http.Header{
		"X-Amzn-Mtls-Clientcert-Subject": {"CN=valid"}, "Cookie": {"a=1", "b=2"}, "Content-Type": {"text/plain"}}, Body: []byte("hi")}
	b, reason := BuildEvent(req, "arn:tg", false)
	require.Equal(t, ReasonNone, reason)
	assert.JSONEq(t, `{"requestContext":{"elb":{"targetGroupArn":"arn:tg"}},"httpMethod":"POST","path":"/a%2Fb",
		"queryStringParameters":{"x":"2"},"headers":{"host":"lb.example","x-amzn-mtls-clientcert-subject":"CN=valid","cookie":"b=2","content-type":"text/plain"},
		"body":"hi","isBase64Encoded":false}`, string(b))
	b, _ = BuildEvent(req, "arn:tg", true)
	assert.JSONEq(t, `{"requestContext":{"elb":{"targetGroupArn":"arn:tg"}},"httpMethod":"POST","path":"/a%2Fb",
		"multiValueQueryStringParameters":{"x":["1","2"]},"multiValueHeaders":{"host":["lb.example"],"x-amzn-mtls-clientcert-subject":["CN=valid"],"cookie":["a=1","b=2"],"content-type":["text/plain"]},
		"body":"hi","isBase64Encoded":false}`, string(b))
	b, _ = BuildEvent(Request{Method: "GET", RequestURI: "/", Header: http.Header{}}, "arn:tg", false)
	assert.Contains(t, string(b), `"queryStringParameters":{}`, "an empty map is sent as {}, as in ALB's health check event")

	_, reason = BuildEvent(Request{Method: "GET", RequestURI: "/", Header: http.Header{"X": {"\xff"}}}, "arn", false)
	assert.Equal(t, ReasonBadRequest, reason)
	_, reason = BuildEvent(Request{Method: "POST", RequestURI: "/", Header: http.Header{"Content-Type": {"text/plain"}}, Body: []byte{0xff}}, "arn", false)
	assert.Equal(t, ReasonBadRequest, reason)
	_, reason = BuildEvent(Request{Method: "POST", RequestURI: "/", Header: http.Header{}, Body: []byte{0xff}}, "arn", false)
	assert.Equal(t, ReasonNone, reason, "binary bodies are base64-encoded")
}

func TestParseResponse(t *testing.T) {
	r, err := ParseResponse([]byte(`{"statusCode":404,"statusDescription":"404 Not Found","headers":{"x-a":"1","Connection":"close","Content-Length":"99"},"multiValueHeaders":{"x-b":["2"]},"body":"aGk=","isBase64Encoded":true}`), false)
	require.NoError(t, err)
	assert.Equal(t, 404, r.Status)
	assert.Equal(t, http.Header{"X-A": {"1"}}, r.Header, "headers only, hop-by-hop and Content-Length dropped")
	assert.Equal(t, []byte("hi"), r.Body)
	r, err = ParseResponse([]byte(`{"statusCode":200,"headers":{"x-a":"1"},"multiValueHeaders":{"Set-Cookie":["a","b"]}}`), true)
	require.NoError(t, err)
	assert.Equal(t, http.Header{"Set-Cookie": {"a", "b"}}, r.Header, "multiValueHeaders only")
	assert.Empty(t, r.Body, "the body may be omitted")
	for _, bad := range []string{
		``, `not json`, `[]`, `{"body":"x"}`, `{"statusCode":"200"}`, `{"statusCode":99}`, `{"statusCode":600}`, `{"statusCode":200.5}`,
		`{"statusCode":200} trailing`, `{"statusCode":200,"isBase64Encoded":true,"body":"%%%"}`, `{"statusCode":200,"headers":{"x":"a\r\nb"}}`,
		`{"statusCode":200,"headers":{"x":1}}`,
	} {
		_, err := ParseResponse([]byte(bad), false)
		assert.Error(t, err, bad)
	}
}

func TestReasonStatus(t *testing.T) {
	assert.Equal(t, 413, ReasonRequestTooLarge.Status())
	assert.Equal(t, 503, ReasonThrottling.Status())
	assert.Equal(t, 504, ReasonConnectTimeout.Status())
	for _, r := range []Reason{ReasonInvalidResponse, ReasonUnhandled, ReasonResponseTooLarge, ReasonBadRequest, ReasonResourceNotFound, ReasonServiceException} {
		assert.Equal(t, 502, r.Status(), r)
	}
}

func TestInvokeClientMapsTheEndpointsAnswers(t *testing.T) {
	for _, tc := range []struct {
		name    string
		status  int
		header  string
		body    string
		reason  Reason
		funcErr string
	}{
		{"ok", 200, "", `{"statusCode":200}`, ReasonNone, ""},
		{"function error", 200, "Unhandled", `{"errorMessage":"x"}`, ReasonNone, "Unhandled"},
		{"RIE function error", 200, "", `{"errorMessage":"x","errorType":"E"}`, ReasonNone, "Unhandled"},
		{"RIE timeout", 200, "", `Task timed out after 1.00 seconds`, ReasonNone, "Unhandled"},
		{"RIE exit", 502, "", `{"errorType":"Runtime.ExitError"}`, ReasonNone, "Unhandled"},
		{"too large", 200, "", strings.Repeat("x", MaxResponseJSON+1), ReasonResponseTooLarge, ""},
		{"not found", 404, "", `{"Type":"User"}`, ReasonResourceNotFound, ""},
		{"throttled", 429, "", ``, ReasonThrottling, ""},
		{"request too large", 413, "", ``, ReasonRequestTooLarge, ""},
		{"service", 500, "", `boom`, ReasonServiceException, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				assert.Equal(t, "/2015-03-31/functions/fn/invocations", r.URL.Path)
				assert.Equal(t, "RequestResponse", r.Header.Get("X-Amz-Invocation-Type"))
				assert.Equal(t, "Root=1-x", r.Header.Get("X-Amzn-Trace-Id"))
				if tc.header != "" {
					w.Header().Set("X-Amz-Function-Error", tc.header)
				}
				w.WriteHeader(tc.status)
				_, _ = w.Write([]byte(tc.body))
			}))
			defer srv.Close()
			c, err := NewInvokeClient(srv.URL)
			require.NoError(t, err)
			defer c.Close()
			res, err := c.Invoke(context.Background(), "fn", []byte(`{}`), "Root=1-x")
			var ie *InvokeError
			if tc.reason != ReasonNone {
				require.ErrorAs(t, err, &ie)
				assert.Equal(t, tc.reason, ie.Reason)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.funcErr, res.FunctionError)
		})
	}
	_, err := NewInvokeClient("127.0.0.1:9000")
	assert.Error(t, err)
}

func TestRuntimeHostProtocol(t *testing.T) {
	h := NewRuntimeHost("127.0.0.1:0", "arn:aws:lambda:eu-west-1:123456789012:function:f")
	require.NoError(t, h.Start())
	defer h.Close()
	base := "http://" + h.Addr() + "/2018-06-01/runtime/invocation/"
	post := func(path, body string) int {
		resp, err := http.Post(base+path, "application/json", strings.NewReader(body))
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	assert.Equal(t, http.StatusBadRequest, post("nosuch/response", "{}"), "an unknown request ID")

	done := make(chan Result, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		res, err := h.Invoke(ctx, "f", []byte(`{"e":1}`), "Root=1-abc")
		assert.NoError(t, err)
		done <- res
	}()
	resp, err := http.Get(base + "next")
	require.NoError(t, err)
	var ev map[string]int
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&ev))
	resp.Body.Close()
	assert.Equal(t, 1, ev["e"])
	id := resp.Header.Get("Lambda-Runtime-Aws-Request-Id")
	assert.Len(t, id, 36)
	assert.Equal(t, "arn:aws:lambda:eu-west-1:123456789012:function:f", resp.Header.Get("Lambda-Runtime-Invoked-Function-Arn"))
	assert.Equal(t, "Root=1-abc", resp.Header.Get("Lambda-Runtime-Trace-Id"))
	assert.NotEmpty(t, resp.Header.Get("Lambda-Runtime-Deadline-Ms"))
	assert.Equal(t, http.StatusAccepted, post(id+"/response", "not json at all"))
	assert.Equal(t, []byte("not json at all"), (<-done).Payload, "the payload is passed on as is; the group judges it")
	assert.Equal(t, http.StatusBadRequest, post(id+"/response", "{}"), "answered already")

	// Nobody polls: the invocation times out as an Unhandled function error.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err = h.Invoke(ctx, "f", nil, "")
	assert.True(t, errors.Is(err, errFunctionTimeout), "%v", err)
	assert.Contains(t, err.Error(), "AWS_LAMBDA_RUNTIME_API="+h.Addr())
}
