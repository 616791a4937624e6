package albresponse

import (
	"net/http"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCurlReusesConnection drives the real curl binary through a redirect,
// an error page and a fixed response on one connection: curl must reuse it
// (ALB's "Connection: keep-alive", alb-behaviour §8.2) and print ALB's
// status lines and header order.
func TestCurlReusesConnection(t *testing.T) {
	curl, err := exec.LookPath("curl")
	require.NoError(t, err, "curl is needed (.ci/run installs it)")
	ts := handlerServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/redirect":
			WriteRedirect(w, r, RedirectConfig{Protocol: "HTTPS", Port: "443", StatusCode: RedirectTemporary}, "HTTP", 80, ResponseOptions{})
		case "/error":
			WriteError(w, r, 503, ResponseOptions{})
		default:
			WriteFixed(w, r, FixedResponseConfig{StatusCode: "200", ContentType: "text/plain", MessageBody: "ok"}, ResponseOptions{})
		}
	}), false, false)
	out, err := exec.Command(curl, "-sS", "-v", "-m", "20", "-o", "/dev/null", "-o", "/dev/null", "-o", "/dev/null",
		ts.URL+"/redirect", ts.URL+"/error", ts.URL+"/fixed").CombinedOutput()
	require.NoError(t, err, string(out))
	s := string(out)
	assert.Contains(t, s, "< HTTP/1.1 302 Moved Temporarily")
	assert.Contains(t, s, "< HTTP/1.1 503 Service Temporarily Unavailable")
	assert.Contains(t, s, "< Content-Type: text/plain; charset=utf-8")
	assert.Equal(t, 2, strings.Count(s, "Re-using existing connection"), s)
	assert.Equal(t, 1, strings.Count(s, "Connected to"), s)
	assert.NotContains(t, s, "Connection died")
	i, j := strings.Index(s, "< Server: awselb/2.0"), strings.Index(s, "< Date: ")
	k, l := strings.Index(s, "< Content-Type: text/html"), strings.Index(s, "< Location: ")
	assert.True(t, i >= 0 && i < j && j < k && k < l, "Server, Date, Content-Type, ..., Location:\n%s", s)
}
