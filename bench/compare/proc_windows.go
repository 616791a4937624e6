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
type cpuSnapshot struct{}

func takeCPU() cpuSnapshot { return cpuSnapshot{} }

func otherShare(a, b cpuSnapshot) float64 { return -1 }
