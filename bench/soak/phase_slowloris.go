package soak

import (
	"context"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// runSlowloris opens SlowConns clients that stall the TLS handshake (half
// send nothing, half three bytes of a record header; handshake_timeout 3s)
// and SlowConns verified mTLS clients that trickle a request's headers one
// byte a second (request_header_timeout 3s), then
// waits up to SlowWait for the emulator to close them. The emulator's
// goroutines must be back near their baseline while the clients are still
// trying (a server that keeps them holds a goroutine or two each).
func runSlowloris(ctx context.Context, h *harness, r *Result) error {
	n := h.cfg.SlowConns
	addr, stopT, err := startTarget()
	if err != nil {
		return err
	}
	defer stopT()
	e, err := h.startEmulator(ctx, "slowloris", emuConfig{Targets: []string{addr}, HandshakeTimeout: "3s", RequestHeaderTimeout: "3s"})
	if err != nil {
		return err
	}
	defer e.stop()
	if _, _, err := request(e.addr, e.tlsClient, "/"); err != nil {
		return err
	}
	time.Sleep(time.Second)
	g0, err := e.metric("go_goroutines")
	if err != nil {
		return err
	}

	stop := make(chan struct{})
	var closeOnce sync.Once
	release := func() { closeOnce.Do(func() { close(stop) }) }
	defer release()
	var hsClosed, hdrClosed, hdrOpened atomic.Int64
	var wg sync.WaitGroup
	var hsMax, hdrMax atomic.Int64 // longest time until closed, ms
	t0 := time.Now()
	// watch reads until the server closes the connection (or we release).
	watch := func(c net.Conn, closed, longest *atomic.Int64) {
		done := make(chan struct{})
		go func() {
			select {
			case <-stop:
				c.Close()
			case <-done:
			}
		}()
		buf := make([]byte, 512)
		for {
			if _, err := c.Read(buf); err != nil {
				break
			}
		}
		close(done)
		select {
		case <-stop: // closed by us
		default:
			closed.Add(1)
			ms := time.Since(t0).Milliseconds()
			for {
				cur := longest.Load()
				if ms <= cur || longest.CompareAndSwap(cur, ms) {
					break
				}
			}
		}
		c.Close()
	}
	for i := range n {
		c, err := net.DialTimeout("tcp", e.addr, 10*time.Second)
		if err != nil {
			return err
		}
		if i%2 == 1 {
			_, _ = c.Write([]byte{0x16, 0x03, 0x01})
		}
		wg.Go(func() { watch(c, &hsClosed, &hsMax) })
	}
	h.logf("slowloris: %d stalled handshakes open", n)
	for range n {
		c, err := dial(e.addr, e.tlsClient, 10*time.Second)
		if err != nil { // a loaded machine: one more try
			if c, err = dial(e.addr, e.tlsClient, 10*time.Second); err != nil {
				return fmt.Errorf("opening a header trickler: %w", err)
			}
		}
		hdrOpened.Add(1)
		_ = c.c.SetDeadline(time.Time{})
		_, _ = c.c.Write([]byte("GET / HTTP/1.1\r\nHost: soak.test\r\nX-Slow: "))
		wg.Go(func() {
			t := time.NewTicker(time.Second)
			defer t.Stop()
			for {
				select {
				case <-stop:
					return
				case <-t.C:
				}
				if _, err := c.c.Write([]byte("a")); err != nil {
					return
				}
			}
		})
		wg.Go(func() { watch(c.c, &hdrClosed, &hdrMax) })
	}
	h.logf("slowloris: %d header tricklers open; waiting up to %s for the emulator to close them", n, h.cfg.SlowWait)
	deadline := time.Now().Add(h.cfg.SlowWait)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if hsClosed.Load() == int64(n) && hdrClosed.Load() == int64(n) {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	time.Sleep(time.Second) // the server's goroutines end after the close
	gDuring, _ := e.metric("go_goroutines")
	release()
	wg.Wait()
	time.Sleep(2 * time.Second)
	gAfter, _ := e.metric("go_goroutines")

	r.figure("stalled handshakes closed", "%d/%d (last after %.1f s)", hsClosed.Load(), n, float64(hsMax.Load())/1000)
	r.figure("trickled headers closed", "%d/%d within %s", hdrClosed.Load(), n, h.cfg.SlowWait)
	r.figure("goroutines", "baseline %.0f, clients still trying %.0f, after release %.0f", g0, gDuring, gAfter)
	r.Pass = hsClosed.Load() == int64(n) && hdrClosed.Load() == int64(n) && gDuring <= g0+goroutineSlack
	return nil
}

// goroutineSlack is how far above its baseline the emulator's goroutine
// count may be and still count as back to baseline (pool workers, timers).
const goroutineSlack = 20
