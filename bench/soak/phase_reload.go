package soak

import (
	"context"
	"crypto/tls"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// runReload keeps handshake and keep-alive load on the emulator while the
// trust store's CA bundle and the intermediate's CRL are replaced every
// 100 ms (written to a temporary file and renamed over the original, as
// configuration management does), alternating two equivalent variants, with
// emulation.watch_interval 50ms. No request may fail, and the revoked
// client must still be refused at the end.
func runReload(ctx context.Context, h *harness, r *Result) error {
	addr, stopT, err := startTarget()
	if err != nil {
		return err
	}
	defer stopT()
	e, err := h.startEmulator(ctx, "reload", emuConfig{Targets: []string{addr}, Watch: "50ms"})
	if err != nil {
		return err
	}
	defer e.stop()
	m := h.mat
	defer func() { // leave the originals for the later phases
		_ = replace(m.bundle, m.bundleA)
		_ = replace(m.interCRL, m.interCRLA)
	}()

	var swaps atomic.Int64
	var swapErr error
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-t.C:
			}
			b, c := m.bundleA, m.interCRLA
			if i%2 == 0 {
				b, c = m.bundleB, m.interCRLB
			}
			if err := replace(m.bundle, b); err != nil {
				swapErr = err
				return
			}
			if err := replace(m.interCRL, c); err != nil {
				swapErr = err
				return
			}
			swaps.Add(1)
		}
	})
	h.logf("reload: load for %s while the bundle and CRL are swapped every 100 ms", h.cfg.LoadTime)
	var hs, ka *loadResult
	wg.Go(func() { hs = hammer(ctx, e.addr, e.tlsClient, 4, h.cfg.LoadTime, 0, true, "/") })
	wg.Go(func() { ka = hammer(ctx, e.addr, e.tlsClient, 4, h.cfg.LoadTime, 0, false, "/") })
	time.Sleep(h.cfg.LoadTime)
	close(stop)
	wg.Wait()
	if swapErr != nil {
		return swapErr
	}
	reloads := e.stderr.count("reloading")
	revokedTC := e.tlsClient.Clone()
	revokedTC.Certificates = []tls.Certificate{m.revoked}
	_, _, revErr := request(e.addr, revokedTC, "/")

	failed := hs.failed + ka.failed
	r.figure("requests", "%d ok (%d handshakes, %d kept-alive), %d failed", hs.ok+ka.ok, hs.ok, ka.ok, failed)
	if failed > 0 {
		r.figure("errors", "%s; %s", hs.kindsString(), ka.kindsString())
	}
	r.figure("swaps", "%d (bundle and CRL each)", swaps.Load())
	r.figure("reloads", "%d", reloads)
	r.figure("revoked client after", "%s", map[bool]string{true: "refused", false: "ACCEPTED"}[revErr != nil])
	r.Pass = failed == 0 && hs.ok > 0 && ka.ok > 0 && reloads > 0 && revErr != nil
	return nil
}

// replace writes data to a temporary file next to path and renames it over
// path, so a reader sees the old file or the new one, never half of one.
func replace(path string, data []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
