package compare

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestOtherShare(t *testing.T) {
	a := cpuSnapshot{busy: 10, total: 100, own: 2, ok: true}
	b := cpuSnapshot{busy: 70, total: 200, own: 42, ok: true}
	assert.InDelta(t, 0.2, otherShare(a, b), 1e-9, "60 s busy, 40 of them ours, over 100 s of CPU")
	assert.Equal(t, -1.0, otherShare(cpuSnapshot{}, b))
	s := takeCPU()
	assert.True(t, s.ok)
	assert.Positive(t, s.total)
}

func TestParseStat(t *testing.T) {
	// proc(5): pid (comm) state ppid pgrp session tty_nr tpgid flags minflt
	// cminflt majflt cmajflt utime stime …; the name may hold ") (".
	g, cpu, ok := parseStat("4242 (nginx: a) (b) S 1 4240 4240 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 1 0")
	require.True(t, ok)
	assert.Equal(t, 4240, g)
	assert.InDelta(t, 3.0, cpu, 1e-9, "(250 + 50) ticks of 10 ms")
	_, _, ok = parseStat("4242 (short) S 1")
	assert.False(t, ok)
}

// TestGroupCPU: a process group's CPU time counts its forked children,
// as nginx's workers must be.
func TestGroupCPU(t *testing.T) {
	ps := &procs{}
	t.Cleanup(ps.stopAll)
	// The leader waits; the child it forks burns CPU for a moment.
	p, err := ps.start("sh", filepath.Join(t.TempDir(), "log"), "/bin/sh", "-c", `sh -c 'i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done; sleep 60' & wait`)
	require.NoError(t, err)
	assert.Eventually(t, func() bool {
		secs, ok := groupCPU(p.pid())
		return ok && secs >= 0.05
	}, 20*time.Second, 50*time.Millisecond, "the child's CPU time is the group's")
	other, ok := groupCPU(-1)
	require.True(t, ok)
	assert.Zero(t, other, "no process is in group -1")
}
