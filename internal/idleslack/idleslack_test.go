package idleslack

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestSlack(t *testing.T) {
	for _, tc := range []struct{ idle, slack time.Duration }{
		{time.Second, 10 * time.Millisecond},
		{60 * time.Second, 100 * time.Millisecond},
		{4000 * time.Second, 100 * time.Millisecond},
		{100 * time.Millisecond, time.Millisecond},
	} {
		assert.Equal(t, tc.slack, Slack(tc.idle), "%v", tc.idle)
	}
}

func TestDue(t *testing.T) {
	t0 := time.Now()
	at := Stamp(t0)
	assert.Positive(t, at)
	assert.True(t, Due(0, at, time.Second), "never moved")
	assert.False(t, Due(at, Stamp(t0.Add(999*time.Millisecond)), time.Second), "within slack")
	assert.True(t, Due(at, Stamp(t0.Add(time.Second)), time.Second), "slack passed")
}
