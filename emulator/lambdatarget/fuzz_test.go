package lambdatarget

import (
	"encoding/json"
	"net/http"
	"testing"
)

// FuzzResponseDocument: whatever a function returns, ParseResponse never
// panics, and what it accepts is a status from 100 to 599 with headers
// HTTP can carry (the mapping that writes them to the client).
func FuzzResponseDocument(f *testing.F) {
	for _, s := range []string{
		`{"statusCode":200,"statusDescription":"200 OK","headers":{"a":"b"},"body":"x"}`,
		`{"statusCode":200,"multiValueHeaders":{"Set-Cookie":["a","b"]},"body":"aGk=","isBase64Encoded":true}`,
		`{"statusCode":"200"}`, `{"errorMessage":"x","errorType":"E"}`, `null`, `[]`, ``,
	} {
		f.Add([]byte(s), false)
		f.Add([]byte(s), true)
	}
	f.Fuzz(func(t *testing.T, payload []byte, multi bool) {
		r, err := ParseResponse(payload, multi)
		if err != nil {
			return
		}
		if r.Status < 100 || r.Status > 599 {
			t.Fatalf("accepted status %d", r.Status)
		}
		for k, vs := range r.Header {
			for _, v := range vs {
				if !validHeader(k, v) {
					t.Fatalf("accepted header %q: %q", k, v)
				}
			}
		}
	})
}

// FuzzEvent: any request gives a JSON event or LambdaBadRequest, never a
// panic; the event keeps the method and the header values.
func FuzzEvent(f *testing.F) {
	f.Add("GET", "/a?b=c&b=d", "x-a", "1", "text/plain", []byte("hi"), false)
	f.Add("POST", "http://h/p?&", "Cookie", "a=1", "", []byte{0, 0xff}, true)
	f.Fuzz(func(t *testing.T, method, uri, name, value, ct string, body []byte, multi bool) {
		h := http.Header{}
		h.Set("Content-Type", ct)
		h.Add(name, value)
		b, reason := BuildEvent(Request{Method: method, RequestURI: uri, Host: "h", Header: h, Body: body}, "arn", multi)
		if reason != ReasonNone {
			if reason != ReasonBadRequest {
				t.Fatalf("reason %s", reason)
			}
			return
		}
		var ev map[string]any
		if err := json.Unmarshal(b, &ev); err != nil {
			t.Fatalf("event is not JSON: %v", err)
		}
		if ev["httpMethod"] != method {
			t.Fatalf("httpMethod %v, want %q", ev["httpMethod"], method)
		}
	})
}

func validHeader(k, v string) bool {
	for _, c := range k {
		if c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == ':' {
			return false
		}
	}
	for _, c := range v {
		if c == '\r' || c == '\n' || c == 0 {
			return false
		}
	}
	return true
}
