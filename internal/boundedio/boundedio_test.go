package boundedio

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, n int) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(strings.Repeat("x", n)), 0o644))
		return p
	}
	sparse := filepath.Join(dir, "sparse")
	f, err := os.Create(sparse)
	require.NoError(t, err)
	require.NoError(t, f.Truncate(8<<30)) // 8 GiB, no blocks allocated
	require.NoError(t, f.Close())

	for _, tc := range []struct {
		name, file string
		limit      int64
		wantLen    int
		wantErr    string
	}{
		{"under the limit", write("small", 10), 100, 10, ""},
		{"at the limit", write("exact", 100), 100, 100, ""},
		{"empty", write("empty", 0), 100, 0, ""},
		{"one byte over", write("over", 101), 100, 0, "is 101 bytes (101 B), over the test file limit of 100 bytes (100 B)"},
		{"sparse 8 GiB", sparse, 50 << 20, 0, "is 8589934592 bytes (8.0 GiB), over the test file limit of 52428800 bytes (50.0 MiB)"},
		{"/dev/zero", "/dev/zero", 1 << 20, 0, "test file /dev/zero is not a regular file and yields more than the test file limit of 1048576 bytes (1.0 MiB)"},
		{"directory", dir, 100, 0, "is a directory"},
		{"missing", filepath.Join(dir, "nope"), 100, 0, "no such file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data, err := ReadFile(tc.file, "test file", tc.limit)
			if tc.wantErr == "" {
				require.NoError(t, err)
				assert.Len(t, data, tc.wantLen)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.wantErr)
			assert.Contains(t, err.Error(), tc.file)
		})
	}
}

// TestReadFileFIFO: a FIFO is read as a stream, within the limit.
func TestReadFileFIFO(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "fifo")
	require.NoError(t, syscall.Mkfifo(fifo, 0o600))
	go func() {
		w, err := os.OpenFile(fifo, os.O_WRONLY, 0)
		if err != nil {
			return
		}
		defer w.Close()
		_, _ = w.Write([]byte(strings.Repeat("y", 4096)))
	}()
	_, err := ReadFile(fifo, "bundle", 1000)
	require.Error(t, err)
	assert.True(t, errors.Is(err, ErrTooLarge))
	var tl *TooLargeError
	require.ErrorAs(t, err, &tl)
	assert.Equal(t, int64(-1), tl.Size)
}
