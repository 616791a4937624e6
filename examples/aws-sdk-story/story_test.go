package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/albmtls/albmtls/awsapi"
	"github.com/albmtls/albmtls/backend"
	"github.com/albmtls/albmtls/emulator"
	"github.com/albmtls/albmtls/emulator/config"
	"github.com/albmtls/albmtls/pki/pkitest"
)

// TestStoryAgainstAlbmtls runs the whole product story, as the example
// program runs it, with the AWS SDK for Go v2 against albmtls's AWS API,
// two sample backends behind the load balancer it creates, and real mTLS
// clients; the connection log of the API-created load balancer must say
// why each client was refused.
func TestStoryAgainstAlbmtls(t *testing.T) {
	dir := pkitest.Dir(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	var targets []string
	for _, name := range []string{"web-1", "web-2"} {
		b, err := backend.New(backend.Config{Name: name})
		require.NoError(t, err)
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		bctx, stop := context.WithCancel(context.Background())
		t.Cleanup(stop)
		go func() { _ = b.Serve(bctx, ln) }()
		targets = append(targets, ln.Addr().String())
	}

	var mu sync.Mutex
	var conns []string
	cfgFile := filepath.Join(t.TempDir(), "albmtls.yaml")
	require.NoError(t, os.WriteFile(cfgFile, []byte(`load_balancer: {name: local, region: eu-west-1}
listeners:
  - port: 0
    protocol: HTTP
    default_action: {type: fixed-response, fixed_response: {status_code: "200", content_type: text/plain, message_body: ok}}
aws_api:
  listen: 127.0.0.1:0
`), 0o644))
	cfg, err := config.Load(cfgFile)
	require.NoError(t, err)
	// The story's listeners are on 80 and 443: an offset that lands on
	// free ports keeps parallel test runs apart.
	cfg.AWSAPI.PrivilegedPortOffset = aws.Int(freeOffset(t))
	api, err := awsapi.New(ctx, awsapi.Options{Config: cfg, Emulator: emulator.Options{
		OnConnection: func(ev emulator.ConnectionEvent) {
			mu.Lock()
			defer mu.Unlock()
			conns = append(conns, ev.Entry.VerifyStatus+" "+ev.Entry.Subject)
		},
	}})
	require.NoError(t, err)
	require.NoError(t, api.Start(ctx))
	t.Cleanup(func() { _ = api.Shutdown(context.Background()) })

	sdk := aws.Config{Region: "eu-west-1", Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")}
	var out strings.Builder
	defer func() { t.Log(out.String()) }()
	res, err := Run(ctx, Options{PKI: dir, Name: "story", Targets: targets, Endpoint: api.URL(), AWS: &sdk, Out: &out, Timeout: time.Minute})
	require.NoError(t, err, out.String())
	assert.True(t, res.OK(), "failures: %v\n%s", res.Failures, out.String())
	assert.ElementsMatch(t, []string{"web-1", "web-2", "web-1", "web-2"}, res.Backends)

	mu.Lock()
	log := strings.Join(conns, "\n")
	mu.Unlock()
	for _, want := range []string{"Failed:ClientCertCrlHit CN=revoked", "Failed:ClientCertUntrusted CN=untrusted", "Failed:ClientCertCrlHit CN=member", "Success CN=valid"} {
		assert.Contains(t, log, want, "connection log:\n%s", log)
	}
}

// freeOffset finds an offset that puts ports 80 and 443 on free ports.
func freeOffset(t *testing.T) int {
	t.Helper()
	for off := 20000 + os.Getpid()%20000; off < 64000; off += 997 {
		ok := true
		for _, p := range []int{80, 443} {
			ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p+off))
			if err != nil {
				ok = false
				break
			}
			ln.Close()
		}
		if ok {
			return off
		}
	}
	t.Fatal("no free port pair for 80 and 443")
	return 0
}

// TestStoryNamesMissingCredentials: against a local endpoint, missing
// credentials or region are named with the exports albmtls wants, before
// any call (the SDK would fail deep in its credential chain instead).
func TestStoryNamesMissingCredentials(t *testing.T) {
	dir := pkitest.Dir(t)
	failing := aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
		return aws.Credentials{}, fmt.Errorf("no EC2 IMDS role found")
	})
	for name, tc := range map[string]struct {
		cfg  aws.Config
		want string
	}{
		"no provider":    {aws.Config{Region: "eu-west-1"}, "export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test"},
		"provider fails": {aws.Config{Region: "eu-west-1", Credentials: failing}, "no EC2 IMDS role found"},
		"no region":      {aws.Config{Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")}, "export AWS_REGION="},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Run(context.Background(), Options{PKI: dir, Targets: []string{"127.0.0.1:1", "127.0.0.1:2"},
				Endpoint: "http://127.0.0.1:4566", AWS: &tc.cfg, Timeout: time.Second})
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.Contains(t, err.Error(), "http://127.0.0.1:4566")
		})
	}
}
