package k8s_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/albmtls/albmtls/importer"
	"github.com/albmtls/albmtls/importer/importertest"
	"github.com/albmtls/albmtls/importer/k8s"
)

func options(w *importertest.Workspace) importer.Options {
	o := w.Options()
	o.Targets = map[string]string{"api:8080": w.Target}
	s3 := filepath.Join(o.S3Dir, importertest.Bucket)
	o.TrustStores = map[string]importer.TrustStoreFiles{"clients": {
		Bundle: filepath.Join(s3, "ca", "bundle.pem"), Revocations: []string{filepath.Join(s3, "crl", "intermediate.crl.pem")}}}
	return o
}

// TestImportIngressServesMTLS imports an Ingress with the controller's
// annotations (mutual authentication by trust store ARN, listener
// attributes, an actions.NAME fixed response, ssl-redirect), checks the
// golden file, and serves it with real mTLS clients.
func TestImportIngressServesMTLS(t *testing.T) {
	w := importertest.NewWorkspace(t)
	data, err := os.ReadFile("testdata/ingress.yaml")
	require.NoError(t, err)
	cfg, problems, err := k8s.Import(data, options(w))
	require.NoError(t, err)
	require.Empty(t, problems, problems.Error())
	w.CheckMTLS(w.WriteGolden(cfg, "testdata/ingress.albmtls.yaml"), "/lb-health", 200, "up")
}

// TestImportIngressReportsEverySkippedField checks that annotations albmtls
// cannot emulate or resolve are named with the object and annotation.
func TestImportIngressReportsEverySkippedField(t *testing.T) {
	w := importertest.NewWorkspace(t)
	data, err := os.ReadFile("testdata/ingress.yaml")
	require.NoError(t, err)
	s := strings.Replace(string(data), "    alb.ingress.kubernetes.io/scheme: internet-facing\n",
		"    alb.ingress.kubernetes.io/scheme: internet-facing\n    alb.ingress.kubernetes.io/auth-type: oidc\n    alb.ingress.kubernetes.io/wafv2-acl-arn: arn:aws:wafv2:eu-west-1:123456789012:regional/webacl/x/1\n", 1)
	opts := options(w)
	opts.TrustStores = nil
	opts.Targets = nil
	_, problems, err := k8s.Import([]byte(s), opts)
	require.NoError(t, err)
	require.Equal(t, strings.Join([]string{
		`Ingress/edge/api: metadata.annotations.alb.ingress.kubernetes.io/auth-type is not emulated`,
		`Ingress/edge/api: metadata.annotations.alb.ingress.kubernetes.io/mutual-authentication names trust store "arn:aws:elasticloadbalancing:eu-west-1:123456789012:truststore/clients/6f2c1b0a9e8d7c6b", which lives in AWS: pass --trust-store clients=bundle.pem[,crl.pem...]`,
		`Ingress/edge/api: metadata.annotations.alb.ingress.kubernetes.io/wafv2-acl-arn is not emulated`,
		`Ingress/edge/api: spec.rules[0].http.paths[1].backend.service is target "api:8080": pass --target api:8080=host:port`,
	}, "\n"), problems.Error())
}

// TestImportGatewayServesMTLS imports a Gateway with its
// LoadBalancerConfiguration (mutualAuthentication, listener attributes)
// and an HTTPRoute, and serves it: what no route matches gets the 404.
func TestImportGatewayServesMTLS(t *testing.T) {
	w := importertest.NewWorkspace(t)
	data, err := os.ReadFile("testdata/gateway.yaml")
	require.NoError(t, err)
	cfg, problems, err := k8s.Import(data, options(w))
	require.NoError(t, err)
	require.Empty(t, problems, problems.Error())
	w.CheckMTLS(w.WriteGolden(cfg, "testdata/gateway.albmtls.yaml"), "/elsewhere", 404, "")
}
