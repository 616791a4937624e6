package soak

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// runSigterm keeps 16 clients sending requests with unique paths
// (/slow/W-N, answered after up to 200 ms) on kept-alive connections,
// sends SIGTERM after 3 s and keeps the clients going until the emulator
// has exited. Every request a client got a complete answer to must have its
// line in the access log.
func runSigterm(ctx context.Context, h *harness, r *Result) error {
	addr, stopT, err := startTarget()
	if err != nil {
		return err
	}
	defer stopT()
	e, err := h.startEmulator(ctx, "sigterm", emuConfig{Targets: []string{addr}})
	if err != nil {
		return err
	}
	defer func() {
		select {
		case <-e.done:
		default:
			e.kill()
		}
	}()
	var (
		mu       sync.Mutex
		answered []string
		cut      atomic.Int64 // sent, no complete answer
		wg       sync.WaitGroup
	)
	bound := time.After(60 * time.Second)
	for w := range 16 {
		wg.Go(func() {
			var c *conn
			for seq := 0; ; seq++ {
				select {
				case <-e.done:
					return
				case <-bound:
					return
				default:
				}
				if c == nil {
					var err error
					if c, err = dial(e.addr, e.tlsClient, 5*time.Second); err != nil {
						time.Sleep(20 * time.Millisecond)
						continue
					}
				}
				path := fmt.Sprintf("/slow/%d-%d", w, seq)
				status, _, err := c.get(path, false, 30*time.Second)
				if err != nil {
					cut.Add(1)
					c.Close()
					c = nil
					continue
				}
				mu.Lock()
				answered = append(answered, fmt.Sprintf("%s %d", path, status))
				mu.Unlock()
			}
		})
	}
	time.Sleep(3 * time.Second)
	h.logf("sigterm: SIGTERM to pid %d under load", e.pid())
	t0 := time.Now()
	_ = syscall.Kill(e.pid(), syscall.SIGTERM)
	select {
	case <-e.done:
	case <-time.After(45 * time.Second):
		e.kill()
		return fmt.Errorf("albmtls did not exit within 45 s of SIGTERM")
	}
	exitIn := time.Since(t0)
	wg.Wait()

	logged, err := os.ReadFile(filepath.Join(e.logDir, "access.log"))
	if err != nil {
		return err
	}
	urls, bad := accessURLs(string(logged))
	seen := map[string]bool{}
	for _, u := range urls {
		if i := strings.Index(u, "/slow/"); i >= 0 {
			seen[u[i:]] = true
		}
	}
	missing := 0
	var example string
	for _, a := range answered {
		p, _, _ := strings.Cut(a, " ")
		if !seen[p] {
			missing++
			example = a
		}
	}
	r.figure("answered", "%d", len(answered))
	r.figure("access-log lines", "%d (%d unparsable)", len(urls), bad)
	r.figure("answered without a line", "%d", missing)
	if missing > 0 {
		r.figure("e.g.", "%s", example)
	}
	r.figure("sent but not answered (connection closed by the shutdown)", "%d", cut.Load())
	r.figure("exit", "%s after SIGTERM (%v)", exitIn.Round(10*time.Millisecond), exitStatus(e.exitErr))
	r.Pass = len(answered) > 0 && missing == 0 && bad == 0 && e.exitErr == nil
	return nil
}

func exitStatus(err error) string {
	if err == nil {
		return "status 0"
	}
	return err.Error()
}
