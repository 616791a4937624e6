// Package albmtls is a testcontainers-go module for the albmtls emulator: it
// starts an AWS Application Load Balancer mutual-TLS listener in a container,
// with a fresh test PKI, in front of the service under test, and gives a test
// what it needs to talk to it and check what the ALB logged:
//
//	ctr, err := albmtls.Run(ctx, "albmtls:dev", albmtls.WithHostTarget(8080))
//	testcontainers.CleanupContainer(t, ctr)
//	require.NoError(t, err)
//	cfg, _ := ctr.ClientTLSConfig("valid")        // presents clients/valid of the PKI
//	url, _ := ctr.HTTPSEndpoint(ctx)               // https://localhost:PORT
//	entries, _ := ctr.ConnectionLog(ctx)           // tls_verify_status, serials, …
//	_ = ctr.Revoke(ctx, "valid")                   // the next handshake fails: ClientCertCrlHit
//
// It lives in its own Go module so that the emulator's module does not
// depend on Docker libraries. The image is the project's FROM scratch
// Dockerfile; BuildImage builds it without a registry.
package albmtls

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/wait"

	"github.com/albmtls/albmtls/emulator/config"
	"github.com/albmtls/albmtls/pki"
)

// DefaultImage is the tag BuildImage and `make docker` give the image.
const DefaultImage = "albmtls:dev"

// StartupTimeout bounds how long Run waits for the admin endpoint's
// /healthz. The emulator is healthy within a second; the margin is for
// loaded CI machines.
const StartupTimeout = 30 * time.Second

// Container is a running emulator. It embeds the testcontainers Container,
// so Terminate, Logs, Exec and the rest work as for any container.
type Container struct {
	testcontainers.Container

	set    *pki.Set
	layout layout
	config []byte
	dir    string // host staging directory: the config and the PKI copy

	revokeMu sync.Mutex // serialises Revoke, which changes set
	token    string     // the admin endpoint's bearer token
	host     string     // the host name that reaches the published ports (resolveHost)
}

// Run starts the emulator from img (DefaultImage after BuildImage) and
// waits until its admin endpoint answers /healthz. By default it generates
// a fresh PKI and a config with one HTTPS listener (verify mode, the PKI's
// trust store) on HTTPSPort and the admin endpoint on AdminPort; Option
// values change that, and any other testcontainers.ContainerCustomizer is
// applied to the request as usual.
//
// On error Run removes the container it started and says what failed: the
// Docker daemon, the image, or the emulator, whose own output (for instance
// why it refused the config) is included. As in testcontainers' modules,
// the returned Container is non-nil whenever a container was created, so
// `testcontainers.CleanupContainer(t, ctr)` can come before the error check.
func Run(ctx context.Context, img string, opts ...testcontainers.ContainerCustomizer) (*Container, error) {
	o := defaultOptions()
	for _, opt := range opts {
		if apply, ok := opt.(Option); ok {
			if err := apply(&o); err != nil {
				return nil, fmt.Errorf("albmtls: %w", err)
			}
		}
	}
	if o.configFile != "" && len(o.generated) > 0 {
		return nil, fmt.Errorf("albmtls: WithConfig replaces the generated config, so %s cannot be combined with it: put those settings in %s",
			strings.Join(o.generated, ", "), o.configFile)
	}

	if o.adminToken == "" {
		var b [32]byte
		if _, err := rand.Read(b[:]); err != nil {
			return nil, fmt.Errorf("albmtls: drawing an admin token: %w", err)
		}
		o.adminToken = hex.EncodeToString(b[:])
	}
	dir, err := os.MkdirTemp("", "albmtls-testcontainer-")
	if err != nil {
		return nil, fmt.Errorf("albmtls: creating a staging directory: %w", err)
	}
	c := &Container{dir: dir, token: o.adminToken}
	ok := false
	defer func() {
		if !ok {
			_ = os.RemoveAll(dir)
		}
	}()
	if err := c.stage(&o); err != nil {
		return nil, fmt.Errorf("albmtls: %w", err)
	}
	if err := ensureImage(ctx, img); err != nil {
		return nil, fmt.Errorf("albmtls: %w", err)
	}

	ports := make([]string, 0, len(c.layout.listenerPorts)+1)
	for _, p := range c.layout.listenerPorts {
		ports = append(ports, strconv.Itoa(p)+"/tcp")
	}
	admin := strconv.Itoa(c.layout.adminPort) + "/tcp"
	ports = append(ports, admin)
	moduleOpts := []testcontainers.ContainerCustomizer{
		testcontainers.WithExposedPorts(ports...),
		// The admin endpoint listens on 0.0.0.0 in the container: the token
		// guards its mutating endpoints (docs/admin.md).
		testcontainers.WithEnv(map[string]string{config.AdminTokenEnv: o.adminToken}),
		testcontainers.WithFiles(testcontainers.ContainerFile{
			HostFilePath: filepath.Join(dir, "etc"), ContainerFilePath: "/etc", FileMode: 0o755,
		}),
		testcontainers.WithHostConfigModifier(func(hc *container.HostConfig) {
			hc.ExtraHosts = append(hc.ExtraHosts, HostGateway+":host-gateway")
		}),
		// Health is asked inside the container (the image's binary is
		// its own health check), so that start-up does not depend on how
		// this process reaches published ports; resolveHost checks that next.
		testcontainers.WithWaitStrategy(wait.ForExec([]string{"/albmtls", "healthcheck",
			"http://127.0.0.1:" + strconv.Itoa(c.layout.adminPort) + "/healthz"}).
			WithPollInterval(100 * time.Millisecond).WithStartupTimeout(StartupTimeout)),
	}
	moduleOpts = append(moduleOpts, opts...)

	ctr, err := testcontainers.Run(ctx, img, moduleOpts...)
	if ctr != nil {
		c.Container = ctr
	}
	if err != nil {
		err = c.startError(img, err)
		if c.Container != nil {
			// Leave nothing behind: the caller's cleanup then finds nothing to do.
			_ = c.Container.Terminate(context.WithoutCancel(ctx))
			return c, err
		}
		return nil, err
	}
	if err := c.resolveHost(ctx); err != nil {
		_ = c.Container.Terminate(context.WithoutCancel(ctx))
		return c, fmt.Errorf("albmtls: %w", err)
	}
	ok = true
	return c, nil
}

