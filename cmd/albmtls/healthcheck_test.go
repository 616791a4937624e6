package main

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestHealthCheck(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" {
			http.Error(w, "down", http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()
	tests := []struct {
		name, url string
		code      int
		out       string
	}{
		{"healthy", srv.URL + "/healthz", 0, "200 OK"},
		{"unhealthy", srv.URL + "/other", 1, "answered 503 Service Unavailable"},
		{"unreachable", "http://127.0.0.1:1/healthz", 1, "connection refused"},
		{"bad URL", "::", 2, "healthcheck:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCLI("healthcheck", tt.url)
			assert.Equal(t, tt.code, code)
			assert.Contains(t, stdout+stderr, tt.out)
		})
	}
}
