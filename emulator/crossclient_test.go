package emulator_test

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// rawEchoTarget is a raw-socket target that answers every request with the
// client subject ALB sent it ("for:<subject>"). On the first request for
// /late it then waits for the test and writes one more complete response,
// unasked, on the same connection ("secret-for:<subject>"): a target with
// a framing bug. It reports each late write.
func rawEchoTarget(t *testing.T, sendLate <-chan struct{}, lateSent chan<- struct{}) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	var once sync.Once
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer c.Close()
				br := bufio.NewReader(c)
				for {
					req, err := http.ReadRequest(br)
					if err != nil {
						return
					}
					subject := req.Header.Get("X-Amzn-Mtls-Clientcert-Subject")
					body := "for:" + subject
					_, _ = fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
					if req.URL.Path == "/late" {
						once.Do(func() {
							<-sendLate
							late := "secret-for:" + subject
							_, _ = fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s", len(late), late)
							lateSent <- struct{}{}
						})
					}
				}
			})
		}
	})
	return ln.Addr().String()
}

// TestNoCrossClientResponse is issue 19 item 2 end to end: through a verify
// listener, bytes a target sends late on the pooled connection that carried
// client A's (CN=valid) request never reach client B (CN=member), whose
// request would otherwise be the next on that connection.
func TestNoCrossClientResponse(t *testing.T) {
	sendLate, lateSent := make(chan struct{}), make(chan struct{}, 1)
	target := rawEchoTarget(t, sendLate, lateSent)
	l := startLB(t, params{Action: forwardWeb, Targets: []string{target}})

	a := l.get("valid", tls.VersionTLS13, "/late", nil)
	require.NoError(t, a.err)
	require.Equal(t, http.StatusOK, a.status)
	require.True(t, strings.HasPrefix(a.body, "for:") && strings.Contains(a.body, "CN=valid"), a.body)
	close(sendLate)
	select {
	case <-lateSent:
	case <-time.After(10 * time.Second):
		t.Fatal("the target never sent its late response")
	}
	time.Sleep(50 * time.Millisecond) // loopback delivery, not a speed assertion

	for _, path := range []string{"/b1", "/b2"} {
		b := l.get("member", tls.VersionTLS13, path, nil)
		require.NoError(t, b.err)
		assert.NotContains(t, b.body, "CN=valid", "client B received a body produced for client A")
		assert.Equal(t, http.StatusOK, b.status)
		assert.True(t, strings.HasPrefix(b.body, "for:") && strings.Contains(b.body, "CN=member"), b.body)
	}
}
