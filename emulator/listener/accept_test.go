package listener

import (
	"errors"
	"net"
	"os"
	"sync"
	"syscall"
	"testing"
	"time"
)

// flakyListener fails Accept with err the first n times, then accepts for
// real: what a process out of file descriptors sees until fds are freed.
type flakyListener struct {
	net.Listener
	mu    sync.Mutex
	fails int
	err   error
}

func (f *flakyListener) Accept() (net.Conn, error) {
	f.mu.Lock()
	if f.fails > 0 {
		f.fails--
		f.mu.Unlock()
		return nil, f.err
	}
	f.mu.Unlock()
	return f.Listener.Accept()
}

func (f *flakyListener) setFails(n int) {
	f.mu.Lock()
	f.fails = n
	f.mu.Unlock()
}

// acceptErr is the error net.TCPListener returns for accept(2) failing
// with errno.
func acceptErr(errno syscall.Errno) error {
	return &net.OpError{Op: "accept", Net: "tcp", Err: os.NewSyscallError("accept4", errno)}
}

// TestAcceptSurvivesResourceErrors: one EMFILE (or ENFILE, ENOBUFS,
// ENOMEM, ECONNABORTED) used to stop the accept loop for good while the
// process ran on. The listener must retry and serve again.
func TestAcceptSurvivesResourceErrors(t *testing.T) {
	for _, errno := range []syscall.Errno{syscall.EMFILE, syscall.ENFILE, syscall.ENOBUFS, syscall.ENOMEM, syscall.ECONNABORTED} {
		t.Run(errno.Error(), func(t *testing.T) {
			inner, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			fl := &flakyListener{Listener: inner, fails: 3, err: acceptErr(errno)}
			l, err := New(fl, Config{Protocol: "HTTP", OnConnection: func(*Conn) {}})
			if err != nil {
				t.Fatal(err)
			}
			defer func() { l.Close(); l.Wait() }()

			c, err := net.Dial("tcp", l.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			got := make(chan net.Conn, 1)
			go func() {
				if ac, err := l.Accept(); err == nil {
					got <- ac
				}
			}()
			select {
			case ac := <-got:
				ac.Close()
			case <-time.After(20 * time.Second):
				t.Fatalf("no connection accepted after %d transient %v errors: the accept loop stopped", 3, errno)
			}
			h := l.Health()
			if h.AcceptErrors != 3 {
				t.Errorf("AcceptErrors = %d, want 3", h.AcceptErrors)
			}
			if h.Failing || h.Stopped {
				t.Errorf("after a successful accept: %+v, want neither failing nor stopped", h)
			}
			if h.LastAcceptError == "" {
				t.Errorf("LastAcceptError is empty")
			}
		})
	}
}

// TestHealthReportsFailingAccept: while accept keeps failing, Health says so
// (the admin /healthz reports it); Close makes it Stopped.
func TestHealthReportsFailingAccept(t *testing.T) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fl := &flakyListener{Listener: inner, fails: 1 << 30, err: acceptErr(syscall.EMFILE)}
	l, err := New(fl, Config{Protocol: "HTTP", OnConnection: func(*Conn) {}})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for !l.Health().Failing {
		if time.Now().After(deadline) {
			t.Fatalf("Health never reported failing accepts: %+v", l.Health())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if h := l.Health(); h.Stopped || !errors.Is(fl.err, syscall.EMFILE) || h.LastAcceptError == "" {
		t.Errorf("while failing: %+v", h)
	}
	fl.setFails(0)
	l.Close()
	l.Wait()
	if !l.Health().Stopped {
		t.Errorf("after Close: %+v, want Stopped", l.Health())
	}
}
