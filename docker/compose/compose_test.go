package compose_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/albmtls/albmtls/backend"
	"github.com/albmtls/albmtls/docker/albmtls"
	"github.com/albmtls/albmtls/emulator/accesslog"
	"github.com/albmtls/albmtls/emulator/connlog"
	"github.com/albmtls/albmtls/pki"
)

// repoRoot is where docker-compose.yml and the Dockerfile are.
const repoRoot = "../.."

// workshop is one `docker-compose` project of the repository's file.
type workshop struct {
	t       *testing.T
	command []string // docker-compose, or docker compose
	project string
	env     []string
	token   string // ALBMTLS_ADMIN_TOKEN of the alb service
	dir     string // host directory: logs/ and the copied pki/
	https   int
	http    int
	admin   int
}

// requireCompose finds docker-compose (or the docker compose plugin) and a
// daemon; without them the test skips, or fails under CI=true.
func requireCompose(t *testing.T) []string {
	t.Helper()
	skip := func(format string, args ...any) {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true but "+format+": .ci/run must provide it", args...)
		}
		t.Skipf(format+"; the compose test needs it", args...)
	}
	if _, err := exec.LookPath("docker"); err != nil {
		skip("no docker command")
	}
	if out, err := exec.Command("docker", "info", "--format", "{{.ServerVersion}}").CombinedOutput(); err != nil {
		skip("no Docker daemon reachable (%s)", strings.TrimSpace(string(out)))
	}
	if _, err := exec.LookPath("docker-compose"); err == nil {
		return []string{"docker-compose"}
	}
	if exec.Command("docker", "compose", "version").Run() == nil {
		return []string{"docker", "compose"}
	}
	skip("neither docker-compose nor the docker compose plugin is installed")
	return nil
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", ":0")
	require.NoError(t, err)
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func (w *workshop) compose(extraEnv []string, args ...string) string {
	w.t.Helper()
	full := append(append([]string{}, w.command[1:]...), "-p", w.project, "-f", filepath.Join(repoRoot, "docker-compose.yml"))
	cmd := exec.Command(w.command[0], append(full, args...)...)
	cmd.Env = append(append(os.Environ(), w.env...), extraEnv...)
	out, err := cmd.CombinedOutput()
	require.NoError(w.t, err, "%s %s:\n%s", strings.Join(w.command, " "), strings.Join(args, " "), out)
	return string(out)
}

// waitAdmin waits until the emulator's admin endpoint answers.
func (w *workshop) waitAdmin() {
	w.t.Helper()
	require.Eventually(w.t, func() bool {
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/healthz", w.admin))
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, 90*time.Second, 250*time.Millisecond, "the alb service never became healthy")
}

// client presents the named certificate of the copied PKI.
func (w *workshop) client(set *pki.Set, name string) *http.Client {
	w.t.Helper()
	roots := x509.NewCertPool()
	roots.AddCert(set.Root.Cert)
	leaf, ok := set.Client(name)
	require.True(w.t, ok, name)
	return &http.Client{Timeout: 15 * time.Second, Transport: &http.Transport{
		TLSClientConfig:   &tls.Config{RootCAs: roots, ServerName: "localhost", Certificates: []tls.Certificate{leaf.TLSCertificate()}},
		DisableKeepAlives: true,
	}}
}

// get sends GET path as the named client; err is the connection's failure.
func (w *workshop) get(set *pki.Set, name, path string) (backend.Report, error) {
	resp, err := w.client(set, name).Get(fmt.Sprintf("https://localhost:%d%s?format=json", w.https, path))
	if err != nil {
		return backend.Report{}, err
	}
	defer resp.Body.Close()
	var rep backend.Report
	if err := json.NewDecoder(resp.Body).Decode(&rep); err != nil {
		return rep, err
	}
	return rep, nil
}

// connLine waits for the connection-log line of serial with status.
func (w *workshop) connLine(serial, status string) {
	w.t.Helper()
	var last string
	ok := assert.Eventually(w.t, func() bool {
		data, err := os.ReadFile(filepath.Join(w.dir, "logs", "conn.log"))
		if err != nil {
			return false
		}
		for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
			e, err := connlog.ParseLine(line)
			if err == nil && e.Serial == serial {
				last = e.VerifyStatus
				if last == status {
					return true
				}
			}
		}
		return false
	}, 10*time.Second, 100*time.Millisecond)
	if !ok {
		w.t.Errorf("no connection-log line for %s with %s (last: %q)", serial, status, last)
	}
}

