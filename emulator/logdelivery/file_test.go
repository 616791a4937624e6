package logdelivery

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFileConcurrentWritersWriteWholeLines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nested", "dir", "conn.log")
	w, err := OpenFile(path)
	require.NoError(t, err)

	const writers, perWriter = 8, 500
	var wg sync.WaitGroup
	for g := range writers {
		wg.Go(func() {
			buf := make([]byte, 0, 4096)
			for i := range perWriter {
				// Lines of varying length, some with their newline, some without,
				// formatted into a reused buffer as the proxy does.
				buf = fmt.Appendf(buf[:0], "writer=%d seq=%d pad=%s end", g, i, strings.Repeat("x", (g*131+i*17)%1500))
				if i%2 == 0 {
					buf = append(buf, '\n')
				}
				require.NoError(t, w.WriteLine(buf))
			}
		})
	}
	wg.Wait()
	require.NoError(t, w.Close())

	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	re := regexp.MustCompile(`^writer=(\d) seq=(\d+) pad=x* end$`)
	seen := map[string]bool{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64*1024), 64*1024)
	for sc.Scan() {
		m := re.FindStringSubmatch(sc.Text())
		require.NotNil(t, m, "torn or merged line: %q", sc.Text())
		key := m[1] + "/" + m[2]
		assert.False(t, seen[key], "duplicate line %s", key)
		seen[key] = true
	}
	require.NoError(t, sc.Err())
	assert.Len(t, seen, writers*perWriter)
}

func TestFileLinesReachTheFilePromptly(t *testing.T) {
	// tail -f users see each line without waiting for a flush interval or Close.
	path := filepath.Join(t.TempDir(), "access.log")
	w, err := OpenFile(path)
	require.NoError(t, err)
	defer w.Close()
	assert.Equal(t, path, w.Name())

	require.NoError(t, w.WriteLine([]byte("first")))
	require.Eventually(t, func() bool {
		got, err := os.ReadFile(path)
		return err == nil && string(got) == "first\n"
	}, 10*time.Second, time.Millisecond, "the writer goroutine writes as soon as the queue is empty")

	// Sync waits until every earlier line is in the file.
	for i := range 100 {
		require.NoError(t, w.WriteLine(fmt.Appendf(nil, "line %d", i)))
	}
	require.NoError(t, w.Sync())
	got, err := os.ReadFile(path)
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSuffix(string(got), "\n"), "\n")
	require.Len(t, lines, 101)
	assert.Equal(t, "line 99", lines[100])
}

func TestFileAppendsAndCloses(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.log")
	require.NoError(t, os.WriteFile(path, []byte("old\n"), 0o644))
	w, err := OpenFile(path)
	require.NoError(t, err)
	require.NoError(t, w.WriteLine([]byte("new")))
	require.NoError(t, w.Close())
	require.NoError(t, w.Close(), "second Close is a no-op")
	err = w.WriteLine([]byte("late"))
	require.ErrorIs(t, err, fs.ErrClosed)
	require.NoError(t, w.Sync(), "Sync after Close has nothing to wait for")
	got, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, "old\nnew\n", string(got))
}

func TestOpenFileErrors(t *testing.T) {
	dir := t.TempDir()
	blocker := filepath.Join(dir, "file")
	require.NoError(t, os.WriteFile(blocker, nil, 0o644))
	_, err := OpenFile(filepath.Join(blocker, "sub", "x.log"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "logs.*.file")
	_, err = OpenFile(dir) // a directory, not a file
	require.Error(t, err)
}

// failingSink fails every write, to show that Fanout still feeds the others.
type failingSink struct{ closed bool }

func (f *failingSink) WriteLine([]byte) error { return errors.New("disk full") }
func (f *failingSink) Close() error           { f.closed = true; return errors.New("close failed") }

func TestFanout(t *testing.T) {
	dir := t.TempDir()
	a, err := OpenFile(filepath.Join(dir, "a.log"))
	require.NoError(t, err)
	b, err := OpenFile(filepath.Join(dir, "b.log"))
	require.NoError(t, err)
	bad := &failingSink{}

	assert.Same(t, a, Fanout(nil, a, nil), "one sink is returned itself")

	s := Fanout(a, bad, b)
	err = s.WriteLine([]byte("line"))
	require.ErrorContains(t, err, "disk full")
	require.NoError(t, s.(Syncer).Sync())
	for _, name := range []string{"a.log", "b.log"} {
		got, err := os.ReadFile(filepath.Join(dir, name))
		require.NoError(t, err)
		assert.Equal(t, "line\n", string(got), "visible after Sync, before Close")
	}
	err = s.Close()
	require.ErrorContains(t, err, "close failed")
	assert.True(t, bad.closed)
	for _, name := range []string{"a.log", "b.log"} {
		got, err := os.ReadFile(filepath.Join(dir, name))
		require.NoError(t, err)
		assert.Equal(t, "line\n", string(got))
	}
	require.ErrorIs(t, a.WriteLine([]byte("x")), fs.ErrClosed)
}

func TestFileReportsWriteErrors(t *testing.T) {
	// /dev/full fails every write with ENOSPC, as a full disk would.
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Fatalf("this test needs /dev/full: %v", err)
	}
	w, err := OpenFile("/dev/full")
	require.NoError(t, err)
	require.NoError(t, w.WriteLine([]byte("queued")), "the write happens later, in the writer goroutine")
	err = w.Sync()
	require.ErrorContains(t, err, "no space left on device")
	require.NoError(t, w.WriteLine([]byte("next")), "the error is not sticky: the caller keeps serving")
	require.ErrorContains(t, w.Close(), "no space left on device", "Close reports a failure still going on")
	assert.EqualValues(t, 2, w.Dropped())
}
