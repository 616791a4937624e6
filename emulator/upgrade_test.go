package emulator_test

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestUpgradeRelayed: an Upgrade request (the WebSocket handshake's shape)
// is relayed to the target, the target's 101 reaches the client, and then
// bytes flow both ways on the same TLS connection, on both HTTP/1.x front
// ends (emulation.http1_front_end).
func TestUpgradeRelayed(t *testing.T) {
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") != "echo" {
			http.Error(w, "no upgrade", http.StatusBadRequest)
			return
		}
		c, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer c.Close()
		fmt.Fprintf(brw, "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: echo\r\nX-Subject: %s\r\n\r\n",
			r.Header.Get("X-Amzn-Mtls-Clientcert-Subject"))
		_ = brw.Flush()
		for {
			line, err := brw.ReadString('\n')
			if err != nil {
				return
			}
			_, _ = brw.WriteString("echo: " + line)
			_ = brw.Flush()
		}
	}))
	t.Cleanup(target.Close)
	for _, fe := range []string{"net/http", "albmtls"} {
		t.Run(fe, func(t *testing.T) {
			l := startLB(t, params{Action: forwardWeb, Targets: []string{target.Listener.Addr().String()},
				Emulation: "  http1_front_end: " + fe})
			c, err := tls.Dial("tcp", l.httpsAddr(), l.tlsConfig("valid", tls.VersionTLS13))
			require.NoError(t, err)
			defer c.Close()
			require.NoError(t, c.SetDeadline(time.Now().Add(10*time.Second)))
			_, err = io.WriteString(c, "GET /ws HTTP/1.1\r\nHost: app.example.com\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n")
			require.NoError(t, err)
			br := bufio.NewReader(c)
			resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodGet})
			require.NoError(t, err)
			assert.Equal(t, http.StatusSwitchingProtocols, resp.StatusCode)
			assert.Equal(t, "echo", resp.Header.Get("Upgrade"))
			assert.Contains(t, resp.Header.Get("X-Subject"), "CN=valid", "the upgrade request carried ALB's mTLS headers")
			for _, msg := range []string{"one", "two"} {
				_, err = io.WriteString(c, msg+"\n")
				require.NoError(t, err)
				line, err := br.ReadString('\n')
				require.NoError(t, err)
				assert.Equal(t, "echo: "+msg, strings.TrimSpace(line))
			}
		})
	}
}
