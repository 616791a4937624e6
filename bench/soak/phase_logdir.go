package soak

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// The slog messages of logdelivery.File for a failing and a recovered log.
const (
	msgLogFailing   = "cannot write log file"
	msgLogRecovered = "log file written again"
)

// runLogDir has two parts. Full: the log directory is a 64 KiB tmpfs (or,
// without the right to mount, the log files are symlinks to /dev/full),
// requests go on until it is full and beyond, then the logs are truncated
// (space freed). Vanished: the log directory is removed under load. In both,
// no request may fail, each log file's failure is logged once, the lines
// are counted in albmtls_log_lines_dropped_total, and lines are written
// again afterwards.
func runLogDir(ctx context.Context, h *harness, r *Result) error {
	full, err := logDirFull(ctx, h, r)
	if err != nil {
		return err
	}
	gone, err := logDirVanished(ctx, h, r)
	if err != nil {
		return err
	}
	r.Pass = full && gone
	return nil
}

func logDirFull(ctx context.Context, h *harness, r *Result) (bool, error) {
	addr, stopT, err := startTarget()
	if err != nil {
		return false, err
	}
	defer stopT()
	dir, err := h.phaseDir("log-full")
	if err != nil {
		return false, err
	}
	logs := filepath.Join(dir, "logs")
	if err := os.MkdirAll(logs, 0o755); err != nil {
		return false, err
	}
	how := "64 KiB tmpfs"
	unmount, merr := mountTmpfs(logs, 64<<10)
	var free func() error
	if merr == nil {
		defer unmount()
		free = func() error {
			for _, f := range []string{"access.log", "conn.log"} {
				if err := os.Truncate(filepath.Join(logs, f), 0); err != nil {
					return err
				}
			}
			return nil
		}
	} else {
		how = "symlinks to /dev/full (tmpfs: " + merr.Error() + ")"
		for _, f := range []string{"access.log", "conn.log"} {
			if err := os.Symlink("/dev/full", filepath.Join(logs, f)); err != nil {
				return false, err
			}
		}
		free = func() error {
			for _, f := range []string{"access.log", "conn.log"} {
				p := filepath.Join(logs, f)
				if err := os.Remove(p); err != nil {
					return err
				}
				if err := os.WriteFile(p, nil, 0o644); err != nil {
					return err
				}
			}
			return nil
		}
	}
	e, err := startEmulator(ctx, h.cfg.Exe, dir, emuConfig{Targets: []string{addr}, material: h.mat, LogDir: logs, Extra: h.cfg.Emulation})
	if err != nil {
		return false, err
	}
	defer e.stop()
	h.logf("log-dir: full (%s): 600 requests", how)
	during := hammer(ctx, e.addr, e.tlsClient, 4, time.Minute, 600, true, "/")
	time.Sleep(1500 * time.Millisecond)
	dA, errA := e.metric(`albmtls_log_lines_dropped_total{log="access"}`)
	dC, errC := e.metric(`albmtls_log_lines_dropped_total{log="connection"}`)
	failing := e.stderr.count(msgLogFailing)
	if err := free(); err != nil {
		return false, fmt.Errorf("freeing the log directory: %w", err)
	}
	after := hammer(ctx, e.addr, e.tlsClient, 2, time.Minute, 50, true, "/")
	time.Sleep(2 * time.Second)
	back, _ := os.ReadFile(filepath.Join(logs, "access.log"))
	lines := strings.Count(string(back), "\n")
	recovered := e.stderr.count(msgLogRecovered)
	r.figure("full", "%s; requests %d ok %d failed; dropped access %s connection %s; error lines %d; after freeing: %d ok %d failed, %d new access lines, %d recovery lines",
		how, during.ok, during.failed, num(dA, errA), num(dC, errC), failing, after.ok, after.failed, lines, recovered)
	if during.failed+after.failed > 0 {
		r.figure("full errors", "%s %s", during.kindsString(), after.kindsString())
	}
	ok := during.failed == 0 && after.failed == 0 && errA == nil && errC == nil && dA > 0 && dC > 0 &&
		failing >= 1 && failing <= 2 && lines > 0 && recovered >= 1
	return ok, nil
}

func logDirVanished(ctx context.Context, h *harness, r *Result) (bool, error) {
	addr, stopT, err := startTarget()
	if err != nil {
		return false, err
	}
	defer stopT()
	e, err := h.startEmulator(ctx, "log-gone", emuConfig{Targets: []string{addr}})
	if err != nil {
		return false, err
	}
	defer e.stop()
	h.logf("log-dir: vanished: removing %s under load", e.logDir)
	done := make(chan *loadResult)
	go func() { done <- hammer(ctx, e.addr, e.tlsClient, 4, 6*time.Second, 0, true, "/") }()
	time.Sleep(2 * time.Second)
	if err := os.RemoveAll(e.logDir); err != nil {
		return false, err
	}
	res := <-done
	time.Sleep(1500 * time.Millisecond)
	back, _ := os.ReadFile(filepath.Join(e.logDir, "access.log"))
	lines := strings.Count(string(back), "\n")
	_, cerr := os.Stat(filepath.Join(e.logDir, "conn.log"))
	dA, errA := e.metric(`albmtls_log_lines_dropped_total{log="access"}`)
	failing := e.stderr.count(msgLogFailing)
	r.figure("vanished", "requests %d ok %d failed; access.log recreated with %d lines, conn.log %s; dropped access %s; error lines %d",
		res.ok, res.failed, lines, map[bool]string{true: "recreated", false: "MISSING"}[cerr == nil], num(dA, errA), failing)
	if res.failed > 0 {
		r.figure("vanished errors", "%s", res.kindsString())
	}
	ok := res.failed == 0 && res.ok > 0 && lines > 0 && cerr == nil && errA == nil && dA > 0 && failing >= 1 && failing <= 2
	return ok, nil
}

// num formats a scraped value, or the reason it is missing.
func num(v float64, err error) string {
	if err != nil {
		return "n/a (" + err.Error() + ")"
	}
	return fmt.Sprintf("%.0f", v)
}
