package targetgroup

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"testing"
)

// BenchmarkForward compares keep-alive requests through Group.Forward with
// the same client talking to the backend directly (the cost of the extra
// hop), through a bare httputil.ReverseProxy (the cost of the emulation
// on top of any Go proxy), and through Forward with http.Transport in
// place of the synchronous transport (what that transport saves).
func BenchmarkForward(b *testing.B) {
	payload := make([]byte, 1024)
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write(payload)
	}))
	defer backend.Close()
	g, err := New(Config{Name: "bench", Targets: []string{backend.Listener.Addr().String()}, HealthCheck: HealthCheck{Enabled: disabled()}}, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer g.Close()
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g.Forward(w, r, nil)
	}))
	defer front.Close()
	// The same Forward writing ALB's header order (SetHeaderOrder), as
	// routing asks for by default.
	before := []string{"X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Port"}
	after := []string{"X-Amzn-Trace-Id"}
	frontOrdered := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		client := []string{"User-Agent", "Accept-Encoding"}
		g.Forward(w, r, func(pr *httputil.ProxyRequest) {
			pr.Out.Header.Set("X-Forwarded-For", "127.0.0.1")
			pr.Out.Header.Set("X-Forwarded-Proto", "https")
			pr.Out.Header.Set("X-Forwarded-Port", "443")
			SetHeaderOrder(pr.Out, HeaderOrder{Before: before, After: after, Client: client})
		})
	}))
	defer frontOrdered.Close()
	gStd, err := New(Config{Name: "bench", Targets: []string{backend.Listener.Addr().String()}, HealthCheck: HealthCheck{Enabled: disabled()}}, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer gStd.Close()
	gStd.proxy.Transport = gStd.transport.fallback
	frontStd := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gStd.Forward(w, r, nil)
	}))
	defer frontStd.Close()
	target := &url.URL{Scheme: "http", Host: backend.Listener.Addr().String()}
	bare := httptest.NewServer(&httputil.ReverseProxy{
		Rewrite:   func(pr *httputil.ProxyRequest) { pr.SetURL(target) },
		Transport: &http.Transport{MaxIdleConnsPerHost: 16},
	})
	defer bare.Close()

	for _, tc := range []struct{ name, url string }{
		{"direct", backend.URL + "/"},
		{"reverseproxy", bare.URL + "/"},
		{"forward", front.URL + "/"},
		{"forward-ordered", frontOrdered.URL + "/"},
		{"forward-httptransport", frontStd.URL + "/"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
			defer client.CloseIdleConnections()
			b.ReportAllocs()
			b.SetBytes(int64(len(payload)))
			for b.Loop() {
				resp, err := client.Get(tc.url)
				if err != nil {
					b.Fatal(err)
				}
				n, _ := io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK || n != int64(len(payload)) {
					b.Fatalf("status %d, %d bytes", resp.StatusCode, n)
				}
			}
		})
	}
}
