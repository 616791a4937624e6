package conformance

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/albmtls/albmtls/emulator/config"
	"github.com/albmtls/albmtls/internal/golden"
	"github.com/albmtls/albmtls/scenarios"
)

// TestTemplateConfigGolden: a scenario's albmtls.yaml is written through
// config.Marshal from a config.Config; it is the golden file, and loads
// back to the same config. The map that --set and Mutate edit is the same
// document.
func TestTemplateConfigGolden(t *testing.T) {
	s := scenarios.Setup{
		Mode: "verify", IgnoreClientCertificateExpiry: true, IdleTimeout: "2s",
		Attributes: map[string]string{"routing.http.xff_header_processing.mode": "preserve"},
		Emulation:  map[string]any{"strip_client_headers": false, "stale_crl": "fail"},
	}
	ts := trustStoreFiles{bundle: "/pki/ca/bundle.pem", revocations: []string{"/pki/crl/intermediate.crl.pem"}}
	addrs := targetAddrs{echo: "127.0.0.1:9001"}
	cfg, err := templateConfig(s, "/pki", ts, addrs)
	require.NoError(t, err)
	data, err := config.Marshal(cfg)
	require.NoError(t, err)
	goldenFile := filepath.Join("testdata", "template.yaml.golden")
	if golden.Update() {
		require.NoError(t, os.WriteFile(goldenFile, data, 0o644))
	}
	want, err := os.ReadFile(goldenFile)
	require.NoError(t, err, "run go test -update")
	assert.Equal(t, string(want), string(data))

	back, err := config.Parse("albmtls.yaml", data)
	require.NoError(t, err, "%s", data)
	assert.Equal(t, cfg.Listeners[0].MutualAuthentication, back.Listeners[0].MutualAuthentication)
	assert.Equal(t, cfg.Listeners[0].Attributes, back.Listeners[0].Attributes)
	assert.Equal(t, cfg.Listeners[1].DefaultAction, back.Listeners[1].DefaultAction)
	assert.Equal(t, cfg.TrustStores, back.TrustStores)
	assert.Equal(t, cfg.LoadBalancer.IdleTimeout, back.LoadBalancer.IdleTimeout)
	assert.False(t, *back.Emulation.StripClientHeaders)
	assert.Equal(t, cfg.Emulation.StaleCRL, back.Emulation.StaleCRL)

	m, err := configMap(s, "/pki", ts, addrs)
	require.NoError(t, err)
	fromMap, err := yaml.Marshal(m)
	require.NoError(t, err)
	viaMap, err := config.Parse("albmtls.yaml", fromMap)
	require.NoError(t, err)
	assert.Equal(t, back.Listeners, viaMap.Listeners)

	_, err = templateConfig(scenarios.Setup{Mode: "strict"}, "/pki", ts, addrs)
	assert.ErrorContains(t, err, `setup.mode: "strict" is not a mutual authentication mode`)
	_, err = templateConfig(scenarios.Setup{Mode: "off", Emulation: map[string]any{"stale_crl": "maybe"}}, "/pki", ts, addrs)
	assert.ErrorContains(t, err, `setup.emulation`)
}
