package compare

import (
	"bytes"
	"math"
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
// request and rate, each the geometric mean of its two slots' medians,
// and the slots' own ratio; without two binaries it is a usage error
// (exit status 2). The figures themselves are timings of a loaded test
// machine (other packages' tests run beside it), so the test checks the
// script's arithmetic on them, not their size.
func TestABScript(t *testing.T) {
	bin := testbin.Path(t)
	cmd := exec.Command("bash", "../ab.sh", bin, bin, "2")
	cmd.Env = append(os.Environ(), "SLICE=300ms", "CONCURRENCY=4")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(t, cmd.Run(), "stderr:\n%s", stderr.String())
	out := stdout.String()
	num := `([0-9.]+)`
	for _, what := range []string{"server CPU per request", "requests per second"} {
		m := regexp.MustCompile(`NEW/OLD ` + what + ` +` + num + `  \(NEW in slot B ` + num + `, in slot A ` + num + `; slot B over A ` + num + `\)`).FindStringSubmatch(out)
		require.NotNil(t, m, "%s in:\n%s", what, out)
		var f [4]float64
		for i := range f {
			v, err := strconv.ParseFloat(m[i+1], 64)
			require.NoError(t, err)
			require.Positive(t, v, "%s: %q", what, m[0])
			f[i] = v
		}
		newOld, inB, inA, slot := f[0], f[1], f[2], f[3]
		// Printed to three decimals: the ratios of rounded figures agree
		// to a few thousandths.
		assert.InDelta(t, math.Sqrt(inB*inA), newOld, 0.003, "%s: NEW/OLD is the geometric mean of the two slots", what)
		assert.InDelta(t, math.Sqrt(inB/inA), slot, 0.003, "%s: the slots' own ratio", what)
	}
	assert.Contains(t, out, "n = 2 + 2 pairs")
	assert.Regexp(t, `ab: pair 2/2: A [0-9.]+ [0-9]+, B [0-9.]+ [0-9]+ \(µs/request, requests/s\)`, stderr.String(), "progress on stderr")

	usage := exec.Command("bash", "../ab.sh", bin)
	err := usage.Run()
	var ee *exec.ExitError
	require.ErrorAs(t, err, &ee)
	assert.Equal(t, 2, ee.ExitCode())
}
