//go:build unix

package logdelivery

import (
	"os"
	"syscall"
)

// removed reports whether an open file has no name left (its link count is 0).
func removed(fi os.FileInfo) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && st.Nlink == 0
}
