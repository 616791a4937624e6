//go:build unix

package compare

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestStopKillsTheWholeProcessGroup(t *testing.T) {
	ps := &procs{}
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "child.pid")
	// The shell forks a child that ignores SIGTERM, as a stuck worker would.
	p, err := ps.start("sh", filepath.Join(dir, "log"), "/bin/sh", "-c", `sh -c 'trap "" TERM; sleep 60' & echo $! > `+pidFile+`; wait`)
	require.NoError(t, err)
	var child int
	require.Eventually(t, func() bool {
		b, err := os.ReadFile(pidFile)
		if err != nil || len(strings.TrimSpace(string(b))) == 0 {
			return false
		}
		child, err = strconv.Atoi(strings.TrimSpace(string(b)))
		return err == nil
	}, 5*time.Second, 10*time.Millisecond)
	ps.stopAll()
	select {
	case <-p.done:
	default:
		t.Fatal("the leader still runs")
	}
	assert.Eventually(t, func() bool { return syscall.Kill(child, 0) != nil }, 10*time.Second, 50*time.Millisecond, "the forked child must be gone")
}
