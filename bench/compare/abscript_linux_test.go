package compare

import (
	"bytes"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/albmtls/albmtls/internal/testbin"
)

// TestABScript runs bench/ab.sh (BENCHMARKS.md, "Running it") on a short
// load with the same build as OLD and NEW: it serves both, alternates the
// load between them in both places, and prints NEW/OLD for CPU per
// request and rate, near 1 for a build against itself; without two
// binaries it is a usage error (exit status 2).
func TestABScript(t *testing.T) {
	bin := testbin.Path(t)
	cmd := exec.Command("bash", "../ab.sh", bin, bin, "2")
	cmd.Env = append(os.Environ(), "SLICE=300ms", "CONCURRENCY=4")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(t, cmd.Run(), "stderr:\n%s", stderr.String())
	out := stdout.String()
	for _, what := range []string{"server CPU per request", "requests per second"} {
		m := regexp.MustCompile(`NEW/OLD ` + what + ` +([0-9.]+)  \(NEW in slot B [0-9.]+, in slot A [0-9.]+; slot B over A [0-9.]+\)`).FindStringSubmatch(out)
		require.NotNil(t, m, "%s in:\n%s", what, out)
		ratio, err := strconv.ParseFloat(m[1], 64)
		require.NoError(t, err)
		assert.InDelta(t, 1, ratio, 0.6, "%s: the same build against itself", what)
	}
	assert.Contains(t, out, "n = 2 + 2 pairs")
	assert.Regexp(t, `ab: pair 2/2: A [0-9.]+ [0-9]+, B [0-9.]+ [0-9]+ \(µs/request, requests/s\)`, stderr.String(), "progress on stderr")

	usage := exec.Command("bash", "../ab.sh", bin)
	err := usage.Run()
	var ee *exec.ExitError
	require.ErrorAs(t, err, &ee)
	assert.Equal(t, 2, ee.ExitCode())
}
