package main

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/albmtls/albmtls/internal/syncbuf"
	"github.com/albmtls/albmtls/internal/testbin"
	"github.com/albmtls/albmtls/internal/testtool"
	"github.com/albmtls/albmtls/pki"
	"github.com/albmtls/albmtls/pki/pkitest"
)

// serveConfig: a verify HTTPS listener and an HTTP listener forwarding to
// one target, access log, admin endpoint.
const serveConfig = `load_balancer: {name: test-alb, account_id: "123456789012", region: eu-west-1}
trust_stores:
  - name: ts
    ca_certificates_bundle: %s
target_groups:
  - name: web
    targets: ["%s"]
    health_check: {enabled: false}
listeners:
  - port: 0
    protocol: HTTPS
    certificates: [{certificate: server/server.pem, private_key: server/server-key.pem}]
    mutual_authentication: {mode: verify, trust_store: ts}
    default_action: {type: forward, target_group: web}
  - port: 0
    protocol: HTTP
    default_action: {type: forward, target_group: web}
logs:
  access: {file: logs/access.log}
admin: {listen: "127.0.0.1:0"}
emulation:
  watch_interval: 0s
  handshake_timeout: 2s
  shutdown_drain_timeout: %s
`

func writeServeConfig(t *testing.T, dir, bundle, target, drain string) string {
	t.Helper()
	file := filepath.Join(dir, "albmtls.yaml")
	require.NoError(t, os.WriteFile(file, fmt.Appendf(nil, serveConfig, bundle, target, drain), 0o644))
	return file
}

// served is a running `albmtls serve` and its addresses.
type served struct {
	cmd    *exec.Cmd
	stderr *syncbuf.Buffer
	https  string
	http   string
	admin  string
}

func startServe(t *testing.T, dir string, cmd *exec.Cmd) *served {
	t.Helper()
	cmd.Dir = dir
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	s := &served{cmd: cmd, stderr: &syncbuf.Buffer{}}
	cmd.Stderr = s.stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	sc := bufio.NewScanner(stdout)
	for _, line := range readUntil(t, sc, "admin http://", s.stderr) {
		f := strings.Fields(line)
		switch {
		case len(f) == 3 && f[1] == "HTTPS":
			s.https = strings.TrimPrefix(f[2], "https://")
		case len(f) == 3 && f[1] == "HTTP":
			s.http = strings.TrimPrefix(f[2], "http://")
		case len(f) == 2 && f[0] == "admin":
			s.admin = strings.TrimPrefix(f[1], "http://")
		}
	}
	go func() {
		for sc.Scan() {
		}
	}()
	return s
}

// exitWithin waits for the process to end after a signal.
func (s *served) exitWithin(t *testing.T, bound time.Duration) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- s.cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(bound):
		_ = s.cmd.Process.Kill()
		<-done
		t.Fatalf("still running %s after the signal; stderr:\n%s", bound, s.stderr.String())
	}
}

// TestServeSIGTERMLogsCutRequests: requests still running when the drain
// ends are cut, logged on stderr, and each still gets its access-log line
// (elb_status_code "-": the client got no response). Answered requests are
// logged as before: one line per request sent.
func TestServeSIGTERMLogsCutRequests(t *testing.T) {
	var slow atomic.Int32
	release := make(chan struct{})
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			slow.Add(1)
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}
		io.WriteString(w, "ok")
	}))
	t.Cleanup(func() { close(release); target.Close() })

	dir := pkitest.Dir(t)
	file := writeServeConfig(t, dir, "ca/bundle.pem", target.Listener.Addr().String(), "1s")
	s := startServe(t, dir, testbin.Command(t, "serve", "-c", file))

	const fast, slowN = 3, 4
	for range fast {
		res, err := http.Get("http://" + s.http + "/fast")
		require.NoError(t, err)
		res.Body.Close()
		require.Equal(t, 200, res.StatusCode)
	}
	errs := make(chan error, slowN)
	for range slowN {
		go func() {
			c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
			res, err := c.Get("http://" + s.http + "/slow")
			if err == nil {
				res.Body.Close()
			}
			errs <- err
		}()
	}
	deadline := time.Now().Add(20 * time.Second)
	for slow.Load() < slowN {
		require.True(t, time.Now().Before(deadline), "the target saw %d of %d slow requests", slow.Load(), slowN)
		time.Sleep(10 * time.Millisecond)
	}
	require.NoError(t, s.cmd.Process.Signal(syscall.SIGTERM))
	s.exitWithin(t, 30*time.Second)
	for range slowN {
		assert.Error(t, <-errs, "a cut request got a response")
	}

	b, err := os.ReadFile(filepath.Join(dir, "logs", "access.log"))
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	require.Len(t, lines, fast+slowN, "one access-log line per request sent:\n%s\nstderr:\n%s", b, s.stderr.String())
	cut := 0
	for _, l := range lines {
		f := strings.Fields(l)
		if strings.Contains(l, "/slow HTTP/1.1") {
			cut++
			assert.Equal(t, "-", f[8], "elb_status_code of a cut request: %s", l)
		} else {
			assert.Equal(t, "200", f[8], l)
		}
	}
	assert.Equal(t, slowN, cut)
	assert.Contains(t, s.stderr.String(), "shutdown drain ended")
	assert.Regexp(t, regexp.MustCompile(`requests_cut=4`), s.stderr.String())
}

