package logdelivery

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fullDisk returns a path that is a symlink to /dev/full, where every write
// fails with ENOSPC as on a full disk, and a function that turns it into a
// regular file, as when space is freed and the log is recreated.
func fullDisk(t *testing.T) (path string, free func()) {
	t.Helper()
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Fatalf("this test needs /dev/full: %v", err)
	}
	path = filepath.Join(t.TempDir(), "logs", "access.log")
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.Symlink("/dev/full", path))
	return path, func() {
		require.NoError(t, os.Remove(path))
		require.NoError(t, os.WriteFile(path, nil, 0o644))
	}
}

func TestFileKeepsAcceptingLinesWhileTheDiskIsFullAndRecovers(t *testing.T) {
	path, free := fullDisk(t)
	w, err := OpenFile(path)
	require.NoError(t, err)
	defer w.Close()

	require.NoError(t, w.WriteLine([]byte("lost 1")))
	require.ErrorContains(t, w.Sync(), "no space left on device", "Sync reports the current failure")
	require.NoError(t, w.WriteLine([]byte("lost 2")), "a failed write is not sticky: serving goes on")
	require.Error(t, w.Sync())

	free()
	// The writer notices that the path now names another file and reopens it.
	require.Eventually(t, func() bool {
		_ = w.WriteLine([]byte("kept"))
		return w.Sync() == nil
	}, 10*time.Second, 10*time.Millisecond, "writing recovers once the disk has room again")
	got, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.NotContains(t, string(got), "lost")
	assert.True(t, strings.HasPrefix(string(got), "kept\n"), "%q", got)
}

func TestFileRecreatesAVanishedLogDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "logs")
	path := filepath.Join(dir, "conn.log")
	w, err := OpenFile(path)
	require.NoError(t, err)
	defer w.Close()
	require.NoError(t, w.WriteLine([]byte("before")))
	require.NoError(t, w.Sync())

	require.NoError(t, os.RemoveAll(dir))
	require.Eventually(t, func() bool {
		require.NoError(t, w.WriteLine([]byte("after")))
		require.NoError(t, w.Sync())
		got, err := os.ReadFile(path)
		return err == nil && strings.HasPrefix(string(got), "after\n")
	}, 15*time.Second, 50*time.Millisecond, "the directory and file are recreated on a later write")
}

// recordHandler keeps every slog record, to count the error lines.
type recordHandler struct {
	mu   sync.Mutex
	recs []slog.Record
}

func (h *recordHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *recordHandler) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.recs = append(h.recs, r.Clone())
	return nil
}
func (h *recordHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *recordHandler) WithGroup(string) slog.Handler      { return h }

func (h *recordHandler) count(level slog.Level) (n int, text string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	var b bytes.Buffer
	for _, r := range h.recs {
		if r.Level == level {
			n++
			b.WriteString(r.Message)
			r.Attrs(func(a slog.Attr) bool { fmt.Fprintf(&b, " %s=%v", a.Key, a.Value); return true })
			b.WriteByte('\n')
		}
	}
	return n, b.String()
}

func TestFileLogsTheFailureOnceAndCountsDroppedLines(t *testing.T) {
	path, free := fullDisk(t)
	h := &recordHandler{}
	var dropped atomic.Int64
	w, err := OpenFileOptions(path, FileOptions{
		Logger:  slog.New(h),
		Dropped: func(n int) { dropped.Add(int64(n)) },
	})
	require.NoError(t, err)
	defer w.Close()

	for i := range 50 {
		require.NoError(t, w.WriteLine(fmt.Appendf(nil, "line %d", i)))
		if i%5 == 0 {
			_ = w.Sync() // several failed write(2) calls, not one batch
		}
	}
	_ = w.Sync()
	assert.EqualValues(t, 50, dropped.Load(), "every line that could not be written is counted")
	assert.EqualValues(t, 50, w.Dropped())
	n, text := h.count(slog.LevelError)
	assert.Equal(t, 1, n, "one error for the whole outage, not one per line:\n%s", text)
	assert.Contains(t, text, path)
	assert.Contains(t, text, "no space left on device")
	assert.Contains(t, text, "albmtls_log_lines_dropped_total")

	free()
	require.Eventually(t, func() bool {
		_ = w.WriteLine([]byte("kept"))
		return w.Sync() == nil
	}, 10*time.Second, 10*time.Millisecond)
	n, text = h.count(slog.LevelInfo)
	assert.Equal(t, 1, n, "one line when writing works again:\n%s", text)
	assert.Contains(t, text, "dropped=50")
}

