package targetgroup

import (
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// localhost names addr's port on localhost: a target registered by
// hostname, as in docker-compose.
func localhost(addr string) string { return net.JoinHostPort("localhost", strconv.Itoa(portOf(addr))) }

// TestOutcomeTargetIsConnectedAddress: for a target registered by hostname
// the access log's target:port is the IP address and port connected to, on
// the synchronous and the fallback path; with no connection it is the
// address dialled.
func TestOutcomeTargetIsConnectedAddress(t *testing.T) {
	a := newBackend(t, "a") // listens on 127.0.0.1 only
	for _, tc := range []struct {
		name string
		send func(f *front) (*http.Response, error)
	}{
		{"GET", func(f *front) (*http.Response, error) { return f.srv.Client().Get(f.srv.URL + "/") }},
		{"POST with body", func(f *front) (*http.Response, error) {
			return f.srv.Client().Post(f.srv.URL+"/", "text/plain", strings.NewReader("hi"))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := startGroup(t, Config{Targets: []string{localhost(a.addr())}, HealthCheck: noHealth()})
			f := newFront(t, g, false, nil)
			resp, err := tc.send(f)
			require.NoError(t, err)
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			require.Equal(t, http.StatusOK, resp.StatusCode)
			out := f.last(t)
			assert.Equal(t, a.addr(), out.Target().String())
			assert.Equal(t, []string{a.addr()}, targetList(out))
		})
	}
	t.Run("HTTPS", func(t *testing.T) {
		addr := newTLSBackend(t)
		g := startGroup(t, Config{Protocol: "HTTPS", Targets: []string{localhost(addr)}, HealthCheck: noHealth()})
		f := newFront(t, g, false, nil)
		code, _, _ := f.get(t, "/")
		require.Equal(t, http.StatusOK, code)
		out := f.last(t)
		assert.Equal(t, addr, out.Target().String())
	})
	t.Run("refused", func(t *testing.T) {
		closed := closedPort(t)
		down := localhost(closed)
		g := startGroup(t, Config{Targets: []string{down}, HealthCheck: noHealth()})
		f := newFront(t, g, false, nil)
		code, _, _ := f.get(t, "/")
		require.Equal(t, http.StatusBadGateway, code)
		out := f.last(t)
		// No connection: the address dialled, the hostname resolved (it
		// used to be the registered name, which the access log dropped).
		require.Len(t, out.Attempts, 1)
		assert.Equal(t, down, out.Attempts[0].Registered)
		assert.True(t, out.Target().Addr().IsLoopback(), "localhost resolved: %v", out.Target())
		assert.Equal(t, portOf(closed), int(out.Target().Port()))
		assert.Equal(t, []string{out.Target().String()}, targetList(out))
	})
}