// TestServeSIGTERMWhileLoadingFIFO: a trust store bundle that is a FIFO
// with no writer blocks the open for ever; SIGTERM must still end the
// process promptly, naming the file.
func TestServeSIGTERMWhileLoadingFIFO(t *testing.T) {
	dir := pkitest.Dir(t)
	fifo := filepath.Join(dir, "bundle.fifo")
	require.NoError(t, syscall.Mkfifo(fifo, 0o600))
	file := writeServeConfig(t, dir, "bundle.fifo", "127.0.0.1:9", "1s")
	cmd := testbin.Command(t, "--log-level", "debug", "serve", "-c", file)
	cmd.Dir = dir
	stderr := &syncbuf.Buffer{}
	cmd.Stderr = stderr
	require.NoError(t, cmd.Start())
	s := &served{cmd: cmd, stderr: stderr}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	// The debug line comes just before the open that blocks: the signal
	// handler is in place by then (a fixed sleep raced a slow start-up).
	require.Eventually(t, func() bool { return strings.Contains(stderr.String(), "bundle.fifo") }, 20*time.Second, 20*time.Millisecond,
		"serve never reached the FIFO; stderr:\n%s", stderr)
	time.Sleep(100 * time.Millisecond) // from the log line into the open itself
	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	s.exitWithin(t, 10*time.Second)
	assert.NotEqual(t, 0, cmd.ProcessState.ExitCode())
	assert.Contains(t, stderr.String(), "interrupted while loading")
	assert.Contains(t, stderr.String(), "bundle.fifo (trust_stores[0])")
}

// TestServeRecoversFromFDExhaustion runs the binary with a tiny file
// descriptor limit, floods a listener until accept fails with EMFILE, frees
// the descriptors, and expects the listener to serve again.
func TestServeRecoversFromFDExhaustion(t *testing.T) {
	sh := testtool.Need(t, "sh")
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	t.Cleanup(target.Close)
	dir := pkitest.Dir(t)
	set, err := pki.Load(dir)
	require.NoError(t, err)
	file := writeServeConfig(t, dir, "ca/bundle.pem", target.Listener.Addr().String(), "1s")
	cmd := exec.Command(sh, "-c", `ulimit -n 48 && exec "$0" serve -c "$1"`, testbin.Path(t), file)
	s := startServe(t, dir, cmd)

	leaf, ok := set.Client("valid")
	require.True(t, ok)
	roots := x509.NewCertPool()
	require.True(t, roots.AppendCertsFromPEM(set.Bundle()))
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true,
		TLSClientConfig: &tls.Config{RootCAs: roots, ServerName: "localhost", Certificates: []tls.Certificate{leaf.TLSCertificate()}}}}
	get := func() error {
		res, err := client.Get("https://" + s.https + "/")
		if err != nil {
			return err
		}
		res.Body.Close()
		if res.StatusCode != 200 {
			return fmt.Errorf("status %d", res.StatusCode)
		}
		return nil
	}
	require.NoError(t, get())

	// Hold more connections than the child has descriptors; they never
	// start a handshake.
	var flood []net.Conn
	for range 100 {
		c, err := net.Dial("tcp", s.https)
		if err != nil {
			break
		}
		flood = append(flood, c)
	}
	time.Sleep(time.Second)
	for _, c := range flood {
		c.Close()
	}

	deadline := time.Now().Add(30 * time.Second)
	for {
		err := get()
		if err == nil {
			break
		}
		require.True(t, time.Now().Before(deadline), "the listener does not serve again after fds were freed: %v\nstderr:\n%s", err, s.stderr.String())
		time.Sleep(100 * time.Millisecond)
	}
	res, err := http.Get("http://" + s.admin + "/metrics")
	require.NoError(t, err)
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	m := regexp.MustCompile(`albmtls_listener_accept_errors_total\{listener_port="\d+"\} ([1-9]\d*)`).FindSubmatch(b)
	require.NotNil(t, m, "no accept errors counted: the flood did not exhaust the fds\n%s", b)
	assert.Contains(t, s.stderr.String(), "out of file descriptors")
	res, err = http.Get("http://" + s.admin + "/healthz")
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, 200, res.StatusCode, "healthy again once accepting")
	require.NoError(t, s.cmd.Process.Signal(syscall.SIGTERM))
	s.exitWithin(t, 30*time.Second)
}

