package albmtls_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/client"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/testcontainers/testcontainers-go"

	"github.com/albmtls/albmtls/docker/albmtls"
	"github.com/albmtls/albmtls/pki/pkitest"
)

// requireGone asserts that no container with the ID exists any more.
func requireGone(t *testing.T, ctr *albmtls.Container) {
	t.Helper()
	if ctr == nil {
		return // nothing was created
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cli, err := testcontainers.NewDockerClientWithOpts(ctx)
	require.NoError(t, err)
	defer cli.Close()
	_, err = cli.ContainerInspect(ctx, ctr.GetContainerID(), client.ContainerInspectOptions{})
	require.Error(t, err, "Run must remove the container it started when it fails")
	assert.Contains(t, err.Error(), "No such container")
}

// startFailure runs the emulator with options that must make Run fail.
func startFailure(t *testing.T, img string, opts ...testcontainers.ContainerCustomizer) error {
	t.Helper()
	requireDocker(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	start := time.Now()
	ctr, err := albmtls.Run(ctx, img, opts...)
	testcontainers.CleanupContainer(t, ctr)
	require.Error(t, err)
	t.Logf("Run failed after %s: %v", time.Since(start).Round(time.Millisecond), err)
	requireGone(t, ctr)
	return err
}

func TestRunRefusedListenerAttribute(t *testing.T) {
	err := startFailure(t, image, albmtls.WithListenerAttribute("routing.http.no_such_header.header_name", "X-Nope"))
	// The emulator's own message, with the key path and the file.
	assert.Contains(t, err.Error(), "the emulator ("+image+") exited with code 2 at start-up") // a configuration error (README: exit statuses)
	assert.Contains(t, err.Error(), "listeners[0].attributes")
	assert.Contains(t, err.Error(), "routing.http.no_such_header.header_name")
}

func TestRunRefusedTrustStore(t *testing.T) {
	set := pkitest.Standard(t)
	bundle := filepath.Join(t.TempDir(), "bundle.pem")
	// A blank line between the certificates: ALB refuses the bundle.
	data := append(append(append([]byte{}, set.Intermediate.CertPEM...), '\n'), set.Root.CertPEM...)
	require.NoError(t, os.WriteFile(bundle, data, 0o644))
	err := startFailure(t, image, albmtls.WithTrustStore(bundle))
	assert.Contains(t, err.Error(), "InvalidCaCertificatesBundle")
}

func TestRunImageMissing(t *testing.T) {
	err := startFailure(t, "albmtls:no-such-tag")
	assert.Contains(t, err.Error(), "image albmtls:no-such-tag is not in the local Docker daemon")
	assert.Contains(t, err.Error(), "BuildImage")
}

// TestRunWithoutDaemon runs Run in a subprocess that cannot reach the
// daemon: testcontainers falls back from a dead DOCKER_HOST to the default
// socket, so the subprocess runs in a mount namespace where that socket is
// covered by a plain file.
func TestRunWithoutDaemon(t *testing.T) {
	if os.Getenv(childEnv) != "" {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		ctr, err := albmtls.Run(ctx, albmtls.DefaultImage)
		testcontainers.CleanupContainer(t, ctr)
		require.Nil(t, ctr)
		require.Error(t, err)
		t.Log(err)
		assert.Contains(t, err.Error(), "no Docker daemon reachable")
		assert.Contains(t, err.Error(), "DOCKER_HOST")
		return
	}
	requireDocker(t)
	if _, err := exec.LookPath("unshare"); err != nil {
		t.Skip("needs unshare(1) to hide the Docker socket from a subprocess")
	}
	plain := filepath.Join(t.TempDir(), "not-a-socket")
	require.NoError(t, os.WriteFile(plain, nil, 0o644))
	cmd := exec.Command("unshare", "--mount", "sh", "-c", `mount --bind "$1" /var/run/docker.sock && shift && exec "$@"`, "sh",
		plain, os.Args[0], "-test.run=^TestRunWithoutDaemon$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), childEnv+"=1", "DOCKER_HOST=unix://"+filepath.Join(t.TempDir(), "no-daemon.sock"))
	out, err := cmd.CombinedOutput()
	if err != nil && strings.Contains(string(out), "mount") && !strings.Contains(string(out), "=== RUN") {
		t.Skipf("cannot hide the Docker socket in a mount namespace here: %s", out)
	}
	require.NoError(t, err, "the subprocess failed:\n%s", out)
	assert.Contains(t, string(out), "--- PASS: TestRunWithoutDaemon")
	assert.Contains(t, string(out), "no Docker daemon reachable")
}

// TestOptionErrors covers mistakes Run reports before it touches Docker.
func TestOptionErrors(t *testing.T) {
	dir := t.TempDir()
	loopbackAdmin := filepath.Join(dir, "loopback-admin.yaml")
	require.NoError(t, os.WriteFile(loopbackAdmin, []byte("admin: {listen: 127.0.0.1:9090}\n"), 0o644))
	noAdmin := filepath.Join(dir, "no-admin.yaml")
	require.NoError(t, os.WriteFile(noAdmin, []byte("listeners: []\n"), 0o644))
	loopbackListener := filepath.Join(dir, "loopback-listener.yaml")
	require.NoError(t, os.WriteFile(loopbackListener, []byte("admin: {listen: 0.0.0.0:9090}\nlisteners: [{port: 8443, protocol: HTTPS}]\n"), 0o644))

	for _, tc := range []struct {
		name string
		opts []testcontainers.ContainerCustomizer
		want string
	}{
		{"bad mode", []testcontainers.ContainerCustomizer{albmtls.WithMode("strict")}, `WithMode("strict"): not a mutual authentication mode`},
		{"bad target", []testcontainers.ContainerCustomizer{albmtls.WithTarget("backend")}, `WithTarget("backend"): want host:port`},
		{"bad target port", []testcontainers.ContainerCustomizer{albmtls.WithTarget("backend:http")}, `port "http" is not 1-65535`},
		{"config and generated options", []testcontainers.ContainerCustomizer{albmtls.WithConfig(noAdmin), albmtls.WithMode(albmtls.ModeOff)},
			"WithConfig replaces the generated config, so WithMode cannot be combined with it"},
		{"config without admin", []testcontainers.ContainerCustomizer{albmtls.WithConfig(noAdmin)}, "no admin.listen"},
		{"admin on loopback", []testcontainers.ContainerCustomizer{albmtls.WithConfig(loopbackAdmin)}, `admin.listen "127.0.0.1:9090" is not reachable`},
		{"listener on loopback", []testcontainers.ContainerCustomizer{albmtls.WithConfig(loopbackListener)}, "listeners[0].address"},
		{"missing config", []testcontainers.ContainerCustomizer{albmtls.WithConfig(filepath.Join(dir, "nope.yaml"))}, "WithConfig: open"},
		{"missing PKI", []testcontainers.ContainerCustomizer{albmtls.WithPKI(filepath.Join(dir, "nope"))}, "WithPKI("},
		{"missing trust store file", []testcontainers.ContainerCustomizer{albmtls.WithTrustStore(filepath.Join(dir, "nope.pem"))}, "WithTrustStore: open"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctr, err := albmtls.Run(context.Background(), "albmtls:never-used", tc.opts...)
			assert.Nil(t, ctr)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}
