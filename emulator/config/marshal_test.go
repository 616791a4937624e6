package config

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// sameConfig compares what a config says (its exported fields), not where
// it was read from.
func sameConfig(t *testing.T, want, got *Config) {
	t.Helper()
	assert.Equal(t, want.LoadBalancer, got.LoadBalancer)
	assert.Equal(t, want.TrustStores, got.TrustStores)
	assert.Equal(t, want.TargetGroups, got.TargetGroups)
	assert.Equal(t, want.Listeners, got.Listeners)
	assert.Equal(t, want.Logs, got.Logs)
	assert.Equal(t, want.Admin, got.Admin)
	assert.Equal(t, want.Emulation, got.Emulation)
}

// everyKnob sets every enumerated value to something other than its
// default, so that the round trip covers each type's MarshalText/UnmarshalText.
const everyKnob = `trust_stores: [{name: ts, ca_certificates_bundle: b.pem, revocations: [r.pem]}]
target_groups: [{name: web, protocol: HTTPS, targets: ["127.0.0.1:9001"]}]
listeners:
  - port: 8443
    protocol: HTTPS
    ssl_policy: ELBSecurityPolicy-TLS13-1-2-2021-06
    certificates: [{certificate: s.pem, private_key: k.pem}]
    mutual_authentication: {mode: verify, trust_store: ts, ignore_client_certificate_expiry: true, advertise_trust_store_ca_names: "on"}
    attributes: {routing.http.xff_header_processing.mode: preserve}
    default_action: {type: forward, target_group: web}
  - port: 8080
    protocol: HTTP
    default_action: {type: redirect, redirect: {protocol: HTTPS, port: "8443", status_code: HTTP_302}}
emulation:
  reject_with: alert
  missing_client_certificate: ClientCertUntrusted
  crl_missing_for_issuer: fail
  stale_crl: fail
  ignore_expiry_scope: leaf
  unhandled_critical_extension: ClientCertInvalid
  clientcert_equals: percent
  strip_client_headers: false
  client_header_duplicates: client-last
  forwarded_header_order: sorted
`

// TestMarshalRoundTrip: what Marshal writes, Parse reads back as the same
// config, and writing that again gives the same bytes (the golden file).
func TestMarshalRoundTrip(t *testing.T) {
	for _, tc := range []struct{ name, file string }{
		{"brief", "testdata/brief.yaml"},
		{"every-knob", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var c *Config
			var err error
			if tc.file != "" {
				c, err = Load(tc.file)
			} else {
				c, err = Parse("x.yaml", []byte(everyKnob))
			}
			require.NoError(t, err)
			data, err := Marshal(c)
			require.NoError(t, err)
			back, err := Parse("back.yaml", data)
			require.NoError(t, err, "%s", data)
			sameConfig(t, c, back)
			again, err := Marshal(back)
			require.NoError(t, err)
			assert.Equal(t, string(data), string(again))

			golden := filepath.Join("testdata", tc.name+".written.golden")
			if *update {
				require.NoError(t, os.WriteFile(golden, data, 0o644))
			}
			want, err := os.ReadFile(golden)
			require.NoError(t, err, "run go test -update")
			assert.Equal(t, string(want), string(data))
		})
	}
}
