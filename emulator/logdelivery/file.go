// Package logdelivery delivers ALB log lines: to a local file as they
// happen (logs.connection.file, logs.access.file), and to a directory laid
// out like ALB's S3 delivery (logs.s3_layout_dir, alb-behaviour §6.1 and §7).
package logdelivery

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"
)

// Sink receives formatted log lines. WriteLine takes a line with or without
// its trailing newline and does not keep line after it returns, so callers
// may format into a reused buffer. Implementations are safe for concurrent use.
type Sink interface {
	WriteLine(line []byte) error
	Close() error
}

// File appends log lines to a file as they happen, so `tail -f` shows
// connections live. WriteLine copies the line into a pooled buffer and hands
// it to one writer goroutine over a buffered channel; the goroutine gathers
// whole lines and writes them with one write(2) whenever the channel runs
// empty (or 64 KiB have gathered). So a line is in the file microseconds
// after WriteLine returns, concurrent writers never interleave inside a
// line, and a burst of lines costs one system call instead of one per line. (The simpler mutex + write(2) per line was
// measured slower under parallel load; see docs/logs.md.)
//
// A log that cannot be written must not stop the load balancer: when a write
// fails (a full disk) or the file or its directory is removed, the lines are
// dropped and counted (FileOptions.Dropped), the failure is logged once, and
// the writer retries on every later batch, reopening the path (and recreating
// its directory) when it no longer names the open file. See file_failure.go.
type File struct {
	path string
	opts FileOptions
	f    logFile // owned by the writer goroutine until done is closed
	ch   chan fileOp
	done chan struct{}
	pool sync.Pool // *[]byte line buffers

	mu     sync.RWMutex // read-held while sending on ch, write-held to close it
	closed bool

	errMu sync.Mutex
	err   error // the current write failure, nil once writing works again

	health   fileHealth    // the writer goroutine's view of the failure
	dropped  atomic.Uint64 // lines dropped since OpenFile
	checkNow atomic.Bool   // check the path on the next write (tests)
}

// fileOp is a line to write, or a Sync marker.
type fileOp struct {
	line   *[]byte
	synced chan struct{} // closed once every earlier line is written
}

// fileBatch is the most the writer gathers before writing.
const fileBatch = 64 << 10

// OpenFile opens path for appending, creating it (mode 0644) and its parent
// directories (0755) when missing. Failures are logged with slog.Default.
func OpenFile(path string) (*File, error) { return OpenFileOptions(path, FileOptions{}) }

// OpenFileOptions is OpenFile with a logger and a count of dropped lines.
func OpenFileOptions(path string, opts FileOptions) (*File, error) {
	f, err := openAppend(path)
	if err != nil {
		return nil, err
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.CheckInterval <= 0 {
		opts.CheckInterval = DefaultCheckInterval
	}
	w := &File{path: path, opts: opts, f: f, ch: make(chan fileOp, 4096), done: make(chan struct{})}
	w.health.lastCheck = time.Now()
	w.pool.New = func() any { b := make([]byte, 0, 512); return &b }
	go w.run()
	return w, nil
}

func openAppend(path string) (*os.File, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("create log directory for %s: %w (check the path in logs.*.file)", path, err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open log file %s: %w (check the path in logs.*.file)", path, err)
	}
	return f, nil
}

// Name returns the file's path.
func (w *File) Name() string { return w.path }

// WriteLine queues line and a newline for writing. It blocks only when 4096
// lines are already waiting. It fails only once the file is closed: a line
// that cannot be written later is dropped and counted, not returned as an
// error, so that callers keep serving.
func (w *File) WriteLine(line []byte) error {
	w.mu.RLock()
	defer w.mu.RUnlock()
	if w.closed {
		return fmt.Errorf("write log line to %s: %w", w.path, fs.ErrClosed)
	}
	bp := w.pool.Get().(*[]byte)
	*bp = append((*bp)[:0], line...)
	if len(*bp) == 0 || (*bp)[len(*bp)-1] != '\n' {
		*bp = append(*bp, '\n')
	}
	w.ch <- fileOp{line: bp}
	return nil
}

// Sync returns once every line written before the call is in the file (or
// dropped), for readers that must see a line right away (tests, the
// conformance harness). Its error is the current write failure, if any.
func (w *File) Sync() error {
	w.mu.RLock()
	if w.closed {
		w.mu.RUnlock()
		return w.writeErr()
	}
	synced := make(chan struct{})
	w.ch <- fileOp{synced: synced}
	w.mu.RUnlock()
	<-synced
	return w.writeErr()
}

// Close writes the queued lines and closes the file. Later writes fail with
// fs.ErrClosed; a second Close does nothing.
func (w *File) Close() error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return nil
	}
	w.closed = true
	close(w.ch)
	w.mu.Unlock()
	<-w.done
	if w.f != nil {
		if err := w.f.Close(); err != nil {
			return errors.Join(w.writeErr(), fmt.Errorf("close log file %s: %w", w.path, err))
		}
	}
	return w.writeErr()
}

// run is the writer goroutine: it gathers whole lines and writes them when
// no more are waiting, when the batch is full, or when Sync asks.
func (w *File) run() {
	defer close(w.done)
	batch := make([]byte, 0, fileBatch)
	for op := range w.ch {
		if op.line != nil {
			batch = append(batch, *op.line...)
			w.pool.Put(op.line)
		}
		if op.synced != nil || len(w.ch) == 0 || len(batch) >= fileBatch {
			batch = w.write(batch)
		}
		if op.synced != nil {
			close(op.synced)
		}
	}
	w.write(batch)
}

func (w *File) writeErr() error {
	w.errMu.Lock()
	defer w.errMu.Unlock()
	return w.err
}

func (w *File) setErr(err error) {
	w.errMu.Lock()
	w.err = err
	w.errMu.Unlock()
}

// Syncer is a Sink that can wait until every line written so far is stored,
// like File. A reader that checks a log right after causing a line (tests,
// the conformance harness) calls Sync first.
type Syncer interface {
	Sync() error
}

// Fanout returns a Sink that writes every line to each of sinks, so one log
// can go to a file and to the S3 layout at once. Nil sinks are skipped; with
// one sink left, that sink is returned itself. The result of two or more is
// a Syncer.
func Fanout(sinks ...Sink) Sink {
	var out fanout
	for _, s := range sinks {
		if s != nil {
			out = append(out, s)
		}
	}
	if len(out) == 1 {
		return out[0]
	}
	return out
}

type fanout []Sink

// WriteLine writes to every sink, even after one fails, and joins the errors.
func (f fanout) WriteLine(line []byte) error {
	var errs []error
	for _, s := range f {
		if err := s.WriteLine(line); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Sync syncs every sink that is a Syncer and joins the errors.
func (f fanout) Sync() error {
	var errs []error
	for _, s := range f {
		if sy, ok := s.(Syncer); ok {
			if err := sy.Sync(); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// Close closes every sink and joins the errors.
func (f fanout) Close() error {
	var errs []error
	for _, s := range f {
		if err := s.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
