package main

import (
	"bufio"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/albmtls/albmtls/internal/syncbuf"
	"github.com/albmtls/albmtls/internal/testbin"
	"github.com/albmtls/albmtls/internal/testtool"
	"github.com/albmtls/albmtls/pki/pkitest"
)

// startProcess runs the real binary in dir and returns a reader of its
// stdout lines; the process is killed at cleanup if still running.
func startProcess(t *testing.T, dir string, args ...string) (*exec.Cmd, *bufio.Scanner, *syncbuf.Buffer) {
	t.Helper()
	cmd := testbin.Command(t, args...)
	cmd.Dir = dir
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	stderr := &syncbuf.Buffer{}
	cmd.Stderr = stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	return cmd, bufio.NewScanner(stdout), stderr
}

// readUntil returns the lines up to and including the first that contains
// marker.
func readUntil(t *testing.T, sc *bufio.Scanner, marker string, stderr *syncbuf.Buffer) []string {
	t.Helper()
	var lines []string
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if strings.Contains(sc.Text(), marker) {
			return lines
		}
	}
	t.Fatalf("no line with %q; stdout:\n%s\nstderr:\n%s", marker, strings.Join(lines, "\n"), stderr.String())
	return nil
}

// TestDemoBinary runs `albmtls demo` as a user does, with the default
// directory relative to its working directory, runs some of the printed
// curl commands through a shell exactly as printed, and stops it with
// Ctrl-C (SIGINT).
func TestDemoBinary(t *testing.T) {
	testtool.Need(t, "curl") // the guide's commands run through sh and find curl on PATH
	work := t.TempDir()
	cmd, out, stderr := startProcess(t, work, "demo", "--http-port", "0", "--https-port", "0", "--admin-addr", "127.0.0.1:0", "--aws-api", "127.0.0.1:0")
	guide := readUntil(t, out, "Connections as they happen", stderr)
	text := strings.Join(guide, "\n")
	assert.Contains(t, text, "albmtls demo: an emulated ALB with mutual TLS in verify mode")
	assert.Contains(t, text, "albmtls-demo/albmtls.yaml")
	assert.Regexp(t, `http://127\.0\.0\.1:\d+ +AWS API: ELBv2, ACM and S3`, text)
	assert.Contains(t, stderr.String(), "demo: generating the test PKI in albmtls-demo")

	// The command printed under each client, by client name.
	commands := map[string]string{}
	outcomes := map[string]string{}
	for i, line := range guide[:len(guide)-1] {
		next := strings.TrimSpace(guide[i+1])
		if strings.HasPrefix(line, "  ") && !strings.HasPrefix(line, "    ") && strings.HasPrefix(guide[i+1], "    ") && strings.Contains(next, "curl ") {
			name := strings.Fields(line)[0]
			commands[name] = next
			outcomes[name] = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), name))
		}
	}
	require.Len(t, commands, 14, text)
	assert.Equal(t, "Success → 200 from web-1 or web-2, in turn", outcomes["valid"])
	assert.Equal(t, "Failed:ClientCertCrlHit → connection reset", outcomes["revoked"])
	assert.Equal(t, "Failed:ClientCertTypeUnsupported → connection reset", outcomes["weak-rsa"])
	assert.True(t, strings.HasPrefix(commands["weak-rsa"], "OPENSSL_CONF=albmtls-demo/openssl-seclevel0.cnf curl "), commands["weak-rsa"])

	sh := func(line string) (string, int) {
		c := exec.Command("sh", "-c", line)
		c.Dir = work
		b, err := c.CombinedOutput()
		if ee, ok := err.(*exec.ExitError); ok {
			return string(b), ee.ExitCode()
		}
		require.NoError(t, err)
		return string(b), 0
	}
	body, code := sh(commands["valid"])
	require.Equal(t, 0, code, body)
	assert.Regexp(t, `"instance": "web-[12]"`, body)
	body, code = sh(commands["outsider"])
	require.Equal(t, 0, code, body)
	assert.Contains(t, body, `"status": 403`)
	for _, name := range []string{"revoked", "untrusted", "weak-rsa"} {
		body, code = sh(commands[name])
		assert.Contains(t, []int{16, 55, 56}, code, "%s: %s", name, body)
	}
	// The connection lines, in order.
	events := readUntil(t, out, "weak-rsa ", stderr)
	joined := strings.Join(events, "\n")
	assert.Regexp(t, `\d\d:\d\d:\d\d  valid +Success +→ web-[12] 200  GET /\?format=json`, joined)
	assert.Regexp(t, `outsider +Success +→ web-[12] 403  GET /members/\?format=json`, joined)
	assert.Regexp(t, `revoked +Failed:ClientCertCrlHit +→ connection reset`, joined)
	assert.Regexp(t, `untrusted +Failed:ClientCertUntrusted +→ connection reset`, joined)
	assert.Regexp(t, `weak-rsa +Failed:ClientCertTypeUnsupported +→ connection reset`, joined)
	assert.NotContains(t, joined, "\x1b[", "no colour when stdout is not a terminal")

	// Ctrl-C stops everything and exits 0.
	require.NoError(t, cmd.Process.Signal(syscall.SIGINT))
	rest, _ := io.ReadAll(readerOf(out))
	require.NoError(t, cmd.Wait(), "stderr: %s", stderr.String())
	assert.Contains(t, string(rest), "stopped; the logs are in albmtls-demo/logs")
	url := regexp.MustCompile(`https://localhost:(\d+)/`).FindStringSubmatch(text)
	require.NotNil(t, url)
	_, err := net.DialTimeout("tcp", "127.0.0.1:"+url[1], time.Second)
	assert.Error(t, err, "the HTTPS listener is closed")
	log, err := os.ReadFile(filepath.Join(work, "albmtls-demo", "logs", "conn.log"))
	require.NoError(t, err)
	assert.Equal(t, 5, strings.Count(string(log), "\n"), "one connection-log line per curl run:\n%s", log)

	// A second run reuses the PKI.
	cmd, out, stderr = startProcess(t, work, "demo", "--mode", "passthrough", "--http-port", "0", "--https-port", "0", "--admin-addr", "", "--aws-api", "off")
	guide = readUntil(t, out, "Connections as they happen", stderr)
	assert.Contains(t, strings.Join(guide, "\n"), "the test PKI of an earlier run")
	assert.Contains(t, strings.Join(guide, "\n"), "revoked                Success → 403 from the backend: client certificate rejected")
	assert.NotContains(t, stderr.String(), "generating")
	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	_, _ = io.ReadAll(readerOf(out))
	require.NoError(t, cmd.Wait(), "stderr: %s", stderr.String())
}