// stage writes what the container gets into c.dir/etc/albmtls: the PKI
// (generated, or a copy of WithPKI's), WithTrustStore's files and the config.
func (c *Container) stage(o *options) error {
	etc := filepath.Join(c.dir, "etc", "albmtls")
	pkiDir := filepath.Join(etc, "pki")
	var err error
	if o.configFile != "" { // first: its mistakes are found in microseconds
		if c.config, err = os.ReadFile(o.configFile); err != nil {
			return fmt.Errorf("WithConfig: %w", err)
		}
		if c.layout, err = userLayout(o.configFile, c.config); err != nil {
			return err
		}
	}
	if o.pkiDir != "" {
		if err := os.CopyFS(pkiDir, os.DirFS(o.pkiDir)); err != nil {
			return fmt.Errorf("WithPKI(%s): copying the PKI: %w", o.pkiDir, err)
		}
		if c.set, err = pki.Load(pkiDir); err != nil {
			return fmt.Errorf("WithPKI(%s): %w", o.pkiDir, err)
		}
	} else {
		if c.set, err = pki.Generate(pki.GenerateOptions{}); err != nil {
			return fmt.Errorf("generating the test PKI: %w", err)
		}
		if err := c.set.WriteDir(pkiDir, false); err != nil {
			return fmt.Errorf("writing the test PKI: %w", err)
		}
	}
	for _, f := range o.trustStoreFiles() {
		data, err := os.ReadFile(f.host)
		if err != nil {
			return fmt.Errorf("WithTrustStore: %w", err)
		}
		dst := filepath.Join(c.dir, filepath.FromSlash(f.container))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return fmt.Errorf("WithTrustStore: %w", err)
		}
		if err := os.WriteFile(dst, data, 0o644); err != nil {
			return fmt.Errorf("WithTrustStore: %w", err)
		}
	}
	if o.configFile == "" {
		if c.config, c.layout, err = o.generateConfig(c.set); err != nil {
			return err
		}
	}
	return os.WriteFile(filepath.Join(etc, "albmtls.yaml"), c.config, 0o644)
}

