package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/albmtls/albmtls/emulator/listener"
)

// The product brief's example config must load unchanged.
func TestLoadBriefExample(t *testing.T) {
	c, err := Load("testdata/brief.yaml")
	require.NoError(t, err)
	assert.Equal(t, "demo-alb", c.LoadBalancer.Name)
	assert.Equal(t, filepath.Join("testdata", "pki/ca/bundle.pem"), c.Path(c.TrustStores[0].CACertificatesBundle))
	require.Len(t, c.Listeners, 2)
	l := c.Listeners[1]
	assert.Equal(t, listener.ModeVerify, l.MutualAuthentication.EffectiveMode())
	assert.Equal(t, "X-Client-Subject", l.Attributes["routing.http.request.x_amzn_mtls_clientcert_subject.header_name"])
	assert.Equal(t, 5*time.Second, c.TargetGroups[0].HealthCheck.Interval.D())
	assert.Equal(t, "127.0.0.1", l.Address, "default bind address")
	assert.Equal(t, listener.RejectReset, c.Emulation.RejectWith)
	assert.True(t, *c.Emulation.StripClientHeaders)
	assert.Equal(t, 60*time.Second, c.LoadBalancer.IdleTimeout.D())
	assert.Equal(t, 24, c.Line("listeners[1].mutual_authentication.mode"))
}

func TestDurationForms(t *testing.T) {
	c, err := Parse("x.yaml", []byte(minimal+"load_balancer: {idle_timeout: 90}\nemulation: {handshake_timeout: 1m30s}\n"))
	require.NoError(t, err)
	assert.Equal(t, 90*time.Second, c.LoadBalancer.IdleTimeout.D())
	assert.Equal(t, 90*time.Second, c.Emulation.HandshakeTimeout.D())
}

const minimal = `listeners:
  - port: 8080
    protocol: HTTP
    default_action: {type: fixed-response, fixed_response: {status_code: "200"}}
`

