package main

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestBuildInfoMatchesVersion: the real binary's albmtls_build_info carries
// the version, revision and Go version that `albmtls --version` prints
// (issue 16: one source for both).
func TestBuildInfoMatchesVersion(t *testing.T) {
	code, stdout, stderr := runBin(t, "--version")
	require.Equal(t, 0, code, stderr)
	// albmtls VERSION[ (REVISION)] GOVERSION OS/ARCH
	m := regexp.MustCompile(`^albmtls (\S+)(?: \(([0-9a-f]+)\))? (go\S+) \S+/\S+$`).FindStringSubmatch(strings.TrimSpace(stdout))
	require.NotNil(t, m, "--version printed %q", stdout)
	version, revision, goVersion := m[1], m[2], m[3]

	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "albmtls.yaml"), []byte(`listeners:
  - {port: 0, protocol: HTTP, default_action: {type: fixed-response, fixed_response: {status_code: "200"}}}
admin: {listen: "127.0.0.1:0"}
`), 0o644))
	cmd, out, errBuf := startProcess(t, dir, "serve", "-c", "albmtls.yaml")
	var admin string
	for _, line := range readUntil(t, out, "admin http://", errBuf) {
		if s, ok := strings.CutPrefix(line, "admin "); ok {
			admin = s
		}
	}
	require.NotEmpty(t, admin)
	go func() {
		for out.Scan() {
		}
	}()
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get(admin + "/metrics")
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	want := `albmtls_build_info{goversion="` + goVersion + `",revision="` + revision + `",version="` + version + `"} 1`
	assert.Contains(t, string(body), want)
	require.NoError(t, cmd.Process.Signal(os.Interrupt))
	require.NoError(t, cmd.Wait(), "stderr:\n%s", errBuf)
}