// startError says which part failed to start: the daemon, the reaper, or
// the emulator, with the emulator's own output (it prints why it refuses a
// config on stderr and exits).
func (c *Container) startError(img string, err error) error {
	if isDaemonError(err) {
		return fmt.Errorf("albmtls: %w", daemonError(err))
	}
	if strings.Contains(err.Error(), "reaper") {
		return fmt.Errorf("albmtls: starting testcontainers' reaper (Ryuk) failed: %w; on a machine without an image registry set TESTCONTAINERS_RYUK_DISABLED=true (the Makefile and .ci/run do)", err)
	}
	if c.Container == nil {
		return fmt.Errorf("albmtls: starting the emulator from %s: %w", img, err)
	}
	out := c.output()
	if out == "" {
		out = "(nothing)"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if st, stErr := c.Container.State(ctx); stErr == nil && st.Status == container.StateExited {
		return fmt.Errorf("albmtls: the emulator (%s) exited with code %d at start-up; its output:\n%s\n(testcontainers: %w)", img, st.ExitCode, out, err)
	}
	return fmt.Errorf("albmtls: the emulator (%s) did not become healthy: %w; its output:\n%s", img, err, out)
}

// output returns what the emulator wrote to stdout and stderr, trimmed.
func (c *Container) output() string {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rc, err := c.Container.Logs(ctx)
	if err != nil {
		return ""
	}
	defer rc.Close()
	data, _ := io.ReadAll(io.LimitReader(rc, 64<<10))
	return strings.TrimSpace(string(bytes.ToValidUTF8(data, []byte("?"))))
}

// ensureImage checks that img is in the local daemon and otherwise pulls it
// once. testcontainers would retry a failing pull for minutes, which on a
// machine without a registry means a test that hangs instead of saying the
// image is missing.
func ensureImage(ctx context.Context, img string) error {
	cli, err := testcontainers.NewDockerClientWithOpts(ctx)
	if err != nil {
		return daemonError(err)
	}
	defer cli.Close()
	if _, err := cli.Ping(ctx, client.PingOptions{}); err != nil {
		return daemonError(err)
	}
	_, err = cli.ImageInspect(ctx, img)
	if err == nil {
		return nil
	}
	if !isNotFound(err) {
		return fmt.Errorf("inspecting image %s: %w", img, err)
	}
	pull, err := cli.ImagePull(ctx, img, client.ImagePullOptions{})
	if err == nil {
		err = pull.Wait(ctx)
		pull.Close()
	}
	if err != nil {
		return fmt.Errorf("image %s is not in the local Docker daemon and pulling it failed (%v): build it with albmtls.BuildImage(ctx, \"\") or `make docker` in the albmtls repository", img, err)
	}
	return nil
}

// isNotFound reports a Docker "no such image/container" answer.
func isNotFound(err error) bool {
	var nf interface{ NotFound() }
	return errors.As(err, &nf) || strings.Contains(strings.ToLower(err.Error()), "no such image")
}

// isDaemonError reports an error of reaching the Docker daemon.
func isDaemonError(err error) bool {
	if client.IsErrConnectionFailed(err) {
		return true
	}
	return strings.Contains(err.Error(), "Cannot connect to the Docker daemon")
}

func daemonError(err error) error {
	return fmt.Errorf("no Docker daemon reachable (%w): start Docker, or point DOCKER_HOST at a running daemon", err)
}

// Terminate stops and removes the container, then the host staging
// directory (the config and the PKI copy).
func (c *Container) Terminate(ctx context.Context, opts ...testcontainers.TerminateOption) error {
	if c == nil {
		return nil
	}
	var err error
	if c.Container != nil {
		err = c.Container.Terminate(ctx, opts...)
	}
	if rmErr := os.RemoveAll(c.dir); rmErr != nil && err == nil {
		err = fmt.Errorf("removing the staging directory %s: %w", c.dir, rmErr)
	}
	return err
}

// PKI returns the test PKI the emulator trusts and whose clients
// ClientTLSConfig presents: a private copy, which Revoke changes.
func (c *Container) PKI() *pki.Set { return c.set }

// Config returns the albmtls.yaml the emulator runs (generated, or
// WithConfig's), for debugging.
func (c *Container) Config() []byte { return bytes.Clone(c.config) }

// HTTPSEndpoint returns https://HOST:PORT of the HTTPS listener as published
// on the Docker host.
func (c *Container) HTTPSEndpoint(ctx context.Context) (string, error) {
	if c.layout.httpsPort == 0 {
		return "", errors.New("albmtls: the config has no HTTPS listener")
	}
	return c.endpoint(ctx, c.layout.httpsPort, "https")
}

// AdminToken returns the admin endpoint's bearer token (WithAdminToken's,
// or the one Run drew): send it as `Authorization: Bearer TOKEN` on your own
// admin requests. POST and DELETE need it; GET /healthz and /metrics do not.
func (c *Container) AdminToken() string { return c.token }

// AdminEndpoint returns http://HOST:PORT of the admin endpoint (/healthz,
// /metrics, the trust store revocation API) as published on the Docker host.
func (c *Container) AdminEndpoint(ctx context.Context) (string, error) {
	return c.endpoint(ctx, c.layout.adminPort, "http")
}
