package http1

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// TestDateOncePerSecond: a connection's Date value changes with the second
// and is in GMT whatever the clock's zone.
func TestDateOncePerSecond(t *testing.T) {
	var c conn
	t0 := time.Date(2026, 12, 3, 10, 0, 0, 100, time.UTC)
	assert.Equal(t, "Thu, 03 Dec 2026 10:00:00 GMT", string(c.date(t0)))
	assert.Equal(t, "Thu, 03 Dec 2026 10:00:00 GMT", string(c.date(t0.Add(900*time.Millisecond))))
	assert.Equal(t, "Thu, 03 Dec 2026 10:00:01 GMT", string(c.date(t0.Add(time.Second))))
	assert.Equal(t, "Thu, 03 Dec 2026 10:00:02 GMT", string(c.date(t0.Add(2*time.Second).In(time.FixedZone("CET", 3600)))))
	var epoch conn // the zero second is formatted too
	assert.Equal(t, "Thu, 01 Jan 1970 00:00:00 GMT", string(epoch.date(time.Unix(0, 0))))
}
