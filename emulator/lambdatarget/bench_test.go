package lambdatarget

import (
	"net/http"
	"strings"
	"testing"
)

// BenchmarkEventAndResponse is the per-request work of the mapping: the
// event of a verify-mode request (five mTLS headers, a 2 KB leaf) and the
// parse of a small response document.
func BenchmarkEventAndResponse(b *testing.B) {
	h := http.Header{
		"X-Amzn-Mtls-Clientcert-Subject":       {"CN=valid,OU=Engineering,O=Example Corp"},
		"X-Amzn-Mtls-Clientcert-Issuer":        {"CN=Intermediate,O=Example Corp"},
		"X-Amzn-Mtls-Clientcert-Serial-Number": {"6F1E0B2C"},
		"X-Amzn-Mtls-Clientcert-Validity":      {"NotBefore=2026-01-01T00:00:00Z;NotAfter=2027-01-01T00:00:00Z"},
		"X-Amzn-Mtls-Clientcert-Leaf":          {strings.Repeat("A", 2048)},
		"X-Forwarded-For":                      {"127.0.0.1"},
		"X-Forwarded-Proto":                    {"https"},
		"X-Forwarded-Port":                     {"8443"},
		"X-Amzn-Trace-Id":                      {"Root=1-67891233-abcdef012345678912345678"},
		"User-Agent":                           {"curl/8.0"},
	}
	req := Request{Method: "GET", RequestURI: "/p?a=1&b=2", Host: "localhost:8443", Header: h}
	resp := []byte(`{"statusCode":200,"statusDescription":"200 OK","headers":{"Content-Type":"application/json"},"body":"{\"ok\":true}"}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, r := BuildEvent(req, "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/fn/0123456789abcdef", false); r != ReasonNone {
			b.Fatal(r)
		}
		if _, err := ParseResponse(resp, false); err != nil {
			b.Fatal(err)
		}
	}
}
