package targetgroup

import (
	"net"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// saturatedListener returns the address of a socket whose accept queue is
// full, so new connects hang in SYN_SENT like a target behind a dropping
// firewall: Linux drops SYNs for a listener with a full accept queue.
func saturatedListener(t *testing.T) string {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	require.NoError(t, err)
	t.Cleanup(func() { syscall.Close(fd) })
	require.NoError(t, syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}))
	require.NoError(t, syscall.Listen(fd, 0)) // never accepted
	sa, err := syscall.Getsockname(fd)
	require.NoError(t, err)
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(sa.(*syscall.SockaddrInet4).Port))
	for range 8 { // fill the queue until a connect times out
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err != nil {
			return addr
		}
		t.Cleanup(func() { c.Close() })
	}
	t.Fatal("could not saturate the accept queue")
	return ""
}

// TestConnectTimeout: a target that never completes the TCP handshake is a
// 504 once the connect timeout expires (ALB: 10 s; shortened here).
func TestConnectTimeout(t *testing.T) {
	addr := saturatedListener(t)
	g := startGroup(t, Config{Targets: []string{addr}, HealthCheck: HealthCheck{Enabled: disabled()}, ConnectTimeout: 200 * time.Millisecond})
	f := newFront(t, g, false, nil)
	line, h, _ := f.rawGet(t)
	assert.Equal(t, "HTTP/1.1 504 Gateway Time-out", line)
	assert.Equal(t, "132", h.Get("Content-Length"))
	out := f.last(t)
	assert.Equal(t, 504, out.ELBStatus)
	assert.Equal(t, FailureTargetConnectionTimeout, out.Failure)
	assert.Equal(t, addr, out.Target().String())
}
