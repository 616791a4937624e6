package awsapi_test

import (
	"crypto/tls"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/albmtls/albmtls/internal/testtool"
	"github.com/albmtls/albmtls/pki/pkitest"
)

// TestAWSCLIStory drives the one port with the AWS CLI, as docs/aws-api.md
// shows it: ACM import, an S3 bucket and upload, a trust store from the
// object, a load balancer and an HTTPS listener in verify mode with the
// imported certificate; then a real mTLS client gets in and an untrusted
// one does not. The CLI is botocore: a second client, with its own Query,
// JSON 1.1 and S3 serializers.
func TestAWSCLIStory(t *testing.T) {
	awsCLI := testtool.Need(t, "aws")
	probe, _ := exec.Command(awsCLI, "elbv2", "create-trust-store").CombinedOutput()
	testtool.Require(t, !strings.Contains(string(probe), "Invalid choice"),
		"the AWS CLI at "+awsCLI+" predates the ELBv2 trust store commands (AWS CLI 1.30 / 2.14, November 2023); install a newer one (pip install awscli)")
	dir := pkitest.Dir(t)
	api := startAPI(t, "")
	t.Cleanup(func() { _ = api.Shutdown(t.Context()) })
	home := t.TempDir()
	run := func(args ...string) map[string]any {
		t.Helper()
		cmd := exec.Command(awsCLI, append([]string{"--endpoint-url", api.URL(), "--region", "eu-west-1", "--output", "json"}, args...)...)
		cmd.Dir = dir
		var env []string
		for _, e := range os.Environ() { // none of the caller's AWS settings
			if !strings.HasPrefix(e, "AWS_") {
				env = append(env, e)
			}
		}
		cmd.Env = append(env, "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_EC2_METADATA_DISABLED=true",
			"AWS_CONFIG_FILE="+filepath.Join(home, "none"), "AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(home, "none"), "AWS_MAX_ATTEMPTS=1")
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "aws %s\n%s", strings.Join(args, " "), out)
		var v map[string]any
		if len(strings.TrimSpace(string(out))) > 0 && out[0] == '{' {
			require.NoError(t, json.Unmarshal(out, &v), "%s", out)
		}
		return v
	}
	first := func(v map[string]any, list, key string) string {
		items, _ := v[list].([]any)
		require.NotEmpty(t, items, "%s in %v", list, v)
		return items[0].(map[string]any)[key].(string)
	}

	cert := run("acm", "import-certificate", "--certificate", "fileb://server/server.pem",
		"--private-key", "fileb://server/server-key.pem", "--certificate-chain", "fileb://ca/intermediate.pem")["CertificateArn"].(string)
	run("s3", "mb", "s3://truststore")
	run("s3", "cp", "ca/bundle.pem", "s3://truststore/bundle.pem")
	run("s3", "cp", "crl/intermediate.crl.pem", "s3://truststore/intermediate.crl.pem")
	ts := first(run("elbv2", "create-trust-store", "--name", "ts", "--ca-certificates-bundle-s3-bucket", "truststore",
		"--ca-certificates-bundle-s3-key", "bundle.pem"), "TrustStores", "TrustStoreArn")
	run("elbv2", "add-trust-store-revocations", "--trust-store-arn", ts,
		"--revocation-contents", "S3Bucket=truststore,S3Key=intermediate.crl.pem,RevocationType=CRL")
	lb := first(run("elbv2", "create-load-balancer", "--name", "cli-alb"), "LoadBalancers", "LoadBalancerArn")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	run("elbv2", "create-listener", "--load-balancer-arn", lb, "--protocol", "HTTPS", "--port", strconv.Itoa(port),
		"--certificates", "CertificateArn="+cert, "--mutual-authentication", "Mode=verify,TrustStoreArn="+ts,
		"--default-actions", `Type=fixed-response,FixedResponseConfig={StatusCode=200,ContentType=text/plain,MessageBody=hello}`)
	revs := run("elbv2", "describe-trust-store-revocations", "--trust-store-arn", ts)
	assert.Len(t, revs["TrustStoreRevocations"], 1)

	handshake := func(client string) error {
		pair, err := tls.LoadX509KeyPair(filepath.Join(dir, "clients", client+"-chain.pem"), filepath.Join(dir, "clients", client+"-key.pem"))
		require.NoError(t, err)
		c, err := tls.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port), &tls.Config{InsecureSkipVerify: true, Certificates: []tls.Certificate{pair}})
		if err != nil {
			return err
		}
		defer c.Close()
		if _, err := c.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n")); err != nil {
			return err
		}
		buf := make([]byte, 12)
		_, err = c.Read(buf)
		if err == nil && string(buf) != "HTTP/1.1 200" {
			t.Errorf("%s got %q", client, buf)
		}
		return err
	}
	assert.NoError(t, handshake("valid"))
	assert.Error(t, handshake("revoked"), "the CRL uploaded with the CLI applies")
	assert.Error(t, handshake("untrusted"))
}
