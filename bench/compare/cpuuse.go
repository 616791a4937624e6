package compare

import "time"

// CPUUse is where the machine's CPU time went during a run: the server's
// processes (nginx's workers included), the backend's, the load generator
// (this process) and what no one used. On a machine whose CPUs the three
// share, a server's rate is set by the sum of the first three per request,
// so its own share is only part of the story: a server that costs the
// backend more per request (more header bytes to parse) or leaves CPUs
// idle (waiting on wake-ups) is slower than its own CPU time says. OK is
// false when it was not measured (not Linux).
type CPUUse struct {
	Server, Backend, LoadGen, Idle time.Duration
	OK                             bool
}

func (u CPUUse) add(v CPUUse) CPUUse {
	return CPUUse{Server: u.Server + v.Server, Backend: u.Backend + v.Backend, LoadGen: u.LoadGen + v.LoadGen,
		Idle: u.Idle + v.Idle, OK: u.OK && v.OK}
}

// usageSnapshot is the CPU time used so far by the server, the backend,
// this process, and the machine's idle time, in seconds.
type usageSnapshot struct {
	server, backend float64
	cpu             cpuSnapshot
	ok              bool
}

// usage takes a snapshot for a run on in.
func (d *driver) usage(in *instance) usageSnapshot {
	srv, ok1 := groupCPU(in.proc.pid())
	be, ok2 := groupCPU(d.backend.pid())
	c := takeCPU()
	return usageSnapshot{server: srv, backend: be, cpu: c, ok: ok1 && ok2 && c.ok}
}

// since is the use between a and u.
func (u usageSnapshot) since(a usageSnapshot) CPUUse {
	if !u.ok || !a.ok {
		return CPUUse{}
	}
	d := func(secs float64) time.Duration { return time.Duration(max(secs, 0) * float64(time.Second)) }
	return CPUUse{Server: d(u.server - a.server), Backend: d(u.backend - a.backend), LoadGen: d(u.cpu.self - a.cpu.self),
		Idle: d(u.cpu.idle() - a.cpu.idle()), OK: true}
}
