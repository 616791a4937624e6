package config

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// aliasBase is a valid config in which each case puts one foreign key.
const aliasBase = `trust_stores:
  - {name: ts, ca_certificates_bundle: ca.pem}
target_groups:
  - {name: web, targets: ["127.0.0.1:9001"]}
listeners:
  - port: 8443
    protocol: HTTPS
    certificates: [{certificate: s.pem, private_key: s.key}]
    mutual_authentication: {mode: verify, trust_store: ts}
    default_action: {type: forward, target_group: web}
`

// TestTerraformAndCloudFormationNames: an albmtls.yaml written with the
// names of Terraform's aws_lb_* resources or CloudFormation's
// AWS::ElasticLoadBalancingV2::* properties gets, at the key's line and
// path, the albmtls key to use instead of a did-you-mean guess.
func TestTerraformAndCloudFormationNames(t *testing.T) {
	cases := []struct {
		name, from, to string // replace from by to in aliasBase
		path, want     string
	}{
		{"trust_store_arn", "{mode: verify, trust_store: ts}", "{mode: verify, trust_store_arn: arn:aws:elasticloadbalancing:eu-west-1:123456789012:truststore/ts/0123456789abcdef}",
			"listeners[0].mutual_authentication.trust_store_arn", "use trust_store: NAME, the name of an entry of trust_stores"},
		{"TrustStoreArn", "{mode: verify, trust_store: ts}", "{Mode: verify, TrustStoreArn: x}",
			"listeners[0].mutual_authentication.TrustStoreArn", "use trust_store: NAME"},
		{"Mode", "{mode: verify, trust_store: ts}", "{Mode: verify, trust_store: ts}",
			"listeners[0].mutual_authentication.Mode", `keys are snake_case, as in Terraform: use "mode"`},
		{"certificate_arn", "certificates: [{certificate: s.pem, private_key: s.key}]", "certificate_arn: arn:aws:acm:eu-west-1:123456789012:certificate/x",
			"listeners[0].certificate_arn", "use certificates: [{certificate: FILE, private_key: FILE}]"},
		{"Certificates CertificateArn", "[{certificate: s.pem, private_key: s.key}]", "[{CertificateArn: x}]",
			"listeners[0].certificates[0].CertificateArn", "use certificate: FILE and private_key: FILE"},
		{"load_balancer_arn", "    protocol: HTTPS\n", "    protocol: HTTPS\n    load_balancer_arn: x\n",
			"listeners[0].load_balancer_arn", "albmtls.yaml is one load balancer"},
		{"LoadBalancerArn", "    protocol: HTTPS\n", "    protocol: HTTPS\n    LoadBalancerArn: x\n",
			"listeners[0].LoadBalancerArn", "albmtls.yaml is one load balancer"},
		{"target_group_arn", "{type: forward, target_group: web}", "{type: forward, target_group_arn: x}",
			"listeners[0].default_action.target_group_arn", "use target_group: NAME, the name of an entry of target_groups"},
		{"default_actions", "default_action: {type: forward, target_group: web}", "default_actions: [{type: forward, target_group: web}]",
			"listeners[0].default_actions", "use default_action: one action"},
		{"DefaultActions", "default_action: {type: forward, target_group: web}", "DefaultActions: [{Type: forward}]",
			"listeners[0].DefaultActions", "use default_action: one action"},
		{"Port", "  - port: 8443\n    protocol: HTTPS", "  - Port: 8443\n    protocol: HTTPS",
			"listeners[0].Port", `keys are snake_case, as in Terraform: use "port"`},
		{"Protocol", "    protocol: HTTPS", "    Protocol: HTTPS",
			"listeners[0].Protocol", `use "protocol"`},
		{"SslPolicy", "    protocol: HTTPS\n", "    protocol: HTTPS\n    SslPolicy: ELBSecurityPolicy-TLS13-1-2-2021-06\n",
			"listeners[0].SslPolicy", `use "ssl_policy"`},
		{"MutualAuthentication", "mutual_authentication: {mode: verify, trust_store: ts}", "MutualAuthentication: {Mode: verify}",
			"listeners[0].MutualAuthentication", `use "mutual_authentication"`},
		{"ListenerAttributes", "    protocol: HTTPS\n", "    protocol: HTTPS\n    ListenerAttributes: [{Key: a, Value: b}]\n",
			"listeners[0].ListenerAttributes", "use attributes: a mapping of KEY: VALUE"},
		{"Terraform listener attribute argument", "    protocol: HTTPS\n", "    protocol: HTTPS\n    routing_http_response_server_enabled: false\n",
			"listeners[0].routing_http_response_server_enabled", "use attributes: {routing.http.response.server.enabled: VALUE}"},
		{"ca_certificates_bundle_s3_bucket", "{name: ts, ca_certificates_bundle: ca.pem}", "{name: ts, ca_certificates_bundle_s3_bucket: b, ca_certificates_bundle_s3_key: k}",
			"trust_stores[0].ca_certificates_bundle_s3_bucket", "use ca_certificates_bundle: FILE"},
		{"RevocationContents", "{name: ts, ca_certificates_bundle: ca.pem}", "{name: ts, ca_certificates_bundle: ca.pem, RevocationContents: []}",
			"trust_stores[0].RevocationContents", "use revocations: [FILE, …]"},
		{"target group port", `{name: web, targets: ["127.0.0.1:9001"]}`, `{name: web, port: 9001, targets: ["127.0.0.1:9001"]}`,
			"target_groups[0].port", "list targets: [HOST:PORT, …]"},
		{"HealthCheckPath", `{name: web, targets: ["127.0.0.1:9001"]}`, `{name: web, HealthCheckPath: /health, targets: ["127.0.0.1:9001"]}`,
			"target_groups[0].HealthCheckPath", "use health_check: {path: …}"},
		{"aws_lb drop_invalid_header_fields", "trust_stores:", "load_balancer: {drop_invalid_header_fields: true}\ntrust_stores:",
			"load_balancer.drop_invalid_header_fields", "use load_balancer.attributes: {routing.http.drop_invalid_header_fields.enabled: VALUE}"},
		{"aws_lb enable_http2", "trust_stores:", "load_balancer: {enable_http2: true}\ntrust_stores:",
			"load_balancer.enable_http2", "routing.http2.enabled, which albmtls does not emulate"},
		{"access_logs", "trust_stores:", "access_logs: {bucket: b}\ntrust_stores:",
			"access_logs", "use logs: {access: {file: FILE}}"},
		{"subnets", "trust_stores:", "load_balancer: {subnets: [a]}\ntrust_stores:",
			"load_balancer.subnets", "AWS networking and tagging are not emulated"},
		{"rule Actions", "    default_action:", "    rules: [{priority: 1, conditions: {path_pattern: [/x]}, Actions: []}]\n    default_action:",
			"listeners[0].rules[0].Actions", "use action: one action"},
		{"http_header_name", "    default_action:", "    rules: [{priority: 1, conditions: {http_header: {http_header_name: X-A, values: [b]}}, action: {type: forward, target_group: web}}]\n    default_action:",
			"listeners[0].rules[0].conditions.http_header.http_header_name", "use name: the header's name"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			require.Contains(t, aliasBase, tc.from)
			text := strings.Replace(aliasBase, tc.from, tc.to, 1)
			_, errs := ParseAll("albmtls.yaml", []byte(text))
			var found *Error
			for _, e := range errs {
				if e.Path == tc.path {
					found = e
				}
			}
			require.NotNil(t, found, "no error at %s in:\n%v", tc.path, errs)
			assert.Contains(t, found.Msg, tc.want)
			assert.NotContains(t, found.Msg, "did you mean", "the hint replaces the guess")
			assert.Contains(t, found.Msg, "; valid keys here: ", "the valid keys still follow")
			assert.Positive(t, found.Line)
		})
	}
}

// TestAliasHintsLeaveOtherKeysAlone: a plain typo keeps its did-you-mean,
// and a valid config has no error.
func TestAliasHintsLeaveOtherKeysAlone(t *testing.T) {
	_, errs := ParseAll("albmtls.yaml", []byte(aliasBase))
	require.Empty(t, errs, "the base config is valid")
	_, errs = ParseAll("albmtls.yaml", []byte(strings.Replace(aliasBase, "{mode: verify, trust_store: ts}", "{mode: verify, trust_stor: ts}", 1)))
	require.NotEmpty(t, errs)
	assert.Contains(t, errs[0].Msg, `unknown key "trust_stor" (did you mean "trust_store"?)`)
	assert.Equal(t, "", aliasHint("listeners[0]", "nonsense", []string{"port"}))
}
