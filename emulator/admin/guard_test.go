package admin

import (
	"net"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestExposureWarning: a non-loopback listen address gets a warning, louder
// without a token; loopback gets none. (The addresses are not bound.)
func TestExposureWarning(t *testing.T) {
	tcp := func(ip string) net.Addr { return &net.TCPAddr{IP: net.ParseIP(ip), Port: 9090} }
	for _, tc := range []struct {
		addr  net.Addr
		token bool
		want  []string
	}{
		{tcp("127.0.0.1"), false, nil},
		{tcp("127.0.0.2"), false, nil},
		{tcp("::1"), false, nil},
		{tcp("0.0.0.0"), false, []string{"non-loopback address 0.0.0.0:9090", "no admin.token is set, so anyone on the network can", "ALBMTLS_ADMIN_TOKEN"}},
		{tcp("::"), true, []string{"non-loopback address [::]:9090", "mutations need the admin.token"}},
		{tcp("192.0.2.7"), false, []string{"non-loopback address 192.0.2.7:9090"}},
	} {
		got := ExposureWarning(tc.addr, tc.token)
		if tc.want == nil {
			assert.Empty(t, got, tc.addr.String())
			continue
		}
		for _, w := range tc.want {
			assert.Contains(t, got, w, tc.addr.String())
		}
	}
}

// TestHostAllowed covers the Host rules without a server.
func TestHostAllowed(t *testing.T) {
	loop := Access{Addr: &net.TCPAddr{IP: net.ParseIP("127.0.0.1"), Port: 9090}, ListenHost: "127.0.0.1"}
	wild := Access{Addr: &net.TCPAddr{IP: net.IPv4zero, Port: 9090}, ListenHost: "0.0.0.0", AllowedHosts: []string{"alb"}}
	for _, tc := range []struct {
		a    Access
		host string
		ok   bool
	}{
		{loop, "127.0.0.1:9090", true},
		{loop, "localhost:9090", true},
		{loop, "localhost.:9090", true},
		{loop, "[::1]:9090", true},
		{loop, "127.0.0.1:9091", false},
		{loop, "127.0.0.1", false},
		{loop, "evil.example:9090", false},
		{loop, "", false},
		{wild, "127.0.0.1:32768", true}, // a published port
		{wild, "alb:9090", true},
		{wild, "0.0.0.0:9090", false},
		{wild, "evil.example:9090", false},
	} {
		assert.Equal(t, tc.ok, tc.a.hostAllowed(tc.host), "%s on %s", tc.host, tc.a.Addr)
	}
}
