package loadgen

import (
	"math/bits"
	"time"
)

// subBits sets the histogram's precision: 2^subBits buckets per power of
// two, so a reported percentile is within 1/64 (1.6%) of the true value.
const subBits = 6

// histBuckets covers every non-negative int64 nanosecond value.
const histBuckets = (64-subBits)<<subBits + 1<<subBits

// histogram is a log-linear latency histogram: fixed memory (about 30 KB)
// whatever the run length, so a long run cannot grow without bound, and
// mergeable, so each worker records into its own without locking.
type histogram struct {
	counts   [histBuckets]uint64
	n        uint64
	sum, max time.Duration
	min      time.Duration
}

func bucketOf(v uint64) int {
	if v < 1<<subBits {
		return int(v)
	}
	k := bits.Len64(v) - 1 // v in [2^k, 2^(k+1)), k >= subBits
	top := v >> (k - subBits)
	return (k-subBits+1)<<subBits + int(top) - 1<<subBits
}

// bucketLow is the smallest value that falls in bucket i.
func bucketLow(i int) uint64 {
	if i < 1<<subBits {
		return uint64(i)
	}
	k := i>>subBits + subBits - 1
	top := uint64(i&(1<<subBits-1)) + 1<<subBits
	return top << (k - subBits)
}

func (h *histogram) record(d time.Duration) {
	if d < 0 {
		d = 0
	}
	h.counts[bucketOf(uint64(d))]++
	if h.n == 0 || d < h.min {
		h.min = d
	}
	h.n++
	h.sum += d
	h.max = max(h.max, d)
}

func (h *histogram) merge(o *histogram) {
	if o.n == 0 {
		return
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	if h.n == 0 || o.min < h.min {
		h.min = o.min
	}
	h.n += o.n
	h.sum += o.sum
	h.max = max(h.max, o.max)
}

// quantile returns the q-quantile (0 < q ≤ 1): the middle of the bucket
// holding the rank, clamped to the observed min and max.
func (h *histogram) quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := uint64(q*float64(h.n) + 0.5)
	rank = min(max(rank, 1), h.n)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			lo, hi := bucketLow(i), bucketLow(i+1)
			v := time.Duration(lo + (hi-lo)/2)
			return min(max(v, h.min), h.max)
		}
	}
	return h.max
}

func (h *histogram) mean() time.Duration {
	if h.n == 0 {
		return 0
	}
	return h.sum / time.Duration(h.n)
}
