package emulator_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/albmtls/albmtls/emulator"
	"github.com/albmtls/albmtls/emulator/config"
	"github.com/albmtls/albmtls/pki/pkitest"
)

// fourMistakes has four mistakes of different kinds (an unknown key, a bad
// mode, an unknown listener attribute, a bad ssl_policy) and a fifth that
// only reading files finds: a trust store bundle that does not exist.
const fourMistakes = `trust_stores: [{name: ts, ca_certificates_bundle: missing-bundle.pem}]
listeners:
  - port: 0
    protocol: HTTPS
    ssl_policy: ELBSecurityPolicy-TLS13-1-2-2021-6
    certificates: [{certificate: server/server.pem, private_key: server/server-key.pem}]
    mutual_authentication: {mode: verifyy, trust_store: ts}
    attributes: {routing.http.made_up.enabled: "true"}
    default_action: {type: fixed-response, fixed_response: {status_code: "200"}}
emulation: {rejectwith: alert}
`

// TestCheckReportsEveryProblemInOneRun: Check lists the config's static
// problems and the file problem together, each with its line and key path.
func TestCheckReportsEveryProblemInOneRun(t *testing.T) {
	dir := pkitest.Dir(t)
	file := filepath.Join(dir, "albmtls.yaml")
	require.NoError(t, os.WriteFile(file, []byte(fourMistakes), 0o644))
	cfg, static, err := config.LoadAll(file)
	require.NoError(t, err)
	require.NotNil(t, cfg)
	errs := emulator.Check(cfg, static, emulator.Options{})
	want := []string{
		"albmtls.yaml:7: listeners[0].mutual_authentication.mode: \"verifyy\" is not a mutual authentication mode",
		"albmtls.yaml:10: emulation.rejectwith: unknown key",
		"albmtls.yaml:5: listeners[0].ssl_policy: unknown security policy",
		"albmtls.yaml:8: listeners[0].attributes.routing.http.made_up.enabled: albmtls does not support the listener attribute",
		"albmtls.yaml:1: trust_stores[0]:",
	}
	require.Len(t, errs, len(want), "%v", errs)
	for _, w := range want {
		assert.Contains(t, errs.Error(), w)
	}
	assert.Contains(t, errs.Error(), "missing-bundle.pem")
}

// TestCheckValidConfig: a valid config checks clean and binds nothing.
func TestCheckValidConfig(t *testing.T) {
	dir := pkitest.Dir(t)
	file := filepath.Join(dir, "albmtls.yaml")
	require.NoError(t, os.WriteFile(file, []byte(`listeners:
  - port: 0
    protocol: HTTPS
    certificates: [{certificate: server/server.pem, private_key: server/server-key.pem}]
    default_action: {type: fixed-response, fixed_response: {status_code: "200"}}
logs: {access: {file: access.log}}
`), 0o644))
	cfg, static, err := config.LoadAll(file)
	require.NoError(t, err)
	require.Empty(t, static)
	assert.Empty(t, emulator.Check(cfg, static, emulator.Options{}))
	assert.NoFileExists(t, filepath.Join(dir, "access.log"), "Check opens no log file")
}
