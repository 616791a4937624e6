package importer_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/albmtls/albmtls/emulator/config"
	"github.com/albmtls/albmtls/importer"
)

// TestListenerAttribute checks Terraform's flat argument names against the
// dotted API keys config supports, both ways.
func TestListenerAttribute(t *testing.T) {
	for _, tc := range []struct {
		flat, key string
		ok        bool
	}{
		{"routing_http_request_x_amzn_mtls_clientcert_serial_number_header_name", "routing.http.request.x_amzn_mtls_clientcert_serial_number.header_name", true},
		{"routing_http_request_x_amzn_mtls_clientcert_header_name", "routing.http.request.x_amzn_mtls_clientcert.header_name", true},
		{"routing_http_response_server_enabled", "routing.http.response.server.enabled", true},
		{"routing_http_request_x_amzn_nonexistent_header_name", "", false},
	} {
		key, ok := importer.ListenerAttribute(tc.flat)
		require.Equal(t, tc.ok, ok, tc.flat)
		require.Equal(t, tc.key, key, tc.flat)
		if ok {
			require.True(t, importer.SupportedListenerAttribute(key), key)
		}
	}
	for _, k := range config.ListenerAttributeKeys() {
		_, ok := importer.ListenerAttribute(flat(k))
		require.True(t, ok, "every supported key has a flat form: %s", k)
	}
}

func flat(k string) string {
	b := []byte(k)
	for i, c := range b {
		if c == '.' || c == '-' {
			b[i] = '_'
		}
	}
	return string(b)
}

// TestExternalTrustStore resolves a trust store named by ARN or name
// through --trust-store, adds it once, and reports a missing one with the
// flag to pass.
func TestExternalTrustStore(t *testing.T) {
	arn := "arn:aws:elasticloadbalancing:eu-west-1:123456789012:truststore/shared/6f2c1b0a9e8d7c6b"
	o := importer.Options{TrustStores: map[string]importer.TrustStoreFiles{"shared": {Bundle: "/b.pem", Revocations: []string{"/c.pem"}}}}
	var cfg config.Config
	var ps importer.Problems
	require.Equal(t, "shared", o.ExternalTrustStore(&cfg, &ps, "aws_lb_listener.api", "mutual_authentication[0].trust_store_arn", arn))
	require.Equal(t, "shared", o.ExternalTrustStore(&cfg, &ps, "aws_lb_listener.other", "mutual_authentication[0].trust_store_arn", "shared"))
	require.Equal(t, []config.TrustStore{{Name: "shared", CACertificatesBundle: "/b.pem", Revocations: []string{"/c.pem"}}}, cfg.TrustStores)
	require.Empty(t, ps)
	require.Equal(t, "other", o.ExternalTrustStore(&cfg, &ps, "X", "trustStore", "other"))
	require.Equal(t, `X: trustStore names trust store "other", which lives in AWS: pass --trust-store other=bundle.pem[,crl.pem...]`, ps.Error())
}
