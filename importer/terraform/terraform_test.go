package terraform_test

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/albmtls/albmtls/importer/importertest"
	"github.com/albmtls/albmtls/importer/terraform"
)

// TestImportPlanServesMTLS imports a plan with a module and ARNs unknown
// before apply, checks the config against the golden file, and serves it
// with real mTLS clients (importertest.CheckMTLS).
func TestImportPlanServesMTLS(t *testing.T) {
	w := importertest.NewWorkspace(t)
	data, err := os.ReadFile("testdata/plan.json")
	require.NoError(t, err)
	cfg, problems, err := terraform.Import(data, w.Options())
	require.NoError(t, err)
	require.Empty(t, problems, problems.Error())
	w.CheckMTLS(w.WriteGolden(cfg, "testdata/plan.albmtls.yaml"), "/lb-health", 200, "up")
}

// TestImportPlanReportsEverySkippedField adds fields albmtls cannot emulate
// or resolve and checks each is named with its address and attribute, all
// in one run.
func TestImportPlanReportsEverySkippedField(t *testing.T) {
	w := importertest.NewWorkspace(t)
	data, err := os.ReadFile("testdata/plan.json")
	require.NoError(t, err)
	s := string(data)
	s = strings.Replace(s, `"authenticate_oidc": [], "forward": []`, `"authenticate_oidc": [{"issuer": "https://idp.example.com"}], "forward": []`, 1)
	s = strings.Replace(s, `"query_string": []`, `"query_string": [{"key": "v", "value": "1"}]`, 1)
	s = strings.Replace(s, `"alpn_policy": null`, `"alpn_policy": "HTTP2Preferred"`, 1)
	// A listener of a shared trust store this plan does not manage.
	s = strings.Replace(s, `"references": ["module.mtls.trust_store_arn", "module.mtls"]`, `"references": ["data.aws_lb_trust_store.shared.arn", "data.aws_lb_trust_store.shared"]`, 1)
	s = strings.Replace(s, `"mutual_authentication": [{"mode": "verify",`, `"mutual_authentication": [{"mode": "verify", "trust_store_arn": "arn:aws:elasticloadbalancing:eu-west-1:123456789012:truststore/shared/6f2c1b0a9e8d7c6b",`, 1)
	opts := w.Options()
	opts.Targets = nil
	opts.S3Dir = ""
	_, problems, err := terraform.Import([]byte(s), opts)
	require.NoError(t, err)
	require.Equal(t, strings.Join([]string{
		`aws_lb_listener.api: alpn_policy is not emulated`,
		`aws_lb_listener.api: default_action[0].authenticate_oidc is not emulated`,
		`aws_lb_listener.api: mutual_authentication[0].trust_store_arn names trust store "arn:aws:elasticloadbalancing:eu-west-1:123456789012:truststore/shared/6f2c1b0a9e8d7c6b", which lives in AWS: pass --trust-store shared=bundle.pem[,crl.pem...]`,
		`aws_lb_listener_rule.health: condition[0].query_string is not emulated`,
		`aws_lb_target_group_attachment.api_a: target_id is target "i-0abc1234def567890": pass --target i-0abc1234def567890=host:port`,
		`module.mtls.aws_lb_trust_store.clients: ca_certificates_bundle_s3_key is s3://example-alb-truststore/ca/bundle.pem: pass --s3-dir DIR with the object at DIR/example-alb-truststore/ca/bundle.pem`,
		`module.mtls.aws_lb_trust_store_revocation.intermediate: revocations_s3_key is s3://example-alb-truststore/crl/intermediate.crl.pem: pass --s3-dir DIR with the object at DIR/example-alb-truststore/crl/intermediate.crl.pem`,
	}, "\n"), problems.Error())
}

// TestImportPlanReportsObjectVersion: a directory mirror holds one version
// of an object, so a pinned version is reported at its own attribute.
func TestImportPlanReportsObjectVersion(t *testing.T) {
	w := importertest.NewWorkspace(t)
	data, err := os.ReadFile("testdata/plan.json")
	require.NoError(t, err)
	s := strings.Replace(string(data), `"ca_certificates_bundle_s3_object_version": null`, `"ca_certificates_bundle_s3_object_version": "3HL4kqtJlcpXroDTDmJ"`, 1)
	_, problems, err := terraform.Import([]byte(s), w.Options())
	require.NoError(t, err)
	require.Equal(t, `module.mtls.aws_lb_trust_store.clients: ca_certificates_bundle_s3_object_version "3HL4kqtJlcpXroDTDmJ" is not emulated: --s3-dir holds one version of s3://example-alb-truststore/ca/bundle.pem`, problems.Error())
}
