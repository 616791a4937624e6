package emulator_test

import (
	"crypto/tls"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestGeneratedResponseKeepsConnection: after a fixed-response on an
// HTTPS verify listener the connection stays open ("Connection:
// keep-alive", alb-behaviour §8.2), and a request forwarded on it still
// carries the client certificate's headers: the connection's TLS record
// survives the hand-over. The fixed response also carries ALB's
// "; charset=utf-8" (alb-behaviour §8.3), unless
// emulation.fixed_response_charset is none.
func TestGeneratedResponseKeepsConnection(t *testing.T) {
	for _, tc := range []struct {
		emulation, contentType string
	}{
		{"", "text/plain; charset=utf-8"},
		{"  fixed_response_charset: none", "text/plain"},
	} {
		t.Run(tc.contentType, func(t *testing.T) {
			web := echoBackend(t, "web-1")
			extra := `    rules:
      - priority: 1
        conditions: {path_pattern: ["/fixed"]}
        action: {type: fixed-response, fixed_response: {status_code: "200", content_type: text/plain, message_body: ok}}
`
			l := startLB(t, params{Action: forwardWeb, Targets: []string{web.Listener.Addr().String()}, Extra: extra, Emulation: tc.emulation})
			tr := &http.Transport{TLSClientConfig: l.tlsConfig("valid", tls.VersionTLS13)}
			t.Cleanup(tr.CloseIdleConnections)
			c := &http.Client{Transport: tr, Timeout: 10 * time.Second}
			get := func(path string) (*http.Response, string) {
				t.Helper()
				req, err := http.NewRequest(http.MethodGet, "https://"+l.httpsAddr()+path, nil)
				require.NoError(t, err)
				resp, err := c.Do(req)
				require.NoError(t, err)
				defer resp.Body.Close()
				b, err := io.ReadAll(resp.Body)
				require.NoError(t, err)
				return resp, string(b)
			}
			for range 2 {
				resp, body := get("/fixed")
				assert.Equal(t, "ok", body)
				assert.Equal(t, tc.contentType, resp.Header.Get("Content-Type"))
				assert.Equal(t, "keep-alive", resp.Header.Get("Connection"))
				_, body = get("/echo")
				h := decodeEcho(t, body).Headers
				assert.NotEmpty(t, h.Get("X-Amzn-Mtls-Clientcert-Subject"), "mTLS headers after the hand-over")
			}
			assert.Len(t, l.connEvents(1), 1, "one TLS connection for all four requests")
		})
	}
}
