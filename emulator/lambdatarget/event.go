package lambdatarget

import (
	"encoding/base64"
	"encoding/json"
	"mime"
	"net/http"
	"strings"
	"unicode/utf8"
)

// Request is what the event is built from: the client's request line and
// body, and the headers as ALB forwards them (the client's, with ALB's
// mTLS, X-Forwarded-* and trace headers applied by albheader.ConnHeaders,
// the one place they are computed).
type Request struct {
	Method string
	// RequestURI is the request target as the client sent it; path and
	// query are taken from it undecoded ("If the query parameters are
	// URL-encoded, the load balancer does not decode them").
	RequestURI string
	Host       string
	Header     http.Header
	Body       []byte
}

// singleEvent is the event with lambda.multi_value_headers.enabled false;
// ALB's field order (AWS docs example). Empty maps are sent as {}, as in
// the health check event.
type singleEvent struct {
	RequestContext        requestContext    `json:"requestContext"`
	HTTPMethod            string            `json:"httpMethod"`
	Path                  string            `json:"path"`
	QueryStringParameters map[string]string `json:"queryStringParameters"`
	Headers               map[string]string `json:"headers"`
	Body                  string            `json:"body"`
	IsBase64Encoded       bool              `json:"isBase64Encoded"`
}

// multiEvent is the event with lambda.multi_value_headers.enabled true.
type multiEvent struct {
	RequestContext                  requestContext      `json:"requestContext"`
	HTTPMethod                      string              `json:"httpMethod"`
	Path                            string              `json:"path"`
	MultiValueQueryStringParameters map[string][]string `json:"multiValueQueryStringParameters"`
	MultiValueHeaders               map[string][]string `json:"multiValueHeaders"`
	Body                            string              `json:"body"`
	IsBase64Encoded                 bool                `json:"isBase64Encoded"`
}

type requestContext struct {
	ELB struct {
		TargetGroupARN string `json:"targetGroupArn"`
	} `json:"elb"`
}

// BuildEvent returns the JSON event ALB sends for req, or ReasonBadRequest
// when a header or a body sent as-is is not UTF-8 (LambdaBadRequest: "the
// client request headers or body did not contain only UTF-8 characters").
func BuildEvent(req Request, targetGroupARN string, multiValue bool) ([]byte, Reason) {
	if !utf8.ValidString(req.Method) || !utf8.ValidString(req.RequestURI) {
		return nil, ReasonBadRequest
	}
	var rc requestContext
	rc.ELB.TargetGroupARN = targetGroupARN
	path, query, _ := strings.Cut(req.RequestURI, "?")
	if i := strings.Index(path, "://"); i >= 0 {
		// absolute-form request target: keep the path only.
		rest := path[i+3:]
		path = "/"
		if j := strings.IndexByte(rest, '/'); j >= 0 {
			path = rest[j:]
		}
	}
	headers := lowerHeaders(req)
	for k, vs := range headers {
		if !utf8.ValidString(k) {
			return nil, ReasonBadRequest
		}
		for _, v := range vs {
			if !utf8.ValidString(v) {
				return nil, ReasonBadRequest
			}
		}
	}
	body, b64 := EncodeBody(req.Header.Get("Content-Type"), req.Body)
	if !b64 && !utf8.ValidString(body) {
		return nil, ReasonBadRequest
	}
	params := QueryParameters(query)
	var out any
	if multiValue {
		out = multiEvent{RequestContext: rc, HTTPMethod: req.Method, Path: path,
			MultiValueQueryStringParameters: params, MultiValueHeaders: headers, Body: body, IsBase64Encoded: b64}
	} else {
		out = singleEvent{RequestContext: rc, HTTPMethod: req.Method, Path: path,
			QueryStringParameters: last(params), Headers: last(headers), Body: body, IsBase64Encoded: b64}
	}
	b, err := json.Marshal(out)
	if err != nil { // maps of strings always marshal
		return nil, ReasonBadRequest
	}
	return b, ReasonNone
}

// lowerHeaders returns the request's headers under lower-case names, each
// name's values in the order received, with host from the request line or
// Host header (Go keeps it out of Header).
func lowerHeaders(req Request) map[string][]string {
	h := make(map[string][]string, len(req.Header)+1)
	if req.Host != "" {
		h["host"] = []string{req.Host}
	}
	for k, vs := range req.Header {
		lk := strings.ToLower(k)
		h[lk] = append(h[lk], vs...)
	}
	return h
}

// last keeps the last value of each name: "If you do not enable
// multi-value header syntax and a header or query parameter has multiple
// values, the load balancer uses the last value that it receives."
func last(m map[string][]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, vs := range m {
		if len(vs) > 0 {
			out[k] = vs[len(vs)-1]
		}
	}
	return out
}

// QueryParameters splits a raw query string into parameters without
// decoding keys or values ("the load balancer does not decode them"): "+"
// and "%2B" reach the function as sent. Empty pairs ("?&a=1") are skipped;
// a key without "=" has the value "". [INF] beyond the documented example.
func QueryParameters(raw string) map[string][]string {
	out := map[string][]string{}
	for pair := range strings.SplitSeq(raw, "&") {
		if pair == "" {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		out[k] = append(out[k], v)
	}
	return out
}

// textTypes are the content types ALB sends as is: "text/*,
// application/json, application/javascript, and application/xml. For all
// other types, the load balancer Base64 encodes the body".
var textTypes = []string{"application/json", "application/javascript", "application/xml"}

// EncodeBody returns the event's body and isBase64Encoded for a request
// body of contentType. An empty body is "" and not encoded, as in ALB's
// GET and health check events [INF for other methods].
func EncodeBody(contentType string, body []byte) (string, bool) {
	if len(body) == 0 {
		return "", false
	}
	mt, _, err := mime.ParseMediaType(contentType)
	if err == nil {
		if strings.HasPrefix(mt, "text/") {
			return string(body), false
		}
		for _, t := range textTypes {
			if mt == t {
				return string(body), false
			}
		}
	}
	return base64.StdEncoding.EncodeToString(body), true
}
