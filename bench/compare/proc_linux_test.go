package compare

import (
	"testing"

	"github.com/stretchr/testify/assert"
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
