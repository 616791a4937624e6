package soak

import (
	"fmt"
	"os"
	"syscall"
	"unsafe"
)

// rss returns a process's resident set size (VmRSS).
func rss(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	return vmRSS(string(b))
}

// openFiles counts a process's open descriptors.
func openFiles(pid int) int {
	es, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return -1
	}
	return len(es)
}

// raiseNoFile raises this process's RLIMIT_NOFILE to want (soft and hard
// when allowed, else the soft limit up to the hard one) and returns the
// soft limit in force. Children started later inherit it.
func raiseNoFile(want uint64) (uint64, error) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, err
	}
	if lim.Cur >= want {
		return lim.Cur, nil
	}
	next := syscall.Rlimit{Cur: want, Max: max(want, lim.Max)}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &next); err != nil {
		next = syscall.Rlimit{Cur: min(want, lim.Max), Max: lim.Max}
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &next); err != nil {
			return lim.Cur, err
		}
	}
	return next.Cur, nil
}

// setNoFile sets another process's RLIMIT_NOFILE (soft and hard) with
// prlimit(2). The Go runtime raises its soft limit to the hard one at start,
// so both are set.
func setNoFile(pid int, n uint64) error {
	lim := syscall.Rlimit{Cur: n, Max: n}
	_, _, errno := syscall.RawSyscall6(syscall.SYS_PRLIMIT64, uintptr(pid), uintptr(syscall.RLIMIT_NOFILE),
		uintptr(unsafe.Pointer(&lim)), 0, 0, 0)
	if errno != 0 {
		return errno
	}
	return nil
}

// mountTmpfs mounts a tmpfs of size bytes on dir (needs CAP_SYS_ADMIN), so
// that writing to it fails with ENOSPC once it is full.
func mountTmpfs(dir string, size int) (unmount func(), err error) {
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, fmt.Sprintf("size=%d,mode=0755", size)); err != nil {
		return nil, err
	}
	return func() { _ = syscall.Unmount(dir, syscall.MNT_DETACH) }, nil
}
