package endtoend_test

import (
	"net"
	"net/http"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// saturatedListener is an address whose accept queue is full, so connects
// hang in SYN_SENT like an endpoint behind a dropping firewall (Linux drops
// SYNs for a listener with a full accept queue).
func saturatedListener(t *testing.T) string {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	require.NoError(t, err)
	t.Cleanup(func() { syscall.Close(fd) })
	require.NoError(t, syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}))
	require.NoError(t, syscall.Listen(fd, 0))
	sa, err := syscall.Getsockname(fd)
	require.NoError(t, err)
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(sa.(*syscall.SockaddrInet4).Port))
	for range 8 {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err != nil {
			return addr
		}
		t.Cleanup(func() { c.Close() })
	}
	t.Fatal("could not saturate the accept queue")
	return ""
}

// TestEndpointConnectTimeout: an Invoke API endpoint that never completes
// the TCP handshake is a 504 LambdaConnectionTimeout once the function
// timeout (1 s here, plus the endpoint grace) ends the wait.
func TestEndpointConnectTimeout(t *testing.T) {
	r := startRig(t, rigParams{Endpoint: "http://" + saturatedListener(t)})
	failure(t, r, r.client(), http.MethodGet, "/echo", nil, http.StatusGatewayTimeout, "LambdaConnectionTimeout")
}