// accessTargets waits for access-log lines naming n different targets by
// IP:port: the targets are registered by name (web-1:9001), and ALB logs
// the address it connected to.
func (w *workshop) accessTargets(n int) {
	w.t.Helper()
	seen := map[netip.AddrPort]bool{}
	ok := assert.Eventually(w.t, func() bool {
		data, err := os.ReadFile(filepath.Join(w.dir, "logs", "access.log"))
		if err != nil {
			return false
		}
		for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
			if e, err := accesslog.ParseLine(line); err == nil && e.Target.IsValid() {
				seen[e.Target] = true
			}
		}
		return len(seen) >= n
	}, 10*time.Second, 100*time.Millisecond)
	if !ok {
		w.t.Errorf("access log names %d targets by IP:port (%v), want %d", len(seen), seen, n)
	}
}

// TestWorkshop follows docs/workshop.md against the real docker-compose.yml.
func TestWorkshop(t *testing.T) {
	command := requireCompose(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	img, err := albmtls.BuildImage(ctx, repoRoot)
	require.NoError(t, err)
	require.Equal(t, "albmtls:dev", img, "docker-compose.yml runs albmtls:dev")

	suffix := make([]byte, 4)
	_, _ = rand.Read(suffix)
	w := &workshop{t: t, command: command, project: "albmtls-compose-test-" + hex.EncodeToString(suffix),
		dir: t.TempDir(), https: freePort(t), http: freePort(t), admin: freePort(t)}
	require.NoError(t, os.MkdirAll(filepath.Join(w.dir, "logs"), 0o777))
	w.env = []string{
		"ALBMTLS_HTTPS_PORT=" + strconv.Itoa(w.https),
		"ALBMTLS_HTTP_PORT=" + strconv.Itoa(w.http),
		"ALBMTLS_ADMIN_PORT=" + strconv.Itoa(w.admin),
		"ALBMTLS_LOGS_DIR=" + filepath.Join(w.dir, "logs"),
	}
	tok := make([]byte, 16)
	_, _ = rand.Read(tok)
	w.token = hex.EncodeToString(tok)
	w.env = append(w.env, "ALBMTLS_ADMIN_TOKEN="+w.token)
	t.Cleanup(func() {
		if t.Failed() {
			cmd := exec.Command(command[0], append(command[1:], "-p", w.project, "-f", filepath.Join(repoRoot, "docker-compose.yml"), "logs", "--no-color")...)
			cmd.Env = append(os.Environ(), w.env...)
			out, _ := cmd.CombinedOutput()
			t.Logf("docker-compose logs:\n%s", out)
		}
		cmd := exec.Command(command[0], append(command[1:], "-p", w.project, "-f", filepath.Join(repoRoot, "docker-compose.yml"), "down", "-v", "--remove-orphans")...)
		cmd.Env = append(os.Environ(), w.env...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("docker-compose down -v: %v\n%s", err, out)
		}
	})

	// Start.
	start := time.Now()
	w.compose(nil, "up", "-d")
	w.waitAdmin()
	t.Logf("docker-compose up: ready in %s", time.Since(start).Round(time.Millisecond))
	id := strings.TrimSpace(w.compose(nil, "ps", "-q", "alb"))
	require.NotEmpty(t, id)
	pkiDir := filepath.Join(w.dir, "pki")
	out, err := exec.Command("docker", "cp", id+":/pki", pkiDir).CombinedOutput()
	require.NoError(t, err, "docker cp: %s", out)
	set, err := pki.Load(pkiDir)
	require.NoError(t, err)
	serial := func(name string) string {
		art, ok := set.Manifest().Artefact(name)
		require.True(t, ok, name)
		return art.Serial
	}

	t.Run("valid: 200 from web-1 and web-2 in turn", func(t *testing.T) {
		var seen []string
		for range 4 {
			rep, err := w.get(set, "valid", "/")
			require.NoError(t, err)
			require.Equal(t, 200, rep.Status, rep.Error)
			assert.Equal(t, backend.ModeVerify, rep.Mode)
			seen = append(seen, rep.Instance)
		}
		assert.ElementsMatch(t, []string{"web-1", "web-2", "web-1", "web-2"}, seen)
		assert.NotEqual(t, seen[0], seen[1])
		w.connLine(serial("valid"), "Success")
		w.accessTargets(2)
	})
	t.Run("member and outsider on /members/", func(t *testing.T) {
		rep, err := w.get(set, "member", "/members/")
		require.NoError(t, err)
		assert.Equal(t, 200, rep.Status, rep.Error)
		rep, err = w.get(set, "outsider", "/members/")
		require.NoError(t, err)
		assert.Equal(t, 403, rep.Status)
		assert.Contains(t, rep.Error, `the subject has O "Outsider Ltd"`)
	})
	for _, tc := range []struct{ client, status string }{
		{"revoked", "Failed:ClientCertCrlHit"},
		{"untrusted", "Failed:ClientCertUntrusted"},
		{"expired", "Failed:ClientCertExpired"},
	} {
		t.Run(tc.client+" is rejected", func(t *testing.T) {
			_, err := w.get(set, tc.client, "/")
			require.Error(t, err, "the connection is closed after the handshake")
			w.connLine(serial(tc.client), tc.status)
		})
	}
	t.Run("HTTP redirects to HTTPS", func(t *testing.T) {
		hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := hc.Get(fmt.Sprintf("http://localhost:%d/orders", w.http))
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusMovedPermanently, resp.StatusCode)
		// The container's HTTPS port; with the default host ports it is the same.
		assert.Equal(t, "https://localhost:8443/orders", resp.Header.Get("Location"))
	})
	t.Run("revoke valid live through the admin API", func(t *testing.T) {
		out, err := exec.Command("docker", "run", "--rm", "-v", pkiDir+":/pki", "albmtls:dev", "pki", "revoke", "--pki", "/pki", "valid").CombinedOutput()
		require.NoError(t, err, "%s", out)
		assert.Contains(t, string(out), "revoked valid")
		crl, err := os.ReadFile(filepath.Join(pkiDir, "crl", "intermediate.crl.pem"))
		require.NoError(t, err)
		url := fmt.Sprintf("http://127.0.0.1:%d/trust-stores/demo/revocations", w.admin)
		// The admin endpoint binds 0.0.0.0 in the container: without the
		// token a revocation change is refused (issue 19 item 5).
		resp, err := http.Post(url, "application/x-pem-file", bytes.NewReader(crl))
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
		req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(crl))
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+w.token)
		resp, err = http.DefaultClient.Do(req)
		require.NoError(t, err)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)
		assert.Contains(t, string(body), `"NumberOfRevokedEntries": 2`)
		_, err = w.get(set, "valid", "/")
		require.Error(t, err, "valid is now revoked")
		w.connLine(serial("valid"), "Failed:ClientCertCrlHit")
	})
	t.Run("switch to passthrough", func(t *testing.T) {
		w.compose([]string{"ALBMTLS_MODE=passthrough"}, "up", "-d", "alb")
		w.waitAdmin()
		var rep backend.Report
		require.Eventually(t, func() bool {
			rep, err = w.get(set, "revoked", "/")
			return err == nil && rep.Mode == backend.ModePassthrough
		}, 60*time.Second, 250*time.Millisecond, "revoked never got through the passthrough listener: %v", err)
		assert.Equal(t, 403, rep.Status, "the backend verifies the chain itself")
		assert.Contains(t, rep.Error, "is revoked by the CRL of")
		w.connLine(serial("revoked"), "Success")

		rep, err = w.get(set, "untrusted", "/")
		require.NoError(t, err)
		assert.Equal(t, 403, rep.Status)
		assert.Contains(t, rep.Error, "unknown authority")
		rep, err = w.get(set, "member", "/members/")
		require.NoError(t, err)
		assert.Equal(t, 200, rep.Status, rep.Error)
		// The admin API revoked valid in the ALB's trust store only; the
		// backends check the volume's CRLs.
		rep, err = w.get(set, "valid", "/")
		require.NoError(t, err)
		assert.Equal(t, 200, rep.Status, rep.Error)
	})

	// Stop, and check that the volume is gone.
	w.compose(nil, "down", "-v", "--remove-orphans")
	out, err = exec.Command("docker", "volume", "ls", "-q", "--filter", "name="+w.project).CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.Empty(t, strings.TrimSpace(string(out)), "down -v removes the pki volume")
}
