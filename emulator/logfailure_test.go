package emulator_test

import (
	"crypto/tls"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// droppedLines reads albmtls_log_lines_dropped_total{log=...} from /metrics.
func droppedLines(t *testing.T, l *lb, log string) float64 {
	t.Helper()
	code, body := adminGet(t, l, "/metrics")
	require.Equal(t, 200, code)
	m := regexp.MustCompile(`(?m)^albmtls_log_lines_dropped_total\{log="` + log + `"\} (\S+)$`).FindStringSubmatch(body)
	require.NotNil(t, m, "albmtls_log_lines_dropped_total{log=%q} missing from /metrics", log)
	v, err := strconv.ParseFloat(m[1], 64)
	require.NoError(t, err)
	return v
}

// TestLogDirectoryRemovedWhileServing: removing the log directory does not
// stop serving; the lines written meanwhile are counted as dropped, and the
// directory and both files come back on later writes.
func TestLogDirectoryRemovedWhileServing(t *testing.T) {
	l := startLB(t, params{})
	assert.Zero(t, droppedLines(t, l, "access"))
	assert.Zero(t, droppedLines(t, l, "connection"))
	require.NoError(t, l.get("valid", tls.VersionTLS13, "/", nil).err)

	logs := filepath.Join(l.dir, "logs")
	require.NoError(t, os.RemoveAll(logs))
	require.Eventually(t, func() bool {
		out := l.get("valid", tls.VersionTLS13, "/", nil)
		require.NoError(t, out.err, "serving goes on without a log directory")
		_, errA := os.Stat(filepath.Join(logs, "access.log"))
		_, errC := os.Stat(filepath.Join(logs, "conn.log"))
		return errA == nil && errC == nil
	}, 20*time.Second, 100*time.Millisecond, "the log files are recreated")
	assert.Positive(t, droppedLines(t, l, "access"), "lines written to the removed file are counted")
	assert.Positive(t, droppedLines(t, l, "connection"))
}
