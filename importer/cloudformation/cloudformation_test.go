package cloudformation_test

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/albmtls/albmtls/importer/cloudformation"
	"github.com/albmtls/albmtls/importer/importertest"
)

// TestImportServesMTLS imports a hand-written template with short-form
// intrinsics, parameters, a mapping and a condition, and a CDK-synthesised
// one (long form, hashed logical IDs, an instance target by Ref), checks
// each against its golden file and serves it with real mTLS clients.
func TestImportServesMTLS(t *testing.T) {
	for _, tc := range []struct {
		file, golden string
		params       map[string]string
		targets      map[string]string // logical ID or instance ID → "" for the workspace backend
	}{
		{"testdata/template.yaml", "testdata/template.albmtls.yaml", map[string]string{"InstanceId": importertest.TargetID}, nil},
		{"testdata/cdk.template.json", "testdata/cdk.albmtls.yaml", nil, map[string]string{"ApiInstance8B2D4E61": ""}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			w := importertest.NewWorkspace(t)
			data, err := os.ReadFile(tc.file)
			require.NoError(t, err)
			opts := cloudformation.Options{Options: w.Options(), Parameters: tc.params}
			for id := range tc.targets {
				opts.Targets[id] = w.Target
			}
			cfg, problems, err := cloudformation.Import(data, opts)
			require.NoError(t, err)
			require.Empty(t, problems, problems.Error())
			w.CheckMTLS(w.WriteGolden(cfg, tc.golden), "/lb-health", 200, "up")
		})
	}
}

// TestImportReportsEverySkippedField checks that every property albmtls
// cannot emulate or resolve is named with its logical ID and property path.
func TestImportReportsEverySkippedField(t *testing.T) {
	w := importertest.NewWorkspace(t)
	data, err := os.ReadFile("testdata/template.yaml")
	require.NoError(t, err)
	s := strings.Replace(string(data), `      DefaultActions:
        - Type: forward`, `      AlpnPolicy: [HTTP2Preferred]
      DefaultActions:
        - Type: authenticate-oidc
          AuthenticateOidcConfig: {Issuer: https://idp.example.com}
        - Type: forward`, 1)
	s = strings.Replace(s, `        - Field: path-pattern`, `        - Field: query-string
          QueryStringConfig: {Values: [{Key: v, Value: "1"}]}
        - Field: path-pattern`, 1)
	s = strings.Replace(s, `      CaCertificatesBundleS3Key: ca/bundle.pem`, `      CaCertificatesBundleS3Key: !ImportValue shared-ca-key`, 1)
	opts := cloudformation.Options{Options: w.Options(), Parameters: map[string]string{"Nope": "x"}}
	opts.Targets = map[string]string{}
	_, problems, err := cloudformation.Import([]byte(s), opts)
	require.NoError(t, err)
	require.Equal(t, strings.Join([]string{
		`ApiTargets: Targets[0].Id cannot be resolved: parameter InstanceId has no Default: pass --parameter InstanceId=VALUE`,
		`ClientTrustStore: CaCertificatesBundleS3Key cannot be resolved: Fn::ImportValue is resolved only at deployment`,
		`ClientTrustStore: CaCertificatesBundleS3Key names no S3 bucket and key that are known before apply; use a bucket name and key from the definition or an aws_s3_object with source`,
		`HealthRule: Conditions[0].Field query-string is not emulated`,
		`HttpsListener: AlpnPolicy is not emulated`,
		`HttpsListener: DefaultActions[0] is authenticate-oidc: authenticate actions are not emulated`,
		`Parameters: Nope is given with --parameter but the template declares no such parameter`,
	}, "\n"), problems.Error())
}
