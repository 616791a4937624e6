package compare

import (
	"os"
	"syscall"
)

// The comparison targets Linux (Debian's nginx and HAProxy); on Windows the
// processes are only killed one by one.
func procAttr() *syscall.SysProcAttr { return nil }

func killGroup(pid int, _ syscall.Signal) {
	if p, err := os.FindProcess(pid); err == nil {
		_ = p.Kill()
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
