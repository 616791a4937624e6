package rules

import (
	"net/http/httptest"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestWildcard(t *testing.T) {
	cases := []struct {
		p, s string
		want bool
	}{
		{"/api/*", "/api/", true},
		{"/api/*", "/api/v1/users", true},
		{"/api/*", "/API/v1", false},
		{"/img/?.png", "/img/a.png", true},
		{"/img/?.png", "/img/ab.png", false},
		{"*", "", true},
		{"", "", true},
		{"", "x", false},
		{"*.example.com", "www.example.com", true},
		{"*.example.com", "example.com", false},
		{"a*b*c", "aXXbYYc", true},
		{"a*b*c", "aXXbYY", false},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, Wildcard(c.p, c.s), "%q ~ %q", c.p, c.s)
	}
}

func TestMatchPriorityAndConditions(t *testing.T) {
	tbl := NewTable([]Rule[string]{
		{Priority: 20, PathPattern: []string{"/api/*"}, Action: "api"},
		{Priority: 10, PathPattern: []string{"/api/admin*"}, SourceIP: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}, Action: "admin"},
		{Priority: 30, HostHeader: []string{"*.Example.com"}, Action: "host"},
		{Priority: 40, HeaderName: "X-Env", HeaderValues: []string{"stag*"}, HTTPRequestMethod: []string{"POST"}, Action: "hdr"},
		{Priority: 50, HeaderName: "X-Amzn-Mtls-Clientcert-Subject", HeaderValues: []string{"*"}, Action: "mtls"},
	})
	loop := netip.MustParseAddr("127.0.0.1")
	ten := netip.MustParseAddr("10.1.2.3")
	get := func(method, target, host string, hdr ...string) string {
		r := httptest.NewRequest(method, target, nil)
		r.Host = host
		for i := 0; i+1 < len(hdr); i += 2 {
			r.Header.Set(hdr[i], hdr[i+1])
		}
		src := loop
		if host == "from-ten" {
			src = ten
		}
		m := tbl.Match(r, src)
		if m == nil {
			return "default"
		}
		return m.Action
	}
	assert.Equal(t, "api", get("GET", "/api/admin/x", "a"))
	assert.Equal(t, "admin", get("GET", "/api/admin/x", "from-ten"))
	assert.Equal(t, "host", get("GET", "/", "www.example.COM:8443"))
	assert.Equal(t, "hdr", get("POST", "/", "a", "X-Env", "STAGING"))
	assert.Equal(t, "default", get("GET", "/", "a", "X-Env", "staging"))
	assert.Equal(t, "default", get("GET", "/nothing?x=/api/", "a"))
	// A client-sent mTLS header is visible to rules (they see the client's
	// request); ALB's own added headers are not — the caller matches before
	// adding them.
	assert.Equal(t, "mtls", get("GET", "/", "a", "X-Amzn-Mtls-Clientcert-Subject", "CN=x"))
}
