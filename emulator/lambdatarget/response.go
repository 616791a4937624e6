package lambdatarget

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// Response is a function's answer mapped to HTTP.
type Response struct {
	Status int
	// Description is statusDescription ("200 OK"); net/http writes its own
	// reason phrase, so it is parsed but not relayed [INF: docs/lambda.md].
	Description string
	Header      http.Header
	Body        []byte
}

// wireResponse is the response document ("Respond to the load balancer").
type wireResponse struct {
	StatusCode        *json.RawMessage    `json:"statusCode"`
	StatusDescription string              `json:"statusDescription"`
	Headers           map[string]string   `json:"headers"`
	MultiValueHeaders map[string][]string `json:"multiValueHeaders"`
	Body              string              `json:"body"`
	IsBase64Encoded   bool                `json:"isBase64Encoded"`
}

// hopByHop are the headers ALB does not honour in a function's response
// ("such as Connection or Transfer-Encoding"); Content-Length is computed
// by the load balancer.
var hopByHop = []string{"Connection", "Keep-Alive", "Proxy-Connection", "Te", "Trailer", "Transfer-Encoding", "Upgrade", "Content-Length"}

// ParseResponse maps a function's response payload to HTTP. With
// multiValue, headers come from multiValueHeaders ("You must use
// multiValueHeaders if you have enabled multi-value headers and headers
// otherwise"); the other field is ignored [INF]. An error means
// LambdaInvalidResponse: not a JSON object, statusCode missing or not an
// integer from 100 to 599, a body that is not the base64 it claims.
func ParseResponse(payload []byte, multiValue bool) (*Response, error) {
	var w wireResponse
	dec := json.NewDecoder(bytes.NewReader(payload))
	if err := dec.Decode(&w); err != nil {
		return nil, fmt.Errorf("the response is not the JSON response document: %v", err)
	}
	if dec.More() {
		return nil, fmt.Errorf("the response has data after the JSON document")
	}
	if w.StatusCode == nil {
		return nil, fmt.Errorf("the response has no statusCode")
	}
	code, err := strconv.Atoi(strings.TrimSpace(string(*w.StatusCode)))
	if err != nil || code < 100 || code > 599 {
		return nil, fmt.Errorf("statusCode %s is not an HTTP status code", *w.StatusCode)
	}
	r := &Response{Status: code, Description: w.StatusDescription, Header: http.Header{}}
	if multiValue {
		for k, vs := range w.MultiValueHeaders {
			for _, v := range vs {
				r.Header.Add(k, v)
			}
		}
	} else {
		for k, v := range w.Headers {
			r.Header.Set(k, v)
		}
	}
	for _, k := range hopByHop {
		r.Header.Del(k)
	}
	for k, vs := range r.Header {
		for _, v := range vs {
			if strings.ContainsAny(v, "\r\n\x00") || strings.ContainsAny(k, " \t\r\n:") {
				return nil, fmt.Errorf("header %q has a value or name HTTP cannot carry", k)
			}
		}
	}
	if w.IsBase64Encoded {
		b, err := base64.StdEncoding.DecodeString(w.Body)
		if err != nil {
			return nil, fmt.Errorf("isBase64Encoded is true but body is not base64: %v", err)
		}
		r.Body = b
	} else {
		r.Body = []byte(w.Body)
	}
	return r, nil
}
