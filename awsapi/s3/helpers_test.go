package s3

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// testServer is an Embedded store served on 127.0.0.1, with the Host header
// of every request it got.
type testServer struct {
	*Embedded
	srv *httptest.Server

	mu    sync.Mutex
	hosts []string
}

func newTestServer(t *testing.T, opts EmbeddedOptions) *testServer {
	t.Helper()
	e, err := NewEmbedded(opts)
	if err != nil {
		t.Fatalf("NewEmbedded: %v", err)
	}
	ts := &testServer{Embedded: e}
	ts.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ts.mu.Lock()
		ts.hosts = append(ts.hosts, r.Host)
		ts.mu.Unlock()
		e.ServeHTTP(w, r)
	}))
	t.Cleanup(func() {
		ts.srv.Close()
		if err := e.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return ts
}

func (ts *testServer) port() string {
	u, _ := url.Parse(ts.srv.URL)
	return u.Port()
}

func (ts *testServer) seenHosts() []string {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return append([]string(nil), ts.hosts...)
}

// loopbackClient is an HTTP client that sends every request, whatever its
// host (BUCKET.localhost, BUCKET.s3.eu-west-1.localhost, …), to addr: only
// loopback networking is available, and the SDK's virtual-host style puts
// the bucket in the host name.
func loopbackClient(addr string) *http.Client {
	d := &net.Dialer{}
	return &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return d.DialContext(ctx, network, addr)
		},
	}}
}

// sdkClient is the AWS SDK for Go v2 S3 client configured as a user would
// for albmtls: a static key, the endpoint, path style or not.
func sdkClient(t *testing.T, ts *testServer, endpoint string, pathStyle bool) *s3.Client {
	t.Helper()
	cfg := aws.Config{
		Region:       "eu-west-1",
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
		BaseEndpoint: aws.String(endpoint),
		HTTPClient:   loopbackClient(ts.srv.Listener.Addr().String()),
	}
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.UsePathStyle = pathStyle
		o.DisableLogOutputChecksumValidationSkipped = true
	})
}
