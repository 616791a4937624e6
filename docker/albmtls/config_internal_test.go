package albmtls

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/albmtls/albmtls/emulator/config"
	"github.com/albmtls/albmtls/emulator/listener"
	"github.com/albmtls/albmtls/emulator/routing"
	"github.com/albmtls/albmtls/pki/pkitest"
)

// generated builds the config of opts and checks it with the emulator's own
// config parser (file checks aside, which need the container's paths).
func generated(t *testing.T, opts ...Option) (*config.Config, layout) {
	t.Helper()
	o := defaultOptions()
	for _, opt := range opts {
		require.NoError(t, opt(&o))
	}
	data, lay, err := o.generateConfig(pkitest.Standard(t))
	require.NoError(t, err)
	cfg, err := config.Parse(ConfigPath, data)
	require.NoError(t, err, "the generated config must be valid:\n%s", data)
	return cfg, lay
}

func TestGeneratedConfigDefaults(t *testing.T) {
	cfg, lay := generated(t)
	require.Len(t, cfg.Listeners, 1)
	l := cfg.Listeners[0]
	assert.Equal(t, listener.ProtocolHTTPS, l.Protocol)
	assert.Equal(t, 8443, l.Port)
	assert.Equal(t, "0.0.0.0", l.Address)
	assert.Equal(t, DefaultSSLPolicy, l.SSLPolicy)
	assert.Equal(t, ModeVerify, l.MutualAuthentication.Mode)
	assert.Equal(t, TrustStoreName, l.MutualAuthentication.TrustStore)
	assert.Equal(t, routing.ActionFixedResponse, l.DefaultAction.Type)
	require.Len(t, cfg.TrustStores, 1)
	assert.Equal(t, "pki/ca/bundle.pem", cfg.TrustStores[0].CACertificatesBundle)
	assert.Equal(t, []string{"pki/crl/intermediate.crl.pem", "pki/crl/root.crl.pem"}, cfg.TrustStores[0].Revocations)
	assert.Equal(t, "0.0.0.0:9090", cfg.Admin.Listen)
	assert.Equal(t, ConnectionLogPath, cfg.Logs.Connection.File)
	assert.Equal(t, AccessLogPath, cfg.Logs.Access.File)
	assert.Equal(t, layout{listenerPorts: []int{8443}, httpsPort: 8443, adminPort: 9090,
		connLog: ConnectionLogPath, accessLog: AccessLogPath, trustStore: TrustStoreName}, lay)
}

func TestGeneratedConfigOptions(t *testing.T) {
	const subject = "routing.http.request.x_amzn_mtls_clientcert_subject.header_name"
	cfg, _ := generated(t,
		WithTarget("backend:8080"), WithHostTarget(9001),
		WithListenerAttribute(subject, "X-Client-Subject"),
		WithSSLPolicy("ELBSecurityPolicy-2016-08"),
		WithIgnoreClientCertificateExpiry(),
	)
	l := cfg.Listeners[0]
	assert.Equal(t, routing.ActionForward, l.DefaultAction.Type)
	require.Len(t, cfg.TargetGroups, 1)
	assert.Equal(t, l.DefaultAction.TargetGroup, cfg.TargetGroups[0].Name)
	assert.Equal(t, []string{"backend:8080", "host.docker.internal:9001"}, cfg.TargetGroups[0].Targets)
	assert.Equal(t, map[string]string{subject: "X-Client-Subject"}, l.Attributes)
	assert.Equal(t, "ELBSecurityPolicy-2016-08", l.SSLPolicy)
	require.NotNil(t, l.MutualAuthentication.IgnoreClientCertificateExpiry)
	assert.True(t, *l.MutualAuthentication.IgnoreClientCertificateExpiry)
}

func TestGeneratedConfigModes(t *testing.T) {
	for _, m := range []Mode{ModePassthrough, ModeOff} {
		t.Run(string(m), func(t *testing.T) {
			cfg, _ := generated(t, WithMode(m))
			ma := cfg.Listeners[0].MutualAuthentication
			assert.Equal(t, m, ma.Mode)
			assert.Empty(t, ma.TrustStore, "ALB refuses a trust store outside verify mode")
		})
	}
}

func TestGeneratedConfigTrustStore(t *testing.T) {
	cfg, _ := generated(t, WithTrustStore("/host/ca.pem", "/host/a.crl.pem", "/elsewhere/a.crl.pem"))
	ts := cfg.TrustStores[0]
	assert.Equal(t, "/etc/albmtls/truststore/bundle.pem", ts.CACertificatesBundle)
	assert.Equal(t, []string{"/etc/albmtls/truststore/1-a.crl.pem", "/etc/albmtls/truststore/2-a.crl.pem"}, ts.Revocations,
		"two CRLs with one base name must not overwrite each other")
}

func TestUserLayout(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "user.yaml"))
	require.NoError(t, err)
	lay, err := userLayout("user.yaml", data)
	require.NoError(t, err)
	assert.Equal(t, layout{
		listenerPorts: []int{8080, 443}, httpsPort: 443, httpPort: 8080, adminPort: 9999,
		connLog: "/etc/albmtls/logs/conn.log", accessLog: "/var/log/access.log", trustStore: "corp",
	}, lay)
}

func TestOlder(t *testing.T) {
	assert.True(t, older("01", "02"))
	assert.True(t, older("ff", "0100"))
	assert.False(t, older("02", "02"))
	assert.False(t, older("", "02"), "a CRL without a number is kept")
}
