package awsapi_test

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/acm"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/albmtls/albmtls/awsapi"
	"github.com/albmtls/albmtls/emulator/config"
	"github.com/albmtls/albmtls/pki/pkitest"
)

// startAPI runs the AWS API endpoint of a config with one HTTP listener.
func startAPI(t *testing.T, state string) *awsapi.Server {
	t.Helper()
	file := filepath.Join(t.TempDir(), "albmtls.yaml")
	text := "load_balancer: {name: local, region: eu-west-1}\nlisteners:\n  - {port: 0, protocol: HTTP, default_action: {type: fixed-response, fixed_response: {status_code: \"200\"}}}\naws_api: {listen: 127.0.0.1:0"
	if state != "" {
		text += ", state_dir: " + state
	}
	require.NoError(t, os.WriteFile(file, []byte(text+"}\n"), 0o644))
	cfg, err := config.Load(file)
	require.NoError(t, err)
	api, err := awsapi.New(context.Background(), awsapi.Options{Config: cfg})
	require.NoError(t, err)
	require.NoError(t, api.Start(context.Background()))
	return api
}

func sdkConfig(api *awsapi.Server) aws.Config {
	return aws.Config{Region: "eu-west-1", BaseEndpoint: aws.String(api.URL()),
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")}
}

// TestStateSurvivesRestart: with a state directory, an S3 object and an
// ACM certificate created through the one port are there after a restart.
func TestStateSurvivesRestart(t *testing.T) {
	ctx := context.Background()
	state := t.TempDir()
	dir := pkitest.Dir(t)
	read := func(p string) []byte { b, err := os.ReadFile(filepath.Join(dir, p)); require.NoError(t, err); return b }

	api := startAPI(t, state)
	cfg := sdkConfig(api)
	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	_, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("truststore")})
	require.NoError(t, err)
	_, err = s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("truststore"), Key: aws.String("bundle.pem"), Body: bytes.NewReader(read("ca/bundle.pem"))})
	require.NoError(t, err)
	imp, err := acm.NewFromConfig(cfg).ImportCertificate(ctx, &acm.ImportCertificateInput{
		Certificate: read("server/server.pem"), PrivateKey: read("server/server-key.pem"), CertificateChain: read("ca/intermediate.pem"),
	})
	require.NoError(t, err)
	require.NoError(t, api.Shutdown(ctx))

	api = startAPI(t, state)
	defer api.Shutdown(ctx)
	cfg = sdkConfig(api)
	s3c = s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	obj, err := s3c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("truststore"), Key: aws.String("bundle.pem")})
	require.NoError(t, err)
	body, _ := io.ReadAll(obj.Body)
	obj.Body.Close()
	assert.Equal(t, read("ca/bundle.pem"), body)
	got, err := acm.NewFromConfig(cfg).DescribeCertificate(ctx, &acm.DescribeCertificateInput{CertificateArn: imp.CertificateArn})
	require.NoError(t, err)
	assert.Equal(t, "localhost", aws.ToString(got.Certificate.DomainName))
}

// TestWithoutStateNothingSurvives: without a state directory a restart
// starts empty, and the temporary files are gone.
func TestWithoutStateNothingSurvives(t *testing.T) {
	ctx := context.Background()
	api := startAPI(t, "")
	s3c := s3.NewFromConfig(sdkConfig(api), func(o *s3.Options) { o.UsePathStyle = true })
	_, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("bucket")})
	require.NoError(t, err)
	require.NoError(t, api.Shutdown(ctx))
	api = startAPI(t, "")
	defer api.Shutdown(ctx)
	out, err := s3.NewFromConfig(sdkConfig(api), func(o *s3.Options) { o.UsePathStyle = true }).ListBuckets(ctx, &s3.ListBucketsInput{})
	require.NoError(t, err)
	assert.Empty(t, out.Buckets)
}
