package compare

import "syscall"

// procAttr puts the child in its own process group (so the whole group can
// be signalled, nginx's workers included) and has the kernel kill it if the
// driver dies without cleaning up.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

func killGroup(pid int, sig syscall.Signal) { _ = syscall.Kill(-pid, sig) }
