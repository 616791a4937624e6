//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package targetgroup

import "syscall"

// idleClean cannot peek at a socket on this platform; with probeSupported
// false no connection is pooled, so it is never called.
func idleClean(syscall.RawConn) bool { return false }

// probeSupported says whether idleClean works on this platform.
const probeSupported = false
