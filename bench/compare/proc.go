package compare

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// proc is one server process of the comparison (a proxy, the backend or
// the ceiling). It runs in its own process group so that stopping it also
// stops the workers it forked (nginx), and it dies with the driver.
type proc struct {
	name string
	cmd  *exec.Cmd
	log  string // file holding its stdout and stderr
	done chan struct{}
	err  error // Wait's result, once done is closed
}

// procs tracks every process started, so that each one is stopped at the
// end whatever happened in between.
type procs struct {
	mu   sync.Mutex
	list []*proc
}

// start runs exe with args, output to logFile.
func (ps *procs) start(name, logFile, exe string, args ...string) (*proc, error) {
	out, err := os.Create(logFile)
	if err != nil {
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	defer out.Close() // the child keeps its own descriptor
	cmd := exec.Command(exe, args...)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = procAttr()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s (%s): %w", name, exe, err)
	}
	p := &proc{name: name, cmd: cmd, log: logFile, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	ps.mu.Lock()
	ps.list = append(ps.list, p)
	ps.mu.Unlock()
	return p, nil
}

// pid is the process's id, which is also its process group's.
func (p *proc) pid() int { return p.cmd.Process.Pid }

// stop ends the process group: SIGTERM, then SIGKILL after a grace period.
func (p *proc) stop() {
	pid := p.cmd.Process.Pid
	select {
	case <-p.done:
		killGroup(pid, syscall.SIGKILL) // leftovers (nginx workers) of an exited leader
		return
	default:
	}
	killGroup(pid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
	}
	killGroup(pid, syscall.SIGKILL)
	<-p.done
}

// stopAll stops every process still running, most recent first.
func (ps *procs) stopAll() {
	ps.mu.Lock()
	list := ps.list
	ps.list = nil
	ps.mu.Unlock()
	for i := len(list) - 1; i >= 0; i-- {
		list[i].stop()
	}
}

// remove forgets a process already stopped.
func (ps *procs) stopOne(p *proc) {
	p.stop()
	ps.mu.Lock()
	defer ps.mu.Unlock()
	for i, q := range ps.list {
		if q == p {
			ps.list = append(ps.list[:i], ps.list[i+1:]...)
			break
		}
	}
}

// waitListening polls addr until it accepts a TCP connection, the process
// exits (the error carries the end of its log) or the timeout passes.
func (p *proc) waitListening(ctx context.Context, addr string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		select {
		case <-p.done:
			return fmt.Errorf("%s exited before listening on %s (%v); its log %s ends with:\n%s", p.name, addr, p.err, p.log, tail(p.log, 15))
		case <-ctx.Done():
			return fmt.Errorf("%s did not listen on %s within %s; its log %s ends with:\n%s", p.name, addr, timeout, p.log, tail(p.log, 15))
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// tail returns the last n lines of a file, indented.
func tail(file string, n int) string {
	b, err := os.ReadFile(file)
	if err != nil {
		return "    (" + err.Error() + ")"
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return "    " + strings.Join(lines, "\n    ")
}

// output runs a short command (a version query) and returns its combined
// output's first line.
func output(exe string, args ...string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, exe, args...).CombinedOutput()
	line, _, _ := bytes.Cut(bytes.TrimSpace(out), []byte("\n"))
	if err != nil && len(line) == 0 {
		return "unknown (" + err.Error() + ")"
	}
	return string(line)
}

// freePort asks the kernel for a free loopback port.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("finding a free port on 127.0.0.1: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

var errNotFound = errors.New("not found")

// lookPath finds a program on PATH, then in the sbin directories where
// Debian installs nginx and HAProxy (not on a normal user's PATH).
func lookPath(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, dir := range []string{"/usr/sbin", "/usr/local/sbin", "/sbin"} {
		p := dir + "/" + name
		if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s: %w on PATH or in /usr/sbin", name, errNotFound)
}
