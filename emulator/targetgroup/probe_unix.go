//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package targetgroup

import (
	"errors"
	"syscall"
)

// probe checks whether a pooled connection is still quiet and open: a
// non-blocking MSG_PEEK read finds nothing to read (EAGAIN). Any byte
// (unsolicited data from the target), end of file (the target half-closed)
// or an error (reset) means the connection must not carry another request.
// The peek consumes nothing and costs one system call; net/http's
// Transport gets the same answer from the read it keeps pending on every
// idle connection. A probe is made once per connection and reused, so a
// check allocates nothing.
type probe struct {
	rc  syscall.RawConn
	fn  func(fd uintptr) bool
	err error
	buf [1]byte
}

func newProbe(rc syscall.RawConn) *probe {
	p := &probe{rc: rc}
	p.fn = func(fd uintptr) bool {
		// n > 0: data; n == 0 with no error: EOF; both leave err nil.
		_, _, p.err = syscall.Recvfrom(int(fd), p.buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		return true // never wait for readability: this is a probe
	}
	return p
}

// clean reports whether the connection may be reused.
func (p *probe) clean() bool {
	p.err = nil
	if err := p.rc.Read(p.fn); err != nil {
		return false
	}
	return errors.Is(p.err, syscall.EAGAIN) || errors.Is(p.err, syscall.EWOULDBLOCK)
}

// probeSupported says whether probes work on this platform.
const probeSupported = true
