package main

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/albmtls/albmtls/internal/testbin"
	"github.com/albmtls/albmtls/pki/pkitest"
)

// TestImportTerraform runs the real binary: without the local stand-ins it
// lists every unresolved field and exits 1 without writing; with them it
// writes a config that `serve --check` accepts.
func TestImportTerraform(t *testing.T) {
	dir := t.TempDir()
	pkiDir := pkitest.Dir(t)
	mirrorPlanS3(t, pkiDir, dir)
	plan := filepath.Join("..", "..", "importer", "terraform", "testdata", "plan.json")
	out := filepath.Join(dir, "albmtls.yaml")

	b, err := testbin.Command(t, "import", "terraform", plan, "--base-dir", filepath.Dir(pkiDir), "-o", out).CombinedOutput()
	var ee *exec.ExitError
	require.ErrorAs(t, err, &ee, string(b))
	require.Equal(t, 1, ee.ExitCode())
	require.Contains(t, string(b), "aws_lb_target_group_attachment.api_a: target_id is target \"i-0abc1234def567890\": pass --target")
	require.Contains(t, string(b), "aws_lb_listener.api: certificate_arn is an ACM certificate")
	require.NoFileExists(t, out)

	// --allow-partial writes the rest and still lists what it skipped.
	b, err = testbin.Command(t, "import", "terraform", plan, "--base-dir", filepath.Dir(pkiDir), "--pki", pkiDir,
		"--s3-dir", filepath.Join(dir, "s3"), "--allow-partial", "-o", out).CombinedOutput()
	require.NoError(t, err, string(b))
	require.Contains(t, string(b), "aws_lb_target_group_attachment.api_a: target_id is target")
	require.FileExists(t, out)
	require.NoError(t, os.Remove(out))

	b, err = testbin.Command(t, "import", "terraform", plan, "--base-dir", filepath.Dir(pkiDir), "--pki", pkiDir,
		"--s3-dir", filepath.Join(dir, "s3"), "--target", "i-0abc1234def567890=127.0.0.1:8080", "--port", "443=0", "--port", "80=0", "-o", out).CombinedOutput()
	require.NoError(t, err, string(b))
	require.True(t, strings.HasPrefix(string(b), "wrote "+out), string(b))
	b, err = testbin.Command(t, "serve", "--check", "-c", out).CombinedOutput()
	require.NoError(t, err, string(b))
	require.Contains(t, string(b), "config OK")
}

// TestImportCloudFormation runs the real binary on the hand-written
// template: a parameter without a default is reported until given.
func TestImportCloudFormation(t *testing.T) {
	dir := t.TempDir()
	pkiDir := pkitest.Dir(t)
	mirrorPlanS3(t, pkiDir, dir)
	tmpl := filepath.Join("..", "..", "importer", "cloudformation", "testdata", "template.yaml")
	out := filepath.Join(dir, "albmtls.yaml")
	args := []string{"import", "cloudformation", tmpl, "--pki", pkiDir, "--s3-dir", filepath.Join(dir, "s3"),
		"--target", "i-0abc1234def567890=127.0.0.1:8080", "--port", "443=0", "--port", "80=0", "-o", out}

	b, err := testbin.Command(t, args...).CombinedOutput()
	var ee *exec.ExitError
	require.ErrorAs(t, err, &ee, string(b))
	require.Contains(t, string(b), "ApiTargets: Targets[0].Id cannot be resolved: parameter InstanceId has no Default: pass --parameter InstanceId=VALUE")
	require.NoFileExists(t, out)

	b, err = testbin.Command(t, append(args, "--parameter", "InstanceId=i-0abc1234def567890")...).CombinedOutput()
	require.NoError(t, err, string(b))
	b, err = testbin.Command(t, "serve", "--check", "-c", out).CombinedOutput()
	require.NoError(t, err, string(b))
	require.Contains(t, string(b), "config OK")
}

