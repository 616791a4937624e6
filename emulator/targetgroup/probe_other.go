//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package targetgroup

import "syscall"

// probe cannot peek at a socket on this platform; with probeSupported
// false no connection is pooled, so clean is never called.
type probe struct{}

func newProbe(syscall.RawConn) *probe { return &probe{} }

func (*probe) clean() bool { return false }

// probeSupported says whether probes work on this platform.
const probeSupported = false
