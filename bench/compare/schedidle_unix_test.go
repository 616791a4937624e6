//go:build unix

package compare

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/albmtls/albmtls/internal/golden"
)

// TestSchedIdleScript runs bench/sched-idle.sh (BENCHMARKS.md, "Idle time
// is the scheduler's") on a recorded scheduler trace small enough to work
// out by hand (testdata/sched-idle/perf-script.txt, two CPUs over 2.1 ms):
//
//   - CPU 1 is idle from 0.2 to 0.7 ms while beta's thread 202, then
//     alpha's preempted thread 101, waits on CPU 0, until 101 is migrated
//     to CPU 1 at 0.6 ms: 500 µs idle, 400 of them with work waiting
//     on the other CPU; the period is ended by alpha;
//   - CPU 0 is idle from 1.0 ms to the end (1,100 µs, not ended), CPU 1
//     from 1.5 to 2.1 ms (600 µs, ended by alpha): both idle from 1.5 to
//     2.1 ms, and from 2.0 ms on alpha waits on CPU 1 while CPU 0 idles
//     (100 µs more with work waiting on another CPU);
//
// so 2,200 of 4,200 µs idle (52.4%), 500 with a waiter elsewhere (11.9%),
// 600 of 2,100 µs with every CPU idle (28.6%), two idle periods of 550
// µs on average. The wake-ups and switch-outs are counted per second.
func TestSchedIdleScript(t *testing.T) {
	dir := filepath.Join("testdata", "sched-idle")
	cmd := exec.Command("bash", "../sched-idle.sh", "analyze", filepath.Join(dir, "perf-script.txt"), "alpha=100", "beta=200")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(t, cmd.Run(), "stderr:\n%s", stderr.String())
	golden.Assert(t, filepath.Join(dir, "expected.txt"), stdout.String())

	for name, args := range map[string][]string{
		"no arguments":     nil,
		"unknown mode":     {"replay", "x"},
		"bad process name": {"analyze", filepath.Join(dir, "perf-script.txt"), "alpha:100"},
		"unreadable file":  {"analyze", filepath.Join(dir, "missing.txt")},
		"bad seconds":      {"record", "soon"},
	} {
		cmd := exec.Command("bash", append([]string{"../sched-idle.sh"}, args...)...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		err := cmd.Run()
		var ee *exec.ExitError
		require.ErrorAs(t, err, &ee, name)
		assert.Equal(t, 2, ee.ExitCode(), "%s: %s", name, stderr.String())
		assert.Contains(t, stderr.String(), "sched-idle.sh", name)
	}

	empty := filepath.Join(t.TempDir(), "empty.txt")
	require.NoError(t, os.WriteFile(empty, nil, 0o600))
	cmd = exec.Command("bash", "../sched-idle.sh", "analyze", empty)
	stderr.Reset()
	cmd.Stderr = &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	require.ErrorAs(t, err, &ee)
	assert.Equal(t, 1, ee.ExitCode())
	assert.Contains(t, stderr.String(), "no scheduler events")
}