// TestImportK8s runs the real binary on the Ingress: the trust store it
// names lives in AWS and is reported until --trust-store gives its files.
func TestImportK8s(t *testing.T) {
	dir := t.TempDir()
	pkiDir := pkitest.Dir(t)
	ing := filepath.Join("..", "..", "importer", "k8s", "testdata", "ingress.yaml")
	out := filepath.Join(dir, "albmtls.yaml")
	args := []string{"import", "k8s", ing, "--pki", pkiDir, "--target", "api:8080=127.0.0.1:8080", "--port", "443=0", "--port", "80=0", "-o", out}

	b, err := testbin.Command(t, args...).CombinedOutput()
	var ee *exec.ExitError
	require.ErrorAs(t, err, &ee, string(b))
	require.Contains(t, string(b), "pass --trust-store clients=bundle.pem[,crl.pem...]")
	require.NoFileExists(t, out)

	ts := "clients=" + filepath.Join(pkiDir, "ca", "bundle.pem") + "," + filepath.Join(pkiDir, "crl", "intermediate.crl.pem")
	b, err = testbin.Command(t, append(args, "--trust-store", ts)...).CombinedOutput()
	require.NoError(t, err, string(b))
	b, err = testbin.Command(t, "serve", "--check", "-c", out).CombinedOutput()
	require.NoError(t, err, string(b))
	require.Contains(t, string(b), "config OK")
}

// TestServeFromTerraform is issue 18's one command: serve --from imports the
// plan and serves it at once. The valid client reaches the target through
// the imported HTTPS listener; the revoked one is refused, as the imported
// trust store's CRL says.
func TestServeFromTerraform(t *testing.T) {
	dir := t.TempDir()
	pkiDir := pkitest.Dir(t)
	mirrorPlanS3(t, pkiDir, dir)
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "target saw %s", r.Header.Get("X-Amzn-Mtls-Clientcert-Subject"))
	}))
	t.Cleanup(target.Close)
	plan, err := filepath.Abs(filepath.Join("..", "..", "importer", "terraform", "testdata", "plan.json"))
	require.NoError(t, err) // the process runs in dir
	cmd, out, stderr := startProcess(t, dir, "serve", "--from", "terraform:"+plan, "--base-dir", filepath.Dir(pkiDir), "--pki", pkiDir,
		"--s3-dir", filepath.Join(dir, "s3"), "--target", "i-0abc1234def567890="+target.Listener.Addr().String(),
		"--port", "443=0", "--port", "80=0")
	var https string
	for _, line := range readUntil(t, out, "listener HTTPS", stderr) {
		if f := strings.Fields(line); len(f) == 3 && f[1] == "HTTPS" {
			https = strings.TrimPrefix(f[2], "https://")
		}
	}
	require.NotEmpty(t, https)
	go func() {
		for out.Scan() {
		}
	}()
	roots := x509.NewCertPool()
	ca, err := os.ReadFile(filepath.Join(pkiDir, "ca", "bundle.pem"))
	require.NoError(t, err)
	require.True(t, roots.AppendCertsFromPEM(ca))
	get := func(client string) (*http.Response, error) {
		cert, err := tls.LoadX509KeyPair(filepath.Join(pkiDir, "clients", client+"-chain.pem"), filepath.Join(pkiDir, "clients", client+"-key.pem"))
		require.NoError(t, err)
		c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{
			RootCAs: roots, ServerName: "localhost", Certificates: []tls.Certificate{cert}}}}
		return c.Get("https://" + https + "/")
	}
	resp, err := get("valid")
	require.NoError(t, err, "stderr:\n%s", stderr)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, 200, resp.StatusCode, "%s", body)
	assert.Equal(t, "target saw CN=valid", string(body), "forwarded to the --target with the mTLS headers")
	_, err = get("revoked")
	require.Error(t, err, "the imported trust store's CRL revokes the client")
	require.NoError(t, cmd.Process.Signal(os.Interrupt))
	require.NoError(t, cmd.Wait(), "stderr:\n%s", stderr)

	// Both sources at once is a usage error.
	code, _, errOut := runBin(t, "serve", "--from", "terraform:"+plan, "-c", "albmtls.yaml")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "--from and --config")
	code, _, errOut = runBin(t, "serve", "--from", "pulumi:x.json")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "want KIND:FILE")
}

// mirrorPlanS3 puts the PKI's bundle and intermediate CRL where the test
// plan's trust store objects are, under DIR/s3 (the --s3-dir layout).
func mirrorPlanS3(t *testing.T, pkiDir, dir string) {
	t.Helper()
	for _, f := range []string{"ca/bundle.pem", "crl/intermediate.crl.pem"} {
		b, err := os.ReadFile(filepath.Join(pkiDir, f))
		require.NoError(t, err)
		p := filepath.Join(dir, "s3", "example-alb-truststore", f)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, b, 0o644))
	}
}
