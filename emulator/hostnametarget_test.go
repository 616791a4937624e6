package emulator_test

import (
	"crypto/tls"
	"net"
	"net/http"
	"net/netip"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/albmtls/albmtls/emulator/accesslog"
)

// TestHostnameTargetInTargetPortList: a target registered by hostname
// (localhost:PORT, as in docker-compose) is logged by the IP address and
// port the load balancer dialled, in target:port and target:port_list
// alike (alb-behaviour §7 fields 5 and 25), whether the target answered or refused
// the connection. A refused hostname target used to vanish from both.
func TestHostnameTargetInTargetPortList(t *testing.T) {
	web := echoBackend(t, "web") // listens on 127.0.0.1
	_, up, err := net.SplitHostPort(web.Listener.Addr().String())
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	_, down, _ := net.SplitHostPort(ln.Addr().String())
	require.NoError(t, ln.Close()) // nothing listens there now: refused

	for _, tc := range []struct {
		name       string
		port       string
		status     int
		targetCode string
	}{
		{"answered", up, http.StatusOK, "200"},
		{"refused", down, http.StatusBadGateway, "-"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := startLB(t, params{Action: forwardWeb, Targets: []string{net.JoinHostPort("localhost", tc.port)}})
			out := l.get("valid", tls.VersionTLS13, "/", nil)
			require.Equal(t, tc.status, out.status, out.body)

			line := readLog(t, filepath.Join(l.dir, "logs", "access.log"), 1)[0]
			e, err := accesslog.ParseLine(line)
			require.NoError(t, err, line)
			require.True(t, e.Target.IsValid(), "target:port is the address dialled: %s", line)
			assert.True(t, e.Target.Addr().IsLoopback(), "localhost resolved: %s", line)
			assert.Equal(t, tc.port, strconv.Itoa(int(e.Target.Port())), line)
			assert.Equal(t, []netip.AddrPort{e.Target}, e.TargetPortList, "target:port_list matches target:port: %s", line)
			assert.Contains(t, line, ` "`+e.Target.String()+`" "`+tc.targetCode+`" `, "target:port_list and target_status_code_list as written")
		})
	}
}
