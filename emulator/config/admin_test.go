package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAdminSettings(t *testing.T) {
	for _, tc := range []struct {
		name, admin string
		wantErr     string
		wantAddr    string
	}{
		{"empty host is loopback", `{listen: ":9090"}`, "", "127.0.0.1:9090"},
		{"explicit wildcard kept", `{listen: "0.0.0.0:9090", token: "0123456789abcdef0123"}`, "", "0.0.0.0:9090"},
		{"short token", `{listen: "127.0.0.1:9090", token: short}`, `admin.token: the admin token is 5 characters; use at least 16`, ""},
		{"token with space", `{listen: "127.0.0.1:9090", token: "0123456789 abcdef"}`, `admin.token: the admin token contains white space`, ""},
		{"allowed host with port", `{listen: "127.0.0.1:9090", allowed_hosts: ["alb:9090"]}`, `admin.allowed_hosts[0]: "alb:9090" is not a host name`, ""},
		{"allowed hosts", `{listen: "127.0.0.1:9090", allowed_hosts: [alb, "::1", "[::1]"]}`, "", "127.0.0.1:9090"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse("x.yaml", []byte(minimal+"admin: "+tc.admin+"\n"))
			if tc.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.wantAddr, c.Admin.Address())
		})
	}
}

// TestApplyEnv: ALBMTLS_ADMIN_TOKEN wins over admin.token, and is checked.
func TestApplyEnv(t *testing.T) {
	c, err := Parse("x.yaml", []byte(minimal+`admin: {listen: "127.0.0.1:9090", token: file-token-0123456789}`+"\n"))
	require.NoError(t, err)
	env := map[string]string{}
	require.NoError(t, c.ApplyEnv(func(k string) string { return env[k] }))
	assert.Equal(t, "file-token-0123456789", c.Admin.Token, "no variable: the file's token")
	env[AdminTokenEnv] = "env-token-0123456789"
	require.NoError(t, c.ApplyEnv(func(k string) string { return env[k] }))
	assert.Equal(t, "env-token-0123456789", c.Admin.Token)
	env[AdminTokenEnv] = "short"
	err = c.ApplyEnv(func(k string) string { return env[k] })
	require.Error(t, err)
	assert.Contains(t, err.Error(), "ALBMTLS_ADMIN_TOKEN: the admin token is 5 characters")
}

// TestLoadBounded is issue 19 item 6: /dev/zero or a huge sparse file as
// the config used to be read until memory ran out.
func TestLoadBounded(t *testing.T) {
	sparse := filepath.Join(t.TempDir(), "huge.yaml")
	require.NoError(t, os.WriteFile(sparse, nil, 0o644))
	require.NoError(t, os.Truncate(sparse, 8<<30))
	for _, file := range []string{"/dev/zero", sparse} {
		_, err := Load(file)
		require.Error(t, err, file)
		msg := err.Error()
		assert.Contains(t, msg, "config file "+file, msg)
		assert.Contains(t, msg, "8388608 bytes", msg)
		if strings.HasPrefix(file, "/dev") {
			assert.Contains(t, msg, "not a regular file")
		} else {
			assert.Contains(t, msg, "is 8589934592 bytes")
		}
	}
}
