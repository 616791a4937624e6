package loadgen

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestBucketBoundsAreContiguous(t *testing.T) {
	for _, v := range []uint64{0, 1, 63, 64, 65, 127, 128, 129, 1000, 1 << 20, 123456789, 1<<62 + 12345} {
		i := bucketOf(v)
		assert.LessOrEqual(t, bucketLow(i), v, "v=%d", v)
		assert.Greater(t, bucketLow(i+1), v, "v=%d", v)
	}
	for i := range 70 * 64 {
		if bucketLow(i+1) == 0 {
			break
		}
		assert.Equal(t, i, bucketOf(bucketLow(i)), "bucket %d", i)
	}
}

func TestQuantilesWithinPrecision(t *testing.T) {
	var h histogram
	for i := 1; i <= 10000; i++ {
		h.record(time.Duration(i) * time.Microsecond)
	}
	for _, tc := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 5000 * time.Microsecond}, {0.99, 9900 * time.Microsecond}, {1, 10000 * time.Microsecond}} {
		got := h.quantile(tc.q)
		assert.InEpsilon(t, float64(tc.want), float64(got), 0.02, "q=%v got %s", tc.q, got)
	}
	assert.Equal(t, 10000*time.Microsecond, h.max)
	assert.Equal(t, time.Microsecond, h.min)
	assert.InEpsilon(t, float64(5000500*time.Nanosecond), float64(h.mean()), 0.001)

	var merged, empty histogram
	merged.merge(&empty)
	merged.merge(&h)
	assert.Equal(t, h.quantile(0.5), merged.quantile(0.5))
	assert.Zero(t, empty.quantile(0.5))
}
