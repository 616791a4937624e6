package main

import (
	"bytes"
	"errors"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/albmtls/albmtls/internal/testbin"
)

func TestBenchSoakRejectsAnUnknownPhase(t *testing.T) {
	code, _, stderr := runBenchCLI("bench", "soak", "--phases", "idle,nope")
	assert.Equal(t, 2, code, "an unknown phase is a usage error")
	assert.Contains(t, stderr, `no phase "nope"`)
	assert.Contains(t, stderr, "log-dir", "the error lists the phases")
}

// TestBenchSoakRunsAPhaseAgainstTheBinary runs the suite's shortest phase
// end to end: the real binary as serve, a target, the access log read back,
// and the table. The verdict itself is the suite's business (a FAIL exits 1).
func TestBenchSoakRunsAPhaseAgainstTheBinary(t *testing.T) {
	cmd := testbin.Command(t, "bench", "soak", "--phases", "target-kill", "--work-dir", t.TempDir())
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil {
		require.True(t, errors.As(err, &exit) && exit.ExitCode() == 1, "%v\n%s", err, errb.String())
	}
	assert.Contains(t, errb.String(), "soak: phase target-kill:")
	table := out.String()
	assert.Contains(t, table, "| phase | target | result | figures | time |")
	require.Contains(t, table, "| target-kill |")
	assert.NotContains(t, table, "**ERROR**", "the phase ran to its measurements:\n%s", table)
	assert.True(t, strings.Contains(table, "**PASS**") == (err == nil), "exit status 0 exactly when every phase passed")
}
