package emulator

import (
	"log/slog"
	"net"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/albmtls/albmtls/emulator/config"
	"github.com/albmtls/albmtls/internal/syncbuf"
)

// addrListener is a net.Listener that only reports an address: the wiring
// is tested for a non-loopback admin address without binding one (tests
// stay on loopback).
type addrListener struct {
	net.Listener
	addr net.Addr
}

func (l addrListener) Addr() net.Addr { return l.addr }

// TestAdminExposureWarningLogged is issue 19 item 5: an admin endpoint on
// 0.0.0.0 used to start without a word. Now its wiring logs a warning,
// which names the missing token.
func TestAdminExposureWarningLogged(t *testing.T) {
	for _, tc := range []struct {
		name, admin, bound string
		want               []string
	}{
		{"wildcard without token", `{listen: "0.0.0.0:9090"}`, "0.0.0.0", []string{"level=WARN", "non-loopback address 0.0.0.0:9090", "no admin.token is set"}},
		{"wildcard with token", `{listen: "0.0.0.0:9090", token: "0123456789abcdef0123"}`, "0.0.0.0", []string{"level=WARN", "mutations need the admin.token"}},
		{"loopback", `{listen: "127.0.0.1:9090"}`, "127.0.0.1", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := config.Parse("x.yaml", []byte(`listeners:
  - port: 0
    protocol: HTTP
    default_action: {type: fixed-response, fixed_response: {status_code: "200"}}
admin: `+tc.admin+"\n"))
			require.NoError(t, err)
			var logs syncbuf.Buffer
			s, err := New(cfg, Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
			require.NoError(t, err)
			s.adminLn = addrListener{addr: &net.TCPAddr{IP: net.ParseIP(tc.bound), Port: 9090}}
			require.NotNil(t, s.adminHandler())
			out := logs.String()
			if tc.want == nil {
				assert.NotContains(t, out, "level=WARN")
				return
			}
			for _, w := range tc.want {
				assert.Contains(t, out, w)
			}
			assert.Equal(t, 1, strings.Count(out, "level=WARN"), out)
		})
	}
}
