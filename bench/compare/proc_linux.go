package compare

import (
	"os"
	"strconv"
	"strings"
	"syscall"
)

// procAttr puts the child in its own process group (so the whole group can
// be signalled, nginx's workers included) and has the kernel kill it if the
// driver dies without cleaning up.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

func killGroup(pid int, sig syscall.Signal) { _ = syscall.Kill(-pid, sig) }

// cpuSnapshot is the machine's busy and total CPU time (/proc/stat) and
// the CPU time of this process and its reaped children (getrusage), so
// that the share of the machine used by other processes during a run can
// be reported.
type cpuSnapshot struct {
	busy, total, own float64 // seconds
	self             float64 // this process alone (the load generator)
	ok               bool
}

func takeCPU() cpuSnapshot {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return cpuSnapshot{}
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 8 || f[0] != "cpu" {
		return cpuSnapshot{}
	}
	var s cpuSnapshot
	for i, v := range f[1:] {
		n, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return cpuSnapshot{}
		}
		n /= 100 // USER_HZ is 100 on Linux
		s.total += n
		if i != 3 && i != 4 { // idle, iowait
			s.busy += n
		}
	}
	for _, who := range []int{syscall.RUSAGE_SELF, syscall.RUSAGE_CHILDREN} {
		var ru syscall.Rusage
		if syscall.Getrusage(who, &ru) == nil {
			s.own += tv(ru.Utime) + tv(ru.Stime)
			if who == syscall.RUSAGE_SELF {
				s.self = tv(ru.Utime) + tv(ru.Stime)
			}
		}
	}
	s.ok = true
	return s
}

func tv(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }

// otherShare is the share of all CPUs that processes other than this one
// and its children used between a and b, or -1 if unknown.
func otherShare(a, b cpuSnapshot) float64 {
	if !a.ok || !b.ok || b.total <= a.total {
		return -1
	}
	other := (b.busy - a.busy) - (b.own - a.own)
	return max(other, 0) / (b.total - a.total)
}

// groupCPU is the CPU time (user + system, seconds) used so far by the live
// processes of process group pgid: a server and the workers it forked
// (nginx's). ok is false when /proc cannot be read.
func groupCPU(pgid int) (secs float64, ok bool) {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return 0, false
	}
	for _, e := range ents {
		if e.Name()[0] < '0' || e.Name()[0] > '9' {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue // gone meanwhile
		}
		if g, cpu, ok := parseStat(string(b)); ok && g == pgid {
			secs += cpu
		}
	}
	return secs, true
}

// parseStat reads the process group and the user + system CPU seconds
// from a /proc/PID/stat line (proc(5)); the command name, in parentheses,
// may hold spaces and parentheses itself.
func parseStat(line string) (pgrp int, cpu float64, ok bool) {
	i := strings.LastIndexByte(line, ')')
	if i < 0 {
		return 0, 0, false
	}
	f := strings.Fields(line[i+1:]) // from field 3 (state) on
	if len(f) < 13 {
		return 0, 0, false
	}
	g, err1 := strconv.Atoi(f[2])             // field 5
	ut, err2 := strconv.ParseFloat(f[11], 64) // field 14
	st, err3 := strconv.ParseFloat(f[12], 64) // field 15
	if err1 != nil || err2 != nil || err3 != nil {
		return 0, 0, false
	}
	return g, (ut + st) / 100, true // USER_HZ is 100 on Linux
}

// idle is the machine's idle CPU time (over all CPUs) so far, seconds.
func (s cpuSnapshot) idle() float64 { return s.total - s.busy }