func TestFileCountsLinesWrittenToARemovedFile(t *testing.T) {
	// Lines written between the removal and the writer's next check of the
	// path went to a file nobody can read any more: they are counted.
	dir := filepath.Join(t.TempDir(), "logs")
	path := filepath.Join(dir, "conn.log")
	var dropped atomic.Int64
	h := &recordHandler{}
	w, err := OpenFileOptions(path, FileOptions{
		Logger:        slog.New(h),
		Dropped:       func(n int) { dropped.Add(int64(n)) },
		CheckInterval: time.Hour, // checked only when the test says so
	})
	require.NoError(t, err)
	defer w.Close()
	require.NoError(t, os.RemoveAll(dir))
	for range 3 {
		require.NoError(t, w.WriteLine([]byte("into the void")))
	}
	require.NoError(t, w.Sync())
	w.checkNow.Store(true)
	require.NoError(t, w.WriteLine([]byte("kept")))
	require.NoError(t, w.Sync())
	got, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, "kept\n", string(got))
	assert.EqualValues(t, 3, dropped.Load())
	n, text := h.count(slog.LevelError)
	assert.Equal(t, 1, n, text)
	assert.Contains(t, text, "removed")
}

func TestFileFollowsARenamedLogWithoutCountingItsLines(t *testing.T) {
	// mv access.log access.log.1 (logrotate without copytruncate): the lines
	// before the check are in the renamed file, not lost.
	path := filepath.Join(t.TempDir(), "access.log")
	var dropped atomic.Int64
	w, err := OpenFileOptions(path, FileOptions{
		Logger:        slog.New(&recordHandler{}),
		Dropped:       func(n int) { dropped.Add(int64(n)) },
		CheckInterval: time.Hour,
	})
	require.NoError(t, err)
	defer w.Close()
	require.NoError(t, os.Rename(path, path+".1"))
	require.NoError(t, w.WriteLine([]byte("old")))
	require.NoError(t, w.Sync())
	w.checkNow.Store(true)
	require.NoError(t, w.WriteLine([]byte("new")))
	require.NoError(t, w.Sync())
	old, err := os.ReadFile(path + ".1")
	require.NoError(t, err)
	cur, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, "old\n", string(old))
	assert.Equal(t, "new\n", string(cur))
	assert.Zero(t, dropped.Load())
}

// partialFile writes half of its first write and then fails with ENOSPC,
// as a disk that fills up in the middle of a batch, until healed.
type partialFile struct {
	*os.File
	calls  int
	healed bool
}

func (p *partialFile) Write(b []byte) (int, error) {
	if p.healed {
		return p.File.Write(b)
	}
	p.calls++
	if p.calls == 1 {
		n, _ := p.File.Write(b[:len(b)/2])
		return n, syscall.ENOSPC
	}
	return 0, syscall.ENOSPC
}

func TestFileCountsEachLineOnceAfterAPartialWrite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "access.log")
	var dropped atomic.Int64
	w, err := OpenFileOptions(path, FileOptions{Logger: slog.New(&recordHandler{}), Dropped: func(n int) { dropped.Add(int64(n)) }})
	require.NoError(t, err)
	defer w.Close()
	fake := &partialFile{File: w.f.(*os.File)}
	w.f = fake // before the first line: the writer goroutine reads f after receiving it
	for _, l := range []string{"aaaa", "bbbb", "cccc"} {
		require.NoError(t, w.WriteLine([]byte(l)))
		require.Error(t, w.Sync())
	}
	assert.EqualValues(t, 3, dropped.Load(), "the torn line and the two refused ones, each once")
	fake.healed = true // the writer goroutine is idle: Sync returned
	require.NoError(t, w.WriteLine([]byte("dddd")))
	require.NoError(t, w.Sync())
	got, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, "aa\ndddd\n", string(got), "the torn line is ended before the next one")
	assert.EqualValues(t, 3, dropped.Load())
}
