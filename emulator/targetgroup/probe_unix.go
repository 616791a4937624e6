//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package targetgroup

import (
	"errors"
	"syscall"
)

// idleClean reports whether a pooled connection is still quiet and open:
// a non-blocking MSG_PEEK read finds nothing to read (EAGAIN). Any byte
// (unsolicited data from the target), end of file (the target half-closed)
// or an error (reset) means the connection must not carry another request.
// The peek consumes nothing and costs one system call; net/http's
// Transport gets the same answer from the read it keeps pending on every
// idle connection.
func idleClean(rc syscall.RawConn) bool {
	var (
		perr error
		buf  [1]byte
	)
	err := rc.Read(func(fd uintptr) bool {
		// n > 0: data; n == 0 with no error: EOF; both leave perr nil.
		_, _, perr = syscall.Recvfrom(int(fd), buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		return true // never wait for readability: this is a probe
	})
	return err == nil && (errors.Is(perr, syscall.EAGAIN) || errors.Is(perr, syscall.EWOULDBLOCK))
}

// probeSupported says whether idleClean works on this platform.
const probeSupported = true
