package listener

import (
	"errors"
	"net"
	"os"
	"testing"
	"time"
)

// The calls net/http makes for a connection's first request, on a pipe:
// header deadline, reads, then a zero deadline once the headers are read.
func TestFirstRequestConn(t *testing.T) {
	read := func(fc *firstRequestConn) error {
		done := make(chan error, 1)
		go func() { _, err := fc.Read(make([]byte, 1)); done <- err }()
		select {
		case err := <-done:
			return err
		case <-time.After(20 * time.Second):
			t.Fatal("read still blocked after 20s: no deadline applied")
			return nil
		}
	}
	t.Run("silent connection times out at the idle timeout", func(t *testing.T) {
		a, b := net.Pipe()
		defer a.Close()
		defer b.Close()
		fc := &firstRequestConn{Conn: a}
		fc.arm(100 * time.Millisecond)
		_ = fc.SetReadDeadline(time.Now().Add(time.Hour)) // ReadHeaderTimeout
		if err := read(fc); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("read: %v, want a deadline error", err)
		}
	})
	t.Run("headers time out from their first byte", func(t *testing.T) {
		a, b := net.Pipe()
		defer a.Close()
		defer b.Close()
		fc := &firstRequestConn{Conn: a}
		fc.arm(time.Hour)
		_ = fc.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		go b.Write([]byte("G"))
		if err := read(fc); err != nil {
			t.Fatalf("first byte: %v", err)
		}
		if err := read(fc); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("trickled headers: %v, want a deadline error", err)
		}
	})
	// The handshake's bytes come through this conn before arm: they must
	// not count as the first request's.
	t.Run("bytes before arm leave the wait armed", func(t *testing.T) {
		a, b := net.Pipe()
		defer a.Close()
		defer b.Close()
		fc := &firstRequestConn{Conn: a}
		go b.Write([]byte("handshake"))
		if _, err := fc.Read(make([]byte, 9)); err != nil {
			t.Fatalf("handshake bytes: %v", err)
		}
		fc.arm(100 * time.Millisecond)
		_ = fc.SetReadDeadline(time.Now().Add(time.Hour))
		if err := read(fc); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("read: %v, want a deadline error at the idle timeout", err)
		}
	})
	t.Run("once disarmed, deadlines are as asked", func(t *testing.T) {
		a, b := net.Pipe()
		defer a.Close()
		defer b.Close()
		fc := &firstRequestConn{Conn: a}
		fc.arm(time.Hour)
		go b.Write([]byte("G"))
		if err := read(fc); err != nil {
			t.Fatalf("first byte: %v", err)
		}
		_ = fc.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		if err := read(fc); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("read: %v, want the asked deadline's error", err)
		}
	})
	// The TLS stack can hold the whole request, read along with the
	// client's Finished: no read reaches this conn, and Activated (the
	// server has the headers) must end the idle wait, or the background
	// read of a request in progress times out.
	t.Run("headers buffered above: Activated hands the deadline back", func(t *testing.T) {
		a, b := net.Pipe()
		defer a.Close()
		defer b.Close()
		fc := &firstRequestConn{Conn: a}
		fc.arm(100 * time.Millisecond)
		_ = fc.SetReadDeadline(time.Now().Add(time.Hour))
		_ = fc.SetReadDeadline(time.Time{})
		fc.disarm() // Listener.Activated
		go func() { time.Sleep(300 * time.Millisecond); b.Write([]byte("x")) }()
		if err := read(fc); err != nil {
			t.Fatalf("read after the headers: %v, want the byte", err)
		}
	})
}
