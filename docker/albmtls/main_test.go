package albmtls_test

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/moby/moby/client"
	"github.com/stretchr/testify/require"
	"github.com/testcontainers/testcontainers-go"

	"github.com/albmtls/albmtls/docker/albmtls"
)

// The tests run against the real Docker daemon. Without one they skip,
// except under CI=true, where a missing daemon is a failure: CI must run
// them. TestMain builds the image once.
var (
	dockerErr error // why no daemon is reachable; nil when one is
	buildErr  error // why BuildImage failed
	image     string
)

// childEnv marks the subprocess of TestRunWithoutDaemon, which must not
// touch the real daemon.
const childEnv = "ALBMTLS_TEST_NO_DAEMON_CHILD"

func TestMain(m *testing.M) {
	flag.Parse()
	// The reaper image cannot be pulled without a registry; every test
	// removes its containers itself (testcontainers.CleanupContainer). The
	// Makefile and .ci/run set this too; this covers a bare `go test`.
	if os.Getenv("TESTCONTAINERS_RYUK_DISABLED") == "" {
		_ = os.Setenv("TESTCONTAINERS_RYUK_DISABLED", "true")
	}
	if os.Getenv(childEnv) == "" {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		dockerErr = daemonReachable(ctx)
		switch {
		case dockerErr == nil:
			start := time.Now()
			image, buildErr = albmtls.BuildImage(ctx, "") // the core go list -m names: the go.work checkout
			if buildErr == nil {
				fmt.Fprintf(os.Stderr, "albmtls: built %s in %s\n", image, time.Since(start).Round(time.Millisecond))
			}
		case os.Getenv("CI") != "true":
			// Examples cannot skip themselves: leave them out.
			skip := "^Example"
			if prev := flag.Lookup("test.skip").Value.String(); prev != "" {
				skip = prev + "|" + skip
			}
			_ = flag.Set("test.skip", skip)
			fmt.Fprintf(os.Stderr, "albmtls: no Docker daemon (%v): skipping the container tests and examples\n", dockerErr)
		}
		cancel()
	}
	os.Exit(m.Run())
}

func daemonReachable(ctx context.Context) error {
	cli, err := testcontainers.NewDockerClientWithOpts(ctx)
	if err != nil {
		return err
	}
	defer cli.Close()
	_, err = cli.Ping(ctx, client.PingOptions{})
	return err
}

// requireDocker skips the test without a daemon, or fails it under CI=true.
func requireDocker(t *testing.T) {
	t.Helper()
	if dockerErr != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true but no Docker daemon is reachable (%v): .ci/run must start it", dockerErr)
		}
		t.Skipf("no Docker daemon reachable (%v); these tests need one", dockerErr)
	}
	require.NoError(t, buildErr, "building the image")
}

// run starts the emulator and schedules its removal.
func run(t *testing.T, opts ...testcontainers.ContainerCustomizer) *albmtls.Container {
	t.Helper()
	requireDocker(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ctr, err := albmtls.Run(ctx, image, opts...)
	testcontainers.CleanupContainer(t, ctr)
	require.NoError(t, err)
	return ctr
}

// echo is what the backend answers: the request as it arrived.
type echo struct {
	Host   string      `json:"host"`
	Path   string      `json:"path"`
	Header http.Header `json:"header"`
}

// backend starts an HTTP server on all interfaces, so the container reaches
// it through the bridge gateway, that echoes each request as JSON.
func backend(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "0.0.0.0:0")
	require.NoError(t, err)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(echo{Host: r.Host, Path: r.URL.Path, Header: r.Header})
	}))
	srv.Listener.Close()
	srv.Listener = l
	srv.Start()
	t.Cleanup(srv.Close)
	return l.Addr().(*net.TCPAddr).Port
}

// get sends GET path over a new connection presenting the named client
// certificate.
func get(t *testing.T, ctr *albmtls.Container, clientName, path string) (*http.Response, []byte, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	cfg, err := ctr.ClientTLSConfig(clientName)
	require.NoError(t, err)
	base, err := ctr.HTTPSEndpoint(ctx)
	require.NoError(t, err)
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: cfg, DisableKeepAlives: true}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+path, nil)
	require.NoError(t, err)
	resp, err := hc.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp, body, err
}

// getEcho sends GET path as clientName and returns what the backend saw.
func getEcho(t *testing.T, ctr *albmtls.Container, clientName, path string) echo {
	t.Helper()
	resp, body, err := get(t, ctr, clientName, path)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, "body: %s", body)
	var e echo
	require.NoError(t, json.Unmarshal(body, &e), "body: %s", body)
	return e
}
