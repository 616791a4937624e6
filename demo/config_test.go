package demo

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/albmtls/albmtls/emulator/config"
	"github.com/albmtls/albmtls/emulator/listener"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// TestDemoConfigGolden: the demo's config is written by config.Marshal, is
// the golden file, and loads back to the config the demo built.
func TestDemoConfigGolden(t *testing.T) {
	d := configData{
		Path: "/tmp/albmtls-demo/albmtls.yaml", Dir: "/tmp/albmtls-demo", Mode: listener.ModeVerify,
		HTTPPort: 8080, HTTPSPort: 8443, Admin: "127.0.0.1:9090",
		CRLs:     []string{"crl/intermediate.crl.pem", "crl/root.crl.pem"},
		Backends: []backendAddr{{"web-1", "127.0.0.1:9001"}, {"web-2", "127.0.0.1:9002"}},
	}
	d.Org.O, d.Org.OU = "Example Corp", "Engineering"
	want := demoConfig(d)
	body, err := config.Marshal(want)
	require.NoError(t, err)
	data := append(configHeader(d), body...)
	golden := filepath.Join("testdata", "albmtls.yaml.golden")
	if *update {
		require.NoError(t, os.WriteFile(golden, data, 0o644))
	}
	g, err := os.ReadFile(golden)
	require.NoError(t, err, "run go test -update")
	assert.Equal(t, string(g), string(data))

	got, err := config.Parse("albmtls.yaml", data)
	require.NoError(t, err)
	assert.Equal(t, want.Listeners[1].MutualAuthentication, got.Listeners[1].MutualAuthentication)
	assert.Equal(t, want.TrustStores, got.TrustStores)
	assert.Equal(t, want.TargetGroups[0].Targets, got.TargetGroups[0].Targets)
	assert.Equal(t, want.TargetGroups[0].HealthCheck, got.TargetGroups[0].HealthCheck)
	assert.Equal(t, want.Listeners[0].DefaultAction, got.Listeners[0].DefaultAction)
	assert.Equal(t, want.Listeners[1].DefaultAction, got.Listeners[1].DefaultAction)
	assert.Equal(t, want.Logs.Connection, got.Logs.Connection)
	assert.Equal(t, want.Admin, got.Admin)
	// Written again, the loaded config is the same file.
	again, err := config.Marshal(got)
	require.NoError(t, err)
	back, err := config.Parse("albmtls.yaml", again)
	require.NoError(t, err)
	assert.Equal(t, got.Listeners, back.Listeners)
}
