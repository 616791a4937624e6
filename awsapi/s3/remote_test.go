package s3

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// remoteEnv gives the SDK's default credential chain a static key from the
// environment and nothing else (no ~/.aws, no instance metadata).
func remoteEnv(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDREMOTE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_CONFIG_FILE", t.TempDir()+"/none")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", t.TempDir()+"/none")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_ENDPOINT_URL", "")
	t.Setenv("AWS_ENDPOINT_URL_S3", "")
	t.Setenv("AWS_REGION", "")
	t.Setenv("AWS_DEFAULT_REGION", "")
}

// TestRemote reads through Remote (the AWS SDK for Go v2 with the default
// credential chain) from an Embedded store served on 127.0.0.1: a real
// client against a real S3 wire protocol.
func TestRemote(t *testing.T) {
	remoteEnv(t)
	ctx := context.Background()
	ts := newTestServer(t, EmbeddedOptions{})
	c := sdkClient(t, ts, ts.srv.URL, true)
	b := aws.String("remote")
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: b}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: b, VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled}}); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, body := range []string{"old bundle", "new bundle"} {
		out, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: b, Key: aws.String("ca/bundle.pem"), Body: strings.NewReader(body)})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, aws.ToString(out.VersionId))
	}

	r, err := NewRemote(ctx, RemoteOptions{Endpoint: ts.srv.URL, Region: "eu-west-1", PathStyle: true})
	if err != nil {
		t.Fatalf("NewRemote: %v", err)
	}
	for _, tc := range []struct {
		bucket, key, version string
		want                 string
		err                  error
	}{
		{"remote", "ca/bundle.pem", "", "new bundle", nil},
		{"remote", "ca/bundle.pem", ids[0], "old bundle", nil},
		{"remote", "ca/bundle.pem", ids[1], "new bundle", nil},
		{"remote", "ca/bundle.pem", "NoSuchVersionIdHere0000000000000", "", ErrNoSuchVersion},
		{"remote", "missing.pem", "", "", ErrNoSuchKey},
		{"nobucket", "ca/bundle.pem", "", "", ErrNoSuchBucket},
	} {
		got, err := r.GetObject(ctx, tc.bucket, tc.key, tc.version)
		if tc.err != nil {
			if !errors.Is(err, tc.err) {
				t.Errorf("Remote.GetObject(%s, %s, %q) = %v, want %v", tc.bucket, tc.key, tc.version, err, tc.err)
			}
			if err != nil && !strings.Contains(err.Error(), ts.srv.URL) {
				t.Errorf("the error %q does not name the endpoint", err)
			}
			continue
		}
		if err != nil || string(got) != tc.want {
			t.Errorf("Remote.GetObject(%s, %s, %q) = %q, %v; want %q", tc.bucket, tc.key, tc.version, got, err, tc.want)
		}
	}
	// The SDK's typed error stays in the chain.
	_, err = r.GetObject(ctx, "remote", "missing.pem", "")
	var nsk *types.NoSuchKey
	if !errors.As(err, &nsk) {
		t.Errorf("Remote.GetObject of a missing key: %v does not hold *types.NoSuchKey", err)
	}
}

// TestRemoteDefaultRegion: with no region anywhere, Remote still builds a
// client (us-east-1) instead of failing at the first read.
func TestRemoteDefaultRegion(t *testing.T) {
	remoteEnv(t)
	ctx := context.Background()
	ts := newTestServer(t, EmbeddedOptions{})
	c := sdkClient(t, ts, ts.srv.URL, true)
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("region")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("region"), Key: aws.String("k"), Body: strings.NewReader("v")}); err != nil {
		t.Fatal(err)
	}
	r, err := NewRemote(ctx, RemoteOptions{Endpoint: ts.srv.URL, PathStyle: true})
	if err != nil {
		t.Fatalf("NewRemote: %v", err)
	}
	if got, err := r.GetObject(ctx, "region", "k", ""); err != nil || string(got) != "v" {
		t.Errorf("GetObject = %q, %v", got, err)
	}
}

func TestNewRemoteBadEndpoint(t *testing.T) {
	remoteEnv(t)
	for _, ep := range []string{"127.0.0.1:9000", "ftp://host", "http://", "://x"} {
		if _, err := NewRemote(context.Background(), RemoteOptions{Endpoint: ep}); err == nil || !strings.Contains(err.Error(), ep) {
			t.Errorf("NewRemote(%q): %v, want an error naming the endpoint", ep, err)
		}
	}
}
