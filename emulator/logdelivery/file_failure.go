package logdelivery

import (
	"bytes"
	"fmt"
	"log/slog"
	"os"
	"time"
)

// DefaultCheckInterval is how often a File that writes fine checks that its
// path still names the open file, so that a removed log (or log directory)
// is recreated and a renamed one (rotation) is followed. One stat(2) and one
// fstat(2) per interval, not per line.
const DefaultCheckInterval = time.Second

// failureReminder is how often a File that still cannot write logs again,
// with the count of lines dropped so far.
const failureReminder = time.Minute

// FileOptions says how a File reports a log it cannot write.
type FileOptions struct {
	// Logger receives one error when writing starts failing, a reminder a
	// minute while it goes on, and one info line when it works again.
	// Nil: slog.Default().
	Logger *slog.Logger
	// Dropped, when set, is called (from the writer goroutine) with the
	// number of lines that could not be written; the emulator adds them to
	// albmtls_log_lines_dropped_total.
	Dropped func(lines int)
	// CheckInterval is how often a healthy File compares its path with the
	// open file (0: DefaultCheckInterval). A failing File checks on every write.
	CheckInterval time.Duration
}

// fileHealth is the writer goroutine's own state; nothing else touches it.
type fileHealth struct {
	failing    bool
	since      time.Time // start of the current failure
	lastLog    time.Time
	episode    int       // lines dropped during the current failure
	sinceCheck int       // lines written since the path was last checked
	lastCheck  time.Time // when the path was last checked
	torn       bool      // a partial write left a line without its newline
	reopenErr  error     // why the path could not be reopened, while f is nil
}

var newline = []byte{'\n'}

// logFile is what File needs of an *os.File; tests fake partial writes.
type logFile interface {
	Write([]byte) (int, error)
	Stat() (os.FileInfo, error)
	Close() error
}

// Dropped returns how many lines could not be written since the File opened.
func (w *File) Dropped() uint64 { return w.dropped.Load() }

// write writes batch in one call and returns it emptied. A failed write drops
// the batch's lines (they are counted); the next batch tries again.
func (w *File) write(batch []byte) []byte {
	if len(batch) == 0 {
		return batch
	}
	h := &w.health
	lines := bytes.Count(batch, newline)
	if h.failing || w.checkNow.Swap(false) || time.Since(h.lastCheck) >= w.opts.CheckInterval {
		w.checkPath()
	}
	if w.f == nil {
		w.fail(h.reopenErr, lines)
		return batch[:0]
	}
	out, pre := batch, 0
	if h.torn {
		// End the torn line first so the next line starts on its own.
		out, pre = append(append(make([]byte, 0, len(batch)+1), '\n'), batch...), 1
	}
	n, err := w.f.Write(out)
	if err != nil {
		if n > 0 {
			h.torn = out[n-1] != '\n'
		}
		// The added newline is no line of its own: count only batch's.
		w.fail(fmt.Errorf("write log lines to %s: %w", w.path, err), bytes.Count(batch[max(n-pre, 0):], newline))
		return batch[:0]
	}
	h.torn = false
	h.sinceCheck += lines
	w.recovered()
	return batch[:0]
}

// checkPath reopens the path when it no longer names the open file: the file
// or its directory was removed (recreated, 0644 and 0755), or renamed
// (followed, as log rotation expects). Lines written to a removed file since
// the last check went where nobody can read them, so they count as dropped.
func (w *File) checkPath() {
	h := &w.health
	h.lastCheck = time.Now()
	cur, statErr := os.Stat(w.path)
	if w.f != nil {
		open, ferr := w.f.Stat()
		if statErr == nil && ferr == nil && os.SameFile(cur, open) {
			h.sinceCheck = 0
			return
		}
		if ferr == nil && removed(open) && h.sinceCheck > 0 {
			w.fail(fmt.Errorf("log file %s was removed while open; the %d lines written since it was last seen are lost; recreating it", w.path, h.sinceCheck), h.sinceCheck)
		}
		_ = w.f.Close()
		w.f = nil
	}
	h.sinceCheck = 0
	f, err := openAppend(w.path)
	if err != nil {
		h.reopenErr = err
		return
	}
	w.f, h.reopenErr, h.torn = f, nil, false
}

// fail records a failure and n dropped lines, logging the first failure of
// an outage at once and then a reminder a minute, never once per line.
func (w *File) fail(err error, n int) {
	h := &w.health
	w.setErr(err)
	if n > 0 {
		w.dropped.Add(uint64(n))
		h.episode += n
		if w.opts.Dropped != nil {
			w.opts.Dropped(n)
		}
	}
	now := time.Now()
	switch {
	case !h.failing:
		h.failing, h.since, h.lastLog = true, now, now
		w.opts.Logger.Error("cannot write log file: its lines are dropped and counted in albmtls_log_lines_dropped_total until writing works again; serving goes on (free disk space or restore the directory: albmtls retries on every write and recreates the file)",
			"file", w.path, "err", err)
	case now.Sub(h.lastLog) >= failureReminder:
		h.lastLog = now
		w.opts.Logger.Error("log file still cannot be written", "file", w.path, "err", err,
			"dropped", h.episode, "failing_for", now.Sub(h.since).Round(time.Second))
	}
}

// recovered ends an outage after a successful write.
func (w *File) recovered() {
	h := &w.health
	if !h.failing {
		return
	}
	w.opts.Logger.Info("log file written again", "file", w.path, "dropped", h.episode,
		"failed_for", time.Since(h.since).Round(time.Millisecond))
	h.failing, h.episode = false, 0
	w.setErr(nil)
}
