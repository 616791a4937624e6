package soak

import (
	"context"
	"net"
	"net/http"
	"time"
)

// fdLimit is the emulator's RLIMIT_NOFILE in the fd-exhaustion phase, and
// fdFlood how many connections flood it.
const (
	fdLimit = 256
	fdFlood = 600
)

// runFDExhaustion starts the emulator with RLIMIT_NOFILE 256, opens 600
// TCP connections to its listener (accept then fails with EMFILE), holds
// them 3 s, closes them, and then expects a new verified request to be
// answered within 15 s.
func runFDExhaustion(ctx context.Context, h *harness, r *Result) error {
	addr, stopT, err := startTarget()
	if err != nil {
		return err
	}
	defer stopT()
	e, err := h.startEmulator(ctx, "fd", emuConfig{Targets: []string{addr}, NoFile: fdLimit})
	if err != nil {
		return err
	}
	defer e.stop()
	if st, _, err := request(e.addr, e.tlsClient, "/"); err != nil || st != 200 {
		return errOr(err, errStatus(st))
	}
	var flood []net.Conn
	for range fdFlood {
		c, err := net.DialTimeout("tcp", e.addr, 2*time.Second)
		if err != nil {
			break
		}
		flood = append(flood, c)
	}
	h.logf("fd-exhaustion: %d connections open against RLIMIT_NOFILE %d", len(flood), fdLimit)
	time.Sleep(time.Second)
	peak := openFiles(e.pid())
	_, _, duringErr := request(e.addr, e.tlsClient, "/")
	time.Sleep(2 * time.Second)
	for _, c := range flood {
		c.Close()
	}
	t0 := time.Now()
	recovered := time.Duration(-1)
	for time.Since(t0) < 15*time.Second && ctx.Err() == nil {
		if st, _, err := request(e.addr, e.tlsClient, "/"); err == nil && st == 200 {
			recovered = time.Since(t0)
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	health := "unreachable"
	if resp, err := (&http.Client{Timeout: 5 * time.Second}).Get(e.admin + "/healthz"); err == nil {
		health = resp.Status
		resp.Body.Close()
	}
	eMFILE := e.stderr.count("too many open files")
	r.figure("flood", "%d connections, emulator fds peaked at %d/%d", len(flood), peak, fdLimit)
	r.figure("request during flood", "%s", map[bool]string{true: "failed (expected)", false: "answered"}[duringErr != nil])
	r.figure("log lines with EMFILE", "%d", eMFILE)
	if recovered >= 0 {
		r.figure("accepting again", "%s after release", recovered.Round(10*time.Millisecond))
	} else {
		r.figure("accepting again", "NO, not within 15 s")
	}
	r.figure("/healthz", "%s", health)
	r.Pass = recovered >= 0
	return nil
}

func errOr(err, other error) error {
	if err != nil {
		return err
	}
	return other
}