func TestErrors(t *testing.T) {
	cases := []struct {
		name string
		yaml string
		want []string // substrings of the error, in order
	}{
		{"empty", "", []string{"x.yaml:1: the config is empty"}},
		{"not yaml", "listeners: [", []string{"x.yaml:1: not valid YAML"}},
		{"unknown key with suggestion", minimal + "emulation: {rejectwith: alert}\n",
			[]string{`x.yaml:5: emulation.rejectwith: unknown key "rejectwith" (did you mean "reject_with"?)`}},
		{"unknown nested key", `listeners:
  - port: 8443
    protocol: HTTPS
    mutual_authentication: {mod: verify}
`, []string{`x.yaml:4: listeners[0].mutual_authentication.mod: unknown key "mod" (did you mean "mode"?)`}},
		{"type error", "listeners:\n  - port: eighty\n", []string{"x.yaml:2:", "eighty"}},
		{"bad duration", minimal + "emulation: {handshake_timeout: soon}\n", []string{`"soon" is not a duration`}},
		{"no listeners", "load_balancer: {name: a}\n", []string{"listeners: no listeners"}},
		{"verify without trust store", `listeners:
  - port: 8443
    protocol: HTTPS
    certificates: [{certificate: s.pem, private_key: k.pem}]
    mutual_authentication: {mode: verify}
    default_action: {type: fixed-response, fixed_response: {status_code: "200"}}
`, []string{"x.yaml:5: listeners[0].mutual_authentication.trust_store: verify mode needs a trust store"}},
		{"unknown trust store", `listeners:
  - port: 8443
    protocol: HTTPS
    certificates: [{certificate: s.pem, private_key: k.pem}]
    mutual_authentication: {mode: verify, trust_store: nope}
    default_action: {type: fixed-response, fixed_response: {status_code: "200"}}
`, []string{`x.yaml:5: listeners[0].mutual_authentication.trust_store: TrustStoreNotFound: no trust store named "nope"`}},
		{"trust store options outside verify", `trust_stores: [{name: ts, ca_certificates_bundle: b.pem}]
listeners:
  - port: 8443
    protocol: HTTPS
    certificates: [{certificate: s.pem, private_key: k.pem}]
    mutual_authentication: {mode: passthrough, advertise_trust_store_ca_names: "on"}
    default_action: {type: fixed-response, fixed_response: {status_code: "200"}}
`, []string{`listeners[0].mutual_authentication.advertise_trust_store_ca_names: you cannot set advertise_trust_store_ca_names when mode is "passthrough"`}},
		{"bad mode", `listeners:
  - port: 8443
    protocol: HTTPS
    certificates: [{certificate: s.pem, private_key: k.pem}]
    mutual_authentication: {mode: strict}
    default_action: {type: fixed-response, fixed_response: {status_code: "200"}}
`, []string{`"strict" is not a mutual authentication mode; use off, passthrough or verify`}},
		{"three verify listeners", threeVerify(), []string{"listeners[2].mutual_authentication.mode: only 2 listeners per load balancer may use mTLS verify mode"}},
		{"https without certificates", `listeners:
  - port: 8443
    protocol: HTTPS
    default_action: {type: fixed-response, fixed_response: {status_code: "200"}}
`, []string{"listeners[0].certificates: an HTTPS listener needs at least one certificate"}},
		{"mtls on http", `listeners:
  - port: 80
    protocol: HTTP
    mutual_authentication: {mode: passthrough}
    default_action: {type: fixed-response, fixed_response: {status_code: "200"}}
`, []string{"listeners[0].mutual_authentication: mutual authentication needs an HTTPS listener"}},
		{"forward to unknown group", `listeners:
  - port: 80
    protocol: HTTP
    default_action: {type: forward, target_group: web}
`, []string{`x.yaml:4: listeners[0].default_action.target_group: TargetGroupNotFound: no target group named "web"`}},
		{"bad trust store name", `trust_stores: [{name: "my store", ca_certificates_bundle: b.pem}]
` + minimal, []string{`trust_stores[0].name: "my store" is not a valid trust store name`}},
		{"duplicate port", `listeners:
  - {port: 80, protocol: HTTP, default_action: {type: fixed-response, fixed_response: {status_code: "200"}}}
  - {port: 80, protocol: HTTP, default_action: {type: fixed-response, fixed_response: {status_code: "200"}}}
`, []string{"listeners[1].port: listeners[0] already uses 127.0.0.1:80"}},
		{"bad knob", minimal + "emulation: {reject_with: rst}\n", []string{`emulation.reject_with: "rst" is not valid; use reset or alert`}},
		{"bad code knob without a verify listener", minimal + "emulation: {missing_client_certificate: reject}\n",
			[]string{`x.yaml:5: emulation.missing_client_certificate: unknown ALB verification code "reject"`}},
		{"success is not a failure code", minimal + "emulation: {unhandled_critical_extension: Success}\n",
			[]string{`emulation.unhandled_critical_extension: "Success" is not a failure code`}},
		{"bad enumerated knob", minimal + "emulation: {ignore_expiry_scope: root}\n",
			[]string{`x.yaml:5: emulation.ignore_expiry_scope: "root" is not valid; use chain or leaf`}},
		{"bad redirect status", `listeners:
  - port: 80
    protocol: HTTP
    default_action: {type: redirect, redirect: {status_code: "301"}}
`, []string{`x.yaml:4: listeners[0].default_action.redirect.status_code: "301" is not a redirect status code; use HTTP_301 or HTTP_302`}},
		// net.ParseCIDR accepts a zero-padded prefix length that the router's
		// netip.ParsePrefix refused, so the condition was silently dropped
		// and the rule matched every source address.
		{"source ip the router cannot read", `listeners:
  - port: 80
    protocol: HTTP
    default_action: {type: fixed-response, fixed_response: {status_code: "200"}}
    rules: [{priority: 1, conditions: {source_ip: ["10.0.0.0/08"]}, action: {type: fixed-response, fixed_response: {status_code: "403"}}}]
`, []string{`x.yaml:5: listeners[0].rules[0].conditions.source_ip[0]: "10.0.0.0/08" is not a CIDR block`}},
		{"bad advertise value", `trust_stores: [{name: ts, ca_certificates_bundle: b.pem}]
listeners:
  - port: 8443
    protocol: HTTPS
    certificates: [{certificate: s.pem, private_key: k.pem}]
    mutual_authentication: {mode: verify, trust_store: ts, advertise_trust_store_ca_names: yes}
    default_action: {type: fixed-response, fixed_response: {status_code: "200"}}
`, []string{`x.yaml:6: listeners[0].mutual_authentication.advertise_trust_store_ca_names: "yes" is not valid; use "on" or "off" (quoted)`}},
		{"bad account", minimal + "load_balancer: {account_id: 1234}\n", []string{`load_balancer.account_id: "1234" is not an AWS account ID`}},
		{"rule without condition", `listeners:
  - port: 80
    protocol: HTTP
    default_action: {type: fixed-response, fixed_response: {status_code: "200"}}
    rules: [{priority: 1, action: {type: fixed-response, fixed_response: {status_code: "404"}}}]
`, []string{"listeners[0].rules[0].conditions: a rule needs at least one condition"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("x.yaml", []byte(tc.yaml))
			require.Error(t, err)
			msg := err.Error()
			rest := msg
			for _, w := range tc.want {
				i := strings.Index(rest, w)
				require.GreaterOrEqual(t, i, 0, "want %q in:\n%s", w, msg)
				rest = rest[i+len(w):]
			}
		})
	}
}

func threeVerify() string {
	var b strings.Builder
	b.WriteString("trust_stores: [{name: ts, ca_certificates_bundle: b.pem}]\nlisteners:\n")
	for _, port := range []string{"8443", "8444", "8445"} {
		b.WriteString("  - port: " + port + "\n    protocol: HTTPS\n    certificates: [{certificate: s.pem, private_key: k.pem}]\n")
		b.WriteString("    mutual_authentication: {mode: verify, trust_store: ts}\n")
		b.WriteString("    default_action: {type: fixed-response, fixed_response: {status_code: \"200\"}}\n")
	}
	return b.String()
}

func TestAllErrorsReported(t *testing.T) {
	_, err := Parse("x.yaml", []byte(`load_balancer: {name: -bad-, region: mars}
listeners:
  - {port: 80, protocol: FTP, default_action: {type: teleport}}
`))
	var es Errors
	require.ErrorAs(t, err, &es)
	assert.Len(t, es, 4, "%v", err)
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.yaml"))
	require.ErrorIs(t, err, os.ErrNotExist)
}
