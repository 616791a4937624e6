package acm_test

import (
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/albmtls/albmtls/awsapi/acm"
	"github.com/albmtls/albmtls/internal/testtool"
)

// TestAWSCLI drives the endpoint with the AWS CLI (a second real client,
// botocore's JSON 1.1 serializer) as a user would: fileb:// blobs, the
// --includes shorthand, and an error's exit status and message.
func TestAWSCLI(t *testing.T) {
	awsCLI := testtool.Need(t, "aws")
	f := newFixture(t, acm.Options{})
	m, _ := serverWithChain(t)
	dir := t.TempDir()
	for name, b := range map[string][]byte{"cert.pem": m.cert, "key.pem": m.key, "chain.pem": m.chain} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), b, 0o600))
	}
	run := func(args ...string) ([]byte, error) {
		cmd := exec.Command(awsCLI, append([]string{"--endpoint-url", f.url, "--region", region, "--output", "json", "acm"}, args...)...)
		var env []string
		for _, e := range os.Environ() { // none of the caller's AWS settings
			if !strings.HasPrefix(e, "AWS_") {
				env = append(env, e)
			}
		}
		cmd.Env = append(env,
			"AWS_ACCESS_KEY_ID=AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY=secret",
			"AWS_CONFIG_FILE="+filepath.Join(dir, "none"), "AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(dir, "none"),
			"AWS_EC2_METADATA_DISABLED=true", "AWS_MAX_ATTEMPTS=1")
		return cmd.CombinedOutput()
	}

	out, err := run("import-certificate", "--certificate", "fileb://"+filepath.Join(dir, "cert.pem"),
		"--private-key", "fileb://"+filepath.Join(dir, "key.pem"), "--certificate-chain", "fileb://"+filepath.Join(dir, "chain.pem"))
	require.NoError(t, err, "%s", out)
	var imp struct{ CertificateArn string }
	require.NoError(t, json.Unmarshal(out, &imp), "%s", out)
	require.NotEmpty(t, imp.CertificateArn)

	out, err = run("describe-certificate", "--certificate-arn", imp.CertificateArn)
	require.NoError(t, err, "%s", out)
	var d struct {
		Certificate struct {
			DomainName, KeyAlgorithm, Status, Type string
			// The AWS CLI v1 prints timestamps as epoch seconds, v2 as
			// ISO 8601: both must say the certificate's NotAfter.
			NotAfter json.RawMessage
		}
	}
	require.NoError(t, json.Unmarshal(out, &d), "%s", out)
	assert.Equal(t, "www.example.com", d.Certificate.DomainName)
	assert.Equal(t, "EC_prime256v1", d.Certificate.KeyAlgorithm)
	assert.Equal(t, "ISSUED", d.Certificate.Status)
	assert.Equal(t, "IMPORTED", d.Certificate.Type)
	notAfter := cliTime(t, d.Certificate.NotAfter)
	block, _ := pem.Decode(m.cert)
	leaf, err := x509.ParseCertificate(block.Bytes)
	require.NoError(t, err)
	assert.True(t, leaf.NotAfter.Equal(notAfter), "NotAfter %v, the certificate says %v", notAfter, leaf.NotAfter)

	out, err = run("list-certificates", "--includes", "keyTypes=EC_prime256v1")
	require.NoError(t, err, "%s", out)
	var l struct {
		CertificateSummaryList []struct{ CertificateArn string }
	}
	require.NoError(t, json.Unmarshal(out, &l), "%s", out)
	require.Len(t, l.CertificateSummaryList, 1)
	assert.Equal(t, imp.CertificateArn, l.CertificateSummaryList[0].CertificateArn)

	out, err = run("get-certificate", "--certificate-arn", imp.CertificateArn)
	require.NoError(t, err, "%s", out)
	var g struct{ Certificate, CertificateChain string }
	require.NoError(t, json.Unmarshal(out, &g), "%s", out)
	assert.Equal(t, string(m.cert), g.Certificate)
	assert.Equal(t, string(m.chain), g.CertificateChain)

	out, err = run("delete-certificate", "--certificate-arn", imp.CertificateArn)
	require.NoError(t, err, "%s", out)
	out, err = run("describe-certificate", "--certificate-arn", imp.CertificateArn)
	require.Error(t, err)
	assert.Contains(t, string(out), "(ResourceNotFoundException)")
	assert.Contains(t, string(out), imp.CertificateArn)
}

// cliTime reads a timestamp as the AWS CLI prints it: epoch seconds (v1)
// or ISO 8601 (v2).
func cliTime(t *testing.T, raw json.RawMessage) time.Time {
	t.Helper()
	var secs float64
	if json.Unmarshal(raw, &secs) == nil {
		return time.Unix(0, int64(secs*1e9)).Truncate(time.Second)
	}
	var s string
	require.NoError(t, json.Unmarshal(raw, &s), "timestamp %s", raw)
	at, err := time.Parse(time.RFC3339, s)
	require.NoError(t, err, "timestamp %s", raw)
	return at
}
