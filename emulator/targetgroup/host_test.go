package targetgroup

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestTargetHost(t *testing.T) {
	for _, tc := range []struct {
		host     string
		port     int
		preserve bool
		want     string
	}{
		{"www.amazon.com", 8443, false, "www.amazon.com:8443"}, // the documented example
		{"www.amazon.com", 8443, true, "www.amazon.com"},
		{"www.amazon.com:8443", 8443, false, "www.amazon.com:8443"},
		{"www.amazon.com", 443, false, "www.amazon.com"},
		{"www.amazon.com", 80, false, "www.amazon.com"},
		{"127.0.0.1", 8080, false, "127.0.0.1:8080"},
		{"[::1]", 8443, false, "[::1]:8443"},
		{"[::1]:9000", 8443, false, "[::1]:9000"},
		{"", 8443, false, ""},
	} {
		assert.Equal(t, tc.want, TargetHost(tc.host, tc.port, tc.preserve), "%q on %d preserve=%v", tc.host, tc.port, tc.preserve)
	}
}
