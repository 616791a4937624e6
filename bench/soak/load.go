package soak

import (
	"context"
	"crypto/tls"
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// loadResult counts what a load run's clients saw.
type loadResult struct {
	ok, failed int64
	mu         sync.Mutex
	kinds      map[string]int64
}

func (l *loadResult) fail(err error) {
	atomic.AddInt64(&l.failed, 1)
	k := err.Error()
	if i := strings.LastIndex(k, ": "); i >= 0 && len(k) > 80 {
		k = k[i+2:]
	}
	l.mu.Lock()
	if l.kinds == nil {
		l.kinds = map[string]int64{}
	}
	l.kinds[k]++
	l.mu.Unlock()
}

// kindsString lists the error kinds, most frequent first.
func (l *loadResult) kindsString() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	type kv struct {
		k string
		n int64
	}
	var s []kv
	for k, n := range l.kinds {
		s = append(s, kv{k, n})
	}
	sort.Slice(s, func(i, j int) bool { return s[i].n > s[j].n })
	var out []string
	for i, x := range s {
		if i == 3 {
			break
		}
		out = append(out, fmt.Sprintf("%d × %s", x.n, x.k))
	}
	return strings.Join(out, ", ")
}

// hammer runs workers that send GET path to addr until d passes, ctx ends
// or total requests were sent (0: no count). With handshake set, every
// request has its own connection (a full mTLS handshake); otherwise each
// worker keeps its connection alive. A non-200 answer counts as failed.
func hammer(ctx context.Context, addr string, tc *tls.Config, workers int, d time.Duration, total int64, handshake bool, path string) *loadResult {
	res := &loadResult{}
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var sent atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			var c *conn
			defer func() {
				if c != nil {
					c.Close()
				}
			}()
			for ctx.Err() == nil && (total == 0 || sent.Add(1) <= total) {
				if c == nil {
					var err error
					if c, err = dial(addr, tc, 10*time.Second); err != nil {
						res.fail(fmt.Errorf("handshake: %w", err))
						time.Sleep(10 * time.Millisecond)
						continue
					}
				}
				status, _, err := c.get(path, handshake, 10*time.Second)
				switch {
				case err != nil:
					res.fail(err)
				case status != 200:
					res.fail(fmt.Errorf("status %d", status))
				default:
					atomic.AddInt64(&res.ok, 1)
				}
				if err != nil || handshake {
					c.Close()
					c = nil
				}
			}
		})
	}
	wg.Wait()
	return res
}
