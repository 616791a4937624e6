package albresponse

import (
	"bufio"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRedirectValidate(t *testing.T) {
	for _, tc := range []struct {
		name     string
		cfg      RedirectConfig
		listener string
		wantErr  string // substring; "" means valid
	}{
		{"http to https", RedirectConfig{Protocol: "HTTPS", Port: "443", StatusCode: "HTTP_301"}, "HTTP", ""},
		{"new host only", RedirectConfig{Host: "www.#{host}", StatusCode: "HTTP_302"}, "HTTPS", ""},
		{"new path with placeholders", RedirectConfig{Path: "/new/#{host}/#{port}/#{path}", StatusCode: "HTTP_301"}, "HTTP", ""},
		{"query any placeholder", RedirectConfig{Port: "8443", Query: "#{query}&p=#{protocol}", StatusCode: "HTTP_301"}, "HTTP", ""},
		{"missing status", RedirectConfig{Protocol: "HTTPS"}, "HTTP", "status_code is required"},
		{"bad status", RedirectConfig{Protocol: "HTTPS", StatusCode: "HTTP_307"}, "HTTP", `status_code "HTTP_307"`},
		{"https to http", RedirectConfig{Protocol: "HTTP", StatusCode: "HTTP_301"}, "HTTPS", "cannot redirect HTTPS to HTTP"},
		{"http to http allowed", RedirectConfig{Protocol: "HTTP", Port: "8080", StatusCode: "HTTP_301"}, "HTTP", ""},
		{"bad protocol", RedirectConfig{Protocol: "https", StatusCode: "HTTP_301"}, "HTTP", `protocol "https"`},
		{"port zero", RedirectConfig{Port: "0", StatusCode: "HTTP_301"}, "HTTP", `port "0"`},
		{"port too big", RedirectConfig{Port: "65536", StatusCode: "HTTP_301"}, "HTTP", `port "65536"`},
		{"port words", RedirectConfig{Port: "https", StatusCode: "HTTP_301"}, "HTTP", `port "https"`},
		{"port max", RedirectConfig{Port: "65535", StatusCode: "HTTP_301"}, "HTTP", ""},
		{"loop", RedirectConfig{StatusCode: "HTTP_301"}, "HTTP", "redirect would loop"},
		{"explicit loop", RedirectConfig{Protocol: "#{protocol}", Host: "#{host}", Port: "#{port}", Path: "/#{path}", Query: "a=b", StatusCode: "HTTP_301"}, "HTTP", "redirect would loop"},
		{"path without slash", RedirectConfig{Path: "new", StatusCode: "HTTP_301"}, "HTTP", "must start with"},
		{"protocol placeholder in path", RedirectConfig{Path: "/#{protocol}", StatusCode: "HTTP_301"}, "HTTP", "may not contain #{protocol}"},
		{"path placeholder in host", RedirectConfig{Host: "#{path}.example.com", StatusCode: "HTTP_301"}, "HTTP", "may not contain #{path}"},
		{"unknown placeholder", RedirectConfig{Host: "#{hots}", StatusCode: "HTTP_301"}, "HTTP", "may not contain #{hots}"},
		{"host too long", RedirectConfig{Host: string(make([]byte, 129)), StatusCode: "HTTP_301"}, "HTTP", "1 to 128 characters"},
		{"bad listener", RedirectConfig{Protocol: "HTTPS", StatusCode: "HTTP_301"}, "TCP", `listener protocol "TCP"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate(tc.listener)
			if tc.wantErr == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.wantErr)
		})
	}
}

func TestRedirectLocation(t *testing.T) {
	for _, tc := range []struct {
		name     string
		cfg      RedirectConfig
		target   string // request-target as sent
		host     string
		listener string
		port     int
		want     string
	}{
		{"http to https keeps everything", RedirectConfig{Protocol: "HTTPS", Port: "443"}, "/version", "web.example.com", "HTTP", 80, "https://web.example.com:443/version"},
		{"host port stripped, query kept", RedirectConfig{Protocol: "HTTPS", Port: "8443"}, "/a/b?x=1&y=2", "localhost:8080", "HTTP", 8080, "https://localhost:8443/a/b?x=1&y=2"},
		{"listener port by default", RedirectConfig{Host: "new.example.com"}, "/", "old.example.com:9999", "HTTPS", 443, "https://new.example.com:443/"},
		{"path placeholder drops slash", RedirectConfig{Path: "/new/#{path}"}, "/old/page", "h", "HTTP", 80, "http://h:80/new/old/page"},
		{"path uses host and port", RedirectConfig{Path: "/#{host}/#{port}/#{path}"}, "/p", "h.example", "HTTP", 8080, "http://h.example:8080/h.example/8080/p"},
		{"host placeholder", RedirectConfig{Host: "www.#{host}"}, "/", "example.com", "HTTPS", 443, "https://www.example.com:443/"},
		{"query replaced", RedirectConfig{Port: "81", Query: "#{query}&value=xyz"}, "/p?a=1", "h", "HTTP", 80, "http://h:81/p?a=1&value=xyz"},
		{"empty query drops ?", RedirectConfig{Port: "81"}, "/p", "h", "HTTP", 80, "http://h:81/p"},
		{"query set to empty stays absent", RedirectConfig{Port: "81", Query: "#{query}"}, "/p?", "h", "HTTP", 80, "http://h:81/p"},
		{"not re-encoded", RedirectConfig{Protocol: "HTTPS", Port: "443"}, "/a%20b/%7Euser?q=%2F", "h", "HTTP", 80, "https://h:443/a%20b/%7Euser?q=%2F"},
		{"ipv6 host", RedirectConfig{Protocol: "HTTPS", Port: "8443"}, "/", "[::1]:8080", "HTTP", 8080, "https://[::1]:8443/"},
		{"protocol placeholder lower-case", RedirectConfig{Port: "8443", Query: "from=#{protocol}"}, "/", "h", "HTTPS", 443, "https://h:8443/?from=https"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, tc.target, nil)
			r.Host = tc.host
			assert.Equal(t, tc.want, tc.cfg.Location(r, tc.listener, tc.port))
		})
	}
}

// TestWriteRedirectWire reproduces the HTTP:80 -> HTTPS:443 capture of
// alb-behaviour §8.2 (Date masked), read off a raw connection.
func TestWriteRedirectWire(t *testing.T) {
	cfg := RedirectConfig{Protocol: "HTTPS", Port: "443", StatusCode: "HTTP_301"}
	require.NoError(t, cfg.Validate("HTTP"))
	locations := make(chan string, 2)
	ts := handlerServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		loc, _ := WriteRedirect(w, r, cfg, "HTTP", 80, ResponseOptions{})
		locations <- loc
	}), false, false)
	c := dialRaw(t, ts)
	br := bufio.NewReader(c)
	resp := exchange(t, c, br, "GET /version HTTP/1.1\r\nHost: web.example.com\r\n\r\n", false)
	assert.Equal(t, "HTTP/1.1 301 Moved Permanently", resp.StatusLine)
	assert.Equal(t, "https://web.example.com:443/version", resp.header("Location"))
	assert.Equal(t, "https://web.example.com:443/version", <-locations)
	assert.Equal(t, "134", resp.header("Content-Length"))
	assert.Equal(t, "awselb/2.0", resp.header("Server"))
	assert.Equal(t, "text/html", resp.header("Content-Type"))
	_, page := Page(301)
	assert.Equal(t, string(page), string(resp.Body))

	// Keep-alive, as in the capture: a 302 on the same connection.
	resp = exchange(t, c, br, "GET /again HTTP/1.1\r\nHost: web.example.com\r\n\r\n", false)
	assert.Equal(t, "HTTP/1.1 301 Moved Permanently", resp.StatusLine)
	assert.Equal(t, "https://web.example.com:443/again", resp.header("Location"))
}

func TestWriteRedirect302(t *testing.T) {
	cfg := RedirectConfig{Host: "elsewhere.example", StatusCode: "HTTP_302"}
	ts := handlerServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		WriteRedirect(w, r, cfg, "HTTPS", 443, ResponseOptions{})
	}), true, false)
	c := dialRaw(t, ts)
	br := bufio.NewReader(c)
	resp := exchange(t, c, br, "GET /p?q=1 HTTP/1.1\r\nHost: example.com\r\n\r\n", false)
	assert.Equal(t, "HTTP/1.1 302 Moved Temporarily", resp.StatusLine, "the page keeps its 302 Found title")
	assert.Equal(t, "https://elsewhere.example:443/p?q=1", resp.header("Location"))
	_, page := Page(302)
	assert.Equal(t, page, resp.Body)
}