// TestServeSIGTERMWhileReloadBlocks: a bundle replaced by a FIFO makes the
// file watcher's reload block in open; SIGTERM must still end the process.
func TestServeSIGTERMWhileReloadBlocks(t *testing.T) {
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	t.Cleanup(target.Close)
	dir := pkitest.Dir(t)
	file := writeServeConfig(t, dir, "ca/bundle.pem", target.Listener.Addr().String(), "1s")
	cfg, err := os.ReadFile(file)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(file, []byte(strings.Replace(string(cfg), "watch_interval: 0s", "watch_interval: 50ms", 1)), 0o644))
	s := startServe(t, dir, testbin.Command(t, "serve", "-c", file))
	bundle := filepath.Join(dir, "ca", "bundle.pem")
	require.NoError(t, os.Remove(bundle))
	require.NoError(t, syscall.Mkfifo(bundle, 0o600))
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(s.stderr.String(), "reloading") {
		require.True(t, time.Now().Before(deadline), "no reload started; stderr:\n%s", s.stderr.String())
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond)
	require.NoError(t, s.cmd.Process.Signal(syscall.SIGTERM))
	s.exitWithin(t, 20*time.Second)
	assert.Contains(t, s.stderr.String(), "reload is still blocked")
}

// TestServeCheck: serve --check validates without starting. A config with
// four mistakes of different kinds (an unknown key, a bad mode, an unknown
// listener attribute, a bad ssl_policy) gets all four in one run and exit
// status 1; a good one gets "config OK" and exit 0, and nothing is bound or
// written.
func TestServeCheck(t *testing.T) {
	dir := pkitest.Dir(t)
	bad := filepath.Join(dir, "bad.yaml")
	require.NoError(t, os.WriteFile(bad, []byte(`trust_stores: [{name: ts, ca_certificates_bundle: ca/bundle.pem}]
listeners:
  - port: 8443
    protocol: HTTPS
    ssl_policy: ELBSecurityPolicy-TLS13-1-2-2021-6
    certificates: [{certificate: server/server.pem, private_key: server/server-key.pem}]
    mutual_authentication: {mode: verifyy, trust_store: ts}
    attributes: {routing.http.made_up.enabled: "true"}
    default_action: {type: fixed-response, fixed_response: {status_code: "200"}}
emulation: {rejectwith: alert}
`), 0o644))
	cmd := testbin.Command(t, "serve", "--check", "-c", bad)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	require.ErrorAs(t, err, &ee, "%s", out)
	assert.Equal(t, 1, ee.ExitCode())
	for _, w := range []string{
		"4 problems in the config",
		"bad.yaml:10: emulation.rejectwith: unknown key \"rejectwith\"",
		"bad.yaml:7: listeners[0].mutual_authentication.mode: \"verifyy\" is not a mutual authentication mode; use off, passthrough or verify",
		"bad.yaml:8: listeners[0].attributes.routing.http.made_up.enabled: albmtls does not support the listener attribute",
		"bad.yaml:5: listeners[0].ssl_policy: unknown security policy \"ELBSecurityPolicy-TLS13-1-2-2021-6\"",
	} {
		assert.Contains(t, string(out), w)
	}

	good := writeServeConfig(t, dir, "ca/bundle.pem", "127.0.0.1:1", "1s")
	cmd = testbin.Command(t, "serve", "--check", "-c", good)
	out, err = cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.Equal(t, "config OK: 2 listeners (HTTPS mode verify, HTTP), 1 trust stores, 1 target groups\n", string(out))
	assert.NoFileExists(t, filepath.Join(dir, "logs", "access.log"), "--check opens no log file")
}

// TestServeListsFileProblemsWithConfigProblems: serve itself (without
// --check) refuses a config with a static problem and a missing trust store
// file in one message, before binding anything.
func TestServeListsFileProblemsWithConfigProblems(t *testing.T) {
	dir := pkitest.Dir(t)
	file := filepath.Join(dir, "albmtls.yaml")
	require.NoError(t, os.WriteFile(file, []byte(`trust_stores: [{name: ts, ca_certificates_bundle: nowhere/bundle.pem}]
listeners:
  - port: 0
    protocol: HTTPS
    certificates: [{certificate: server/server.pem, private_key: server/server-key.pem}]
    mutual_authentication: {mode: verify, trust_store: ts}
    default_action: {type: fixed-response, fixed_response: {status_code: "200"}}
emulation: {stale_crl: never}
`), 0o644))
	out, err := testbin.Command(t, "serve", "-c", file).CombinedOutput()
	var ee *exec.ExitError
	require.ErrorAs(t, err, &ee, "%s", out)
	assert.Contains(t, string(out), "2 problems in the config")
	assert.Contains(t, string(out), `albmtls.yaml:8: emulation.stale_crl: "never" is not valid; use apply or fail`)
	assert.Contains(t, string(out), "albmtls.yaml:1: trust_stores[0]:")
	assert.Contains(t, string(out), "nowhere/bundle.pem")
}