// readerOf drains what is left of a scanner's input.
func readerOf(sc *bufio.Scanner) io.Reader {
	pr, pw := io.Pipe()
	go func() {
		for sc.Scan() {
			_, _ = pw.Write([]byte(sc.Text() + "\n"))
		}
		pw.Close()
	}()
	return pr
}

func TestDemoErrors(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer busy.Close()
	port := strconv.Itoa(busy.Addr().(*net.TCPAddr).Port)
	dir := filepath.Join(t.TempDir(), "demo")
	tests := []struct {
		name string
		args []string
		want string
		code int
	}{
		{"https port in use", []string{"demo", "--aws-api", "off", "--dir", dir, "--https-port", port, "--http-port", "0"},
			"albmtls: --https-port: 127.0.0.1:" + port + " is already in use or not available (bind: address already in use); free it or choose another with --https-port\n", 1},
		{"http port in use", []string{"demo", "--aws-api", "off", "--dir", dir, "--http-port", port, "--https-port", "0"},
			"albmtls: --http-port: 127.0.0.1:" + port + " is already in use", 1},
		{"admin in use", []string{"demo", "--aws-api", "off", "--dir", dir, "--http-port", "0", "--https-port", "0", "--admin-addr", "127.0.0.1:" + port},
			"albmtls: --admin-addr: 127.0.0.1:" + port + " is already in use", 1},
		{"bad mode", []string{"demo", "--aws-api", "off", "--dir", dir, "--mode", "strict", "--http-port", "0", "--https-port", "0"},
			`albmtls: demo: "strict" is not a mode; use verify, passthrough or off`, 2},
		{"bad colour", []string{"demo", "--aws-api", "off", "--dir", dir, "--color", "pink"}, `albmtls: --color "pink": use auto, always or never`, 2},
		{"foreign PKI", []string{"demo", "--aws-api", "off", "--dir", pkitest.Dir(t), "--http-port", "0", "--https-port", "0", "--admin-addr", ""},
			"holds a PKI that the demo did not create", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runCLI(tt.args...)
			assert.Equal(t, tt.code, code, "1: a port in use, a foreign PKI (the run failed); 2: a bad flag value")
			assert.Contains(t, stderr, tt.want)
		})
	}
	_, err = os.Stat(dir)
	assert.ErrorIs(t, err, os.ErrNotExist, "nothing was created")
}

func TestDemoPrepare(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pki")
	code, stdout, stderr := runCLI("demo", "prepare", "--dir", dir)
	require.Equal(t, 0, code, stderr)
	assert.Equal(t, "created the demo PKI in "+dir+" (PKCS#12 password albmtls)\n", stdout)
	assert.FileExists(t, filepath.Join(dir, "clients", "member.p12"))
	code, stdout, stderr = runCLI("demo", "prepare", "--dir", dir)
	require.Equal(t, 0, code, stderr)
	assert.Equal(t, "reused the demo PKI in "+dir+" (PKCS#12 password albmtls)\n", stdout)
	assert.Empty(t, stderr)
}
