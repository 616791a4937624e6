//go:build unix && !linux

package compare

import (
	"os"
	"syscall"
)

func procAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }

func killGroup(pid int, sig syscall.Signal) {
	if err := syscall.Kill(-pid, sig); err != nil {
		if p, err := os.FindProcess(pid); err == nil {
			_ = p.Signal(sig)
		}
	}
}

// cpuSnapshot is only measured on Linux.
type cpuSnapshot struct {
	self float64
	ok   bool
}

func (cpuSnapshot) idle() float64 { return 0 }

func takeCPU() cpuSnapshot { return cpuSnapshot{} }

func otherShare(a, b cpuSnapshot) float64 { return -1 }

// groupCPU is only measured on Linux.
func groupCPU(int) (float64, bool) { return 0, false }
