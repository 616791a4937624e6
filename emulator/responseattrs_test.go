package emulator_test

import (
	"crypto/tls"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/albmtls/albmtls/emulator/config"
)

// TestResponseHeaderAttributes: the listener's routing.http.response.*
// attributes reach a target's response on both HTTP/1.x front ends (the
// direct forward and ReverseProxy's), and a listener without them passes
// the target's headers as they are (docs/alb-behaviour.md §4.3: a value
// adds the header or overwrites the target's; server.enabled false also
// removes a target's Server header, inferred).
func TestResponseHeaderAttributes(t *testing.T) {
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Server", "nginx")
		w.Header().Set("X-Frame-Options", "DENY")
		_, _ = io.WriteString(w, "ok")
	}))
	t.Cleanup(target.Close)
	for _, fe := range []string{config.FrontEndNetHTTP, config.FrontEndALBMTLS} {
		for _, tc := range []struct {
			name, attrs          string
			server, frameOptions string
		}{
			{"no attributes", "", "nginx", "DENY"},
			{"inserted header and server off",
				`    attributes: {routing.http.response.x_frame_options.header_value: SAMEORIGIN, routing.http.response.server.enabled: "false"}`,
				"", "SAMEORIGIN"},
		} {
			t.Run(strings.ReplaceAll(fe, "/", "")+"/"+tc.name, func(t *testing.T) {
				l := startLB(t, params{Targets: []string{target.Listener.Addr().String()}, Action: forwardWeb,
					Extra: tc.attrs, Emulation: "  http1_front_end: " + fe})
				tr := &http.Transport{TLSClientConfig: l.tlsConfig("valid", tls.VersionTLS13), DisableKeepAlives: true}
				defer tr.CloseIdleConnections()
				c := &http.Client{Transport: tr, Timeout: 10 * time.Second}
				resp, err := c.Get("https://" + l.httpsAddr() + "/")
				require.NoError(t, err)
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				assert.Equal(t, http.StatusOK, resp.StatusCode)
				assert.Equal(t, "ok", string(b))
				assert.Equal(t, tc.server, resp.Header.Get("Server"))
				assert.Equal(t, []string{tc.frameOptions}, resp.Header.Values("X-Frame-Options"))
			})
		}
	}
}
