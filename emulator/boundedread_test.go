package emulator_test

import (
	"bytes"
	"crypto/tls"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"text/template"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/albmtls/albmtls/emulator"
	"github.com/albmtls/albmtls/emulator/config"
	"github.com/albmtls/albmtls/pki/pkitest"
)

// TestStartupRefusesUnboundedInputs is issue 19 item 6: /dev/zero as the
// bundle, a CRL, the server certificate or its key used to be read until
// memory ran out. Now New fails at once, naming the file and the limit.
func TestStartupRefusesUnboundedInputs(t *testing.T) {
	dir := pkitest.Dir(t)
	for _, tc := range []struct {
		name, from string
		want       []string
	}{
		{"bundle", "ca/bundle.pem", []string{"CA certificates bundle /dev/zero", "8388608 bytes"}},
		{"crl", "crl/root.crl.pem", []string{"revocation file /dev/zero", "52428800 bytes"}},
		{"certificate", "server/server.pem", []string{"certificate file /dev/zero", "1048576 bytes"}},
		{"key", "server/server-key.pem", []string{"private key file /dev/zero", "1048576 bytes"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			require.NoError(t, template.Must(template.New("cfg").Parse(baseConfig)).Execute(&buf, params{
				Mode: "verify", Action: fixedOK, Admin: `{listen: "127.0.0.1:0"}`,
				Revocations: []string{"crl/intermediate.crl.pem", "crl/root.crl.pem"}}))
			yaml := strings.Replace(buf.String(), tc.from, "/dev/zero", 1)
			require.NotEqual(t, buf.String(), yaml)
			file := filepath.Join(dir, tc.name+".yaml")
			require.NoError(t, os.WriteFile(file, []byte(yaml), 0o644))
			cfg, err := config.Load(file)
			require.NoError(t, err)
			_, err = emulator.New(cfg, emulator.Options{})
			require.Error(t, err)
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
			assert.Contains(t, err.Error(), "not a regular file")
		})
	}
}

// TestHotReloadRefusesHugeBundle is issue 19 item 6: an 8 GiB sparse file
// swapped in for the bundle during a live run used to kill the emulator.
// Now the reload is refused and logged, and the old store goes on serving.
func TestHotReloadRefusesHugeBundle(t *testing.T) {
	l := startLB(t, params{})
	n := l.connCount()
	require.NoError(t, l.get("valid", tls.VersionTLS13, "/", nil).err)
	require.Equal(t, "Success", l.lastConn(n).Entry.VerifyStatus)

	huge := filepath.Join(l.dir, "ca", "huge.pem")
	require.NoError(t, os.WriteFile(huge, nil, 0o644))
	require.NoError(t, os.Truncate(huge, 8<<30)) // 8 GiB, no blocks on disk
	bundle := filepath.Join(l.dir, "ca", "bundle.pem")
	require.NoError(t, os.Rename(huge, bundle))

	waitFor(t, "the refused reload to be logged", func() bool {
		return strings.Contains(l.logs.String(), "is 8589934592 bytes (8.0 GiB), over the CA certificates bundle limit")
	})
	assert.Contains(t, l.logs.String(), "keeping the previous trust store")
	assert.Contains(t, l.logs.String(), bundle)

	n = l.connCount()
	assert.NoError(t, l.get("valid", tls.VersionTLS13, "/", nil).err)
	assert.Equal(t, "Success", l.lastConn(n).Entry.VerifyStatus, "the old trust store still serves")
	stillRevoked(t, l)
}
