package config

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/albmtls/albmtls/emulator/albheader"
)

// TestLoadBalancerAttributes: load_balancer.attributes takes the load
// balancer attributes albmtls emulates, refuses others with the list of
// supported keys, and listeners read them under their own attributes.
func TestLoadBalancerAttributes(t *testing.T) {
	c, err := Parse("x.yaml", []byte(`load_balancer:
  attributes:
    routing.http.drop_invalid_header_fields.enabled: "true"
    routing.http.xff_header_processing.mode: preserve
listeners:
  - port: 8080
    protocol: HTTP
    attributes: {routing.http.xff_header_processing.mode: remove}
    default_action: {type: fixed-response, fixed_response: {status_code: "200"}}
`))
	require.NoError(t, err)
	got := c.ListenerAttributes(&c.Listeners[0])
	assert.Equal(t, map[string]string{
		"routing.http.drop_invalid_header_fields.enabled": "true",
		"routing.http.xff_header_processing.mode":         "remove",
	}, got, "the listener's own value wins")
	assert.Equal(t, "preserve", c.LoadBalancer.Attributes["routing.http.xff_header_processing.mode"], "not modified")
	assert.True(t, *c.Emulation.StripHeaderNameVariants, "default on")
	assert.Equal(t, albheader.CopiesReplace, c.Emulation.ClientHeaderDuplicates)

	for _, tc := range []struct{ yaml, want string }{
		{`load_balancer: {attributes: {routing.http.drop_invalid_header_fields: "true"}}`,
			`x.yaml:1: load_balancer.attributes.routing.http.drop_invalid_header_fields: albmtls does not support the load balancer attribute "routing.http.drop_invalid_header_fields"; supported: routing.http.desync_mitigation_mode, routing.http.drop_invalid_header_fields.enabled, routing.http.x_amzn_tls_version_and_cipher_suite.enabled, routing.http.xff_client_port.enabled, routing.http.xff_header_processing.mode`},
		{`load_balancer: {attributes: {routing.http.drop_invalid_header_fields.enabled: "yes"}}`,
			`load_balancer.attributes.routing.http.drop_invalid_header_fields.enabled: "yes" is not valid; use true or false (quoted)`},
		{`load_balancer: {attributes: {routing.http.xff_header_processing.mode: replace}}`,
			`"replace" is not valid; use append or preserve or remove`},
		{`load_balancer: {attributes: {routing.http.desync_mitigation_mode: strict}}`,
			`load_balancer.attributes.routing.http.desync_mitigation_mode: "strict" is not a desync mitigation mode; use monitor, defensive or strictest`},
		{`load_balancer: {attributes: {routing.http.desync_mitigation_mode: ""}}`,
			`load_balancer.attributes.routing.http.desync_mitigation_mode: "" is not valid; use monitor, defensive or strictest`},
		{`emulation: {http1_front_end: fast}`, `emulation.http1_front_end: "fast" is not a front end: write "albmtls" (the default) or "net/http"`},
		{`emulation: {chain_check_cache: -1}`, `emulation.chain_check_cache: -1 is negative: write a number of chains, or 0 to turn the cache off`},
		{`emulation: {strip_header_name_variants: maybe}`, `x.yaml:1:`},
		{`emulation: {client_header_duplicates: both}`, `emulation.client_header_duplicates: "both" is not valid; use replace or client-first or client-last`},
		{`emulation: {client_header_duplicates: client-first}`, `emulation.client_header_duplicates: "client-first" applies only when client copies reach the target: set strip_client_headers: false too`},
	} {
		_, err := Parse("x.yaml", []byte(tc.yaml+"\n"+minimal))
		require.Error(t, err, tc.yaml)
		assert.Contains(t, err.Error(), tc.want)
	}
	for _, mode := range []string{"monitor", "defensive", "strictest"} {
		_, err := Parse("x.yaml", []byte("load_balancer: {attributes: {routing.http.desync_mitigation_mode: "+mode+"}}\n"+minimal))
		require.NoError(t, err, mode)
	}
	c, err = Parse("x.yaml", []byte("emulation: {strip_header_name_variants: false}\n"+minimal))
	require.NoError(t, err)
	assert.False(t, *c.Emulation.StripHeaderNameVariants)
	assert.Nil(t, c.ListenerAttributes(&c.Listeners[0]), "no attributes anywhere")
}
