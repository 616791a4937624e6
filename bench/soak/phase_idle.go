package soak

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// runIdle opens IdleConns verified mTLS connections, sends one request on
// each (so they are kept-alive connections of a served client, governed by
// idle_timeout, here 300 s), holds them, and measures the emulator's RSS
// and goroutines before and after.
func runIdle(ctx context.Context, h *harness, r *Result) error {
	n := h.cfg.IdleConns
	r.Target = itoa(n) + " verified mTLS connections held idle (one request each, then idle); RSS per connection reported"
	addr, stopT, err := startTarget()
	if err != nil {
		return err
	}
	defer stopT()
	e, err := h.startEmulator(ctx, "idle", emuConfig{Targets: []string{addr}})
	if err != nil {
		return err
	}
	defer e.stop()
	if _, _, err := request(e.addr, e.tlsClient, "/"); err != nil {
		return err
	}
	time.Sleep(time.Second)
	rss0, err := rss(e.pid())
	if err != nil {
		return err
	}
	g0, err := e.metric("go_goroutines")
	if err != nil {
		return err
	}

	conns := make([]*conn, n)
	var next, opened, failed atomic.Int64
	var wg sync.WaitGroup
	t0 := time.Now()
	octx, cancel := context.WithTimeout(ctx, 4*time.Minute)
	defer cancel()
	for range 32 {
		wg.Go(func() {
			for octx.Err() == nil {
				i := next.Add(1) - 1
				if i >= int64(n) {
					return
				}
				var c *conn
				var err error
				for try := 0; try < 2; try++ { // one retry: the machine is shared
					if c, err = openIdle(e); err == nil {
						break
					}
					failed.Add(1)
				}
				if err != nil {
					continue
				}
				_ = c.c.SetDeadline(time.Time{})
				conns[i] = c
				if k := opened.Add(1); k%1000 == 0 {
					h.logf("idle: %d connections open (%.0f/s)", k, float64(k)/time.Since(t0).Seconds())
				}
			}
		})
	}
	wg.Wait()
	openTime := time.Since(t0)
	defer func() {
		for _, c := range conns {
			if c != nil {
				c.Close()
			}
		}
	}()
	time.Sleep(2 * time.Second)
	rss1, err := rss(e.pid())
	if err != nil {
		return err
	}
	g1, _ := e.metric("go_goroutines")
	fds := openFiles(e.pid())
	// Still held? A request on every 50th connection.
	sampled, alive := 0, 0
	for i := 0; i < n; i += 50 {
		if conns[i] == nil {
			continue
		}
		sampled++
		if st, _, err := conns[i].get("/", false, 20*time.Second); err == nil && st == 200 {
			alive++
		}
	}
	held := opened.Load()
	r.figure("held", "%d/%d (%d attempts failed, retried once) in %s", held, n, failed.Load(), openTime.Round(time.Second))
	r.figure("RSS", "%s → %s", mib(rss0), mib(rss1))
	if held > 0 {
		r.figure("per connection", "%s", kib(float64(rss1-rss0)/float64(held)))
	}
	r.figure("goroutines", "%.0f → %.0f", g0, g1)
	r.figure("emulator fds", "%d", fds)
	r.figure("sampled still served", "%d/%d", alive, sampled)
	r.Pass = held == int64(n) && alive == sampled
	return nil
}

// openIdle opens one connection and sends one request on it.
func openIdle(e *emulator) (*conn, error) {
	c, err := dial(e.addr, e.tlsClient, 20*time.Second)
	if err != nil {
		return nil, err
	}
	status, _, err := c.get("/", false, 20*time.Second)
	if err == nil && status != 200 {
		err = errStatus(status)
	}
	if err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}
