// Package soak is albmtls's fault and load suite (make soak): it runs the
// real binary (`albmtls serve -c`) on loopback with a generated PKI, drives
// it into the situations that break proxies in CI — thousands of idle
// connections, slowloris clients, trust store files swapped under load,
// SIGTERM under load, file descriptor exhaustion, a target dying
// mid-response, a full or vanished log directory — and reports, per phase,
// PASS or FAIL against a stated target with the figures measured.
//
// Every phase is bounded in connections and time and stops on its own;
// every process it starts is stopped at the end. See RELIABILITY.md.
package soak

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"
)

// Config describes one run.
type Config struct {
	// Exe is the albmtls binary to run as `serve -c`.
	Exe string
	// Phases to run, by name (default all, in order); see Phases.
	Phases []string
	// IdleConns is the idle phase's target of held connections.
	IdleConns int
	// SlowConns is how many slowloris clients of each kind are opened.
	SlowConns int
	// SlowWait bounds how long the slowloris phase waits for the emulator
	// to close its clients.
	SlowWait time.Duration
	// LoadTime is how long the reload phase keeps load and swaps going.
	LoadTime time.Duration
	// Emulation is extra lines for the emulation block of every config,
	// e.g. a timeout knob added after this suite was written.
	Emulation string
	// WorkDir holds the PKI, configs and logs (default a temporary one).
	WorkDir string
	Keep    bool
	// Version names the build under test (albmtls version) in the report.
	Version string
	// Progress receives one line per step.
	Progress io.Writer
}

// Defaults of Config, chosen to keep a run under ~6 minutes on 2 CPUs.
const (
	DefaultIdleConns = 10_000
	DefaultSlowConns = 200
	DefaultSlowWait  = 20 * time.Second
	DefaultLoadTime  = 15 * time.Second
)

// Result is one phase's outcome.
type Result struct {
	Phase   string
	Target  string
	Pass    bool
	Figures []string // "name value", in order
	Err     error    // the phase could not run
	Elapsed time.Duration
}

// Verdict is PASS, FAIL or ERROR (the phase did not get to measure).
func (r Result) Verdict() string {
	switch {
	case r.Err != nil:
		return "ERROR"
	case r.Pass:
		return "PASS"
	}
	return "FAIL"
}

// Report is a whole run.
type Report struct {
	Start   time.Time
	Machine string
	Version string
	Results []Result
}

// Passed reports whether every phase passed.
func (r *Report) Passed() bool {
	for _, x := range r.Results {
		if !x.Pass || x.Err != nil {
			return false
		}
	}
	return len(r.Results) > 0
}

// phase is one step of the suite.
type phase struct {
	name, target string
	run          func(ctx context.Context, h *harness, r *Result) error
}

// Phases are the suite's steps in the order they run.
var Phases = []phase{
	{"idle", "10,000 verified mTLS connections held idle; RSS per connection reported", runIdle},
	{"slowloris", "stalled handshakes and trickled headers closed by timeouts; goroutines back to baseline", runSlowloris},
	{"reload", "trust store and CRL files swapped every 100 ms under load: 0 failed requests", runReload},
	{"sigterm", "SIGTERM under load: every answered request has an access-log line", runSigterm},
	{"fd-exhaustion", "RLIMIT_NOFILE 256, flood, release: the listener accepts again", runFDExhaustion},
	{"target-kill", "target reset mid-response: 502 or a cut body, logged as such, next request 200", runTargetKill},
	{"log-dir", "full, then vanished log directory: one clear error, serving goes on, dropped lines counted, recovery", runLogDir},
}

// PhaseNames lists the phases' names, for flags and errors.
func PhaseNames() []string {
	var n []string
	for _, p := range Phases {
		n = append(n, p.name)
	}
	return n
}

// harness is what phases share.
type harness struct {
	cfg  Config
	dir  string
	mat  *material
	seq  int
	prog io.Writer
}

func (h *harness) logf(format string, args ...any) {
	fmt.Fprintf(h.prog, "soak: "+format+"\n", args...)
}

// phaseDir returns a fresh directory for one emulator.
func (h *harness) phaseDir(name string) (string, error) {
	h.seq++
	d := filepath.Join(h.dir, fmt.Sprintf("%02d-%s", h.seq, name))
	return d, os.MkdirAll(d, 0o755)
}

// startEmulator starts a phase's emulator in a directory of its own, with
// the run's PKI and the --emulation lines.
func (h *harness) startEmulator(ctx context.Context, phase string, c emuConfig) (*emulator, error) {
	dir, err := h.phaseDir(phase)
	if err != nil {
		return nil, err
	}
	c.material, c.Extra = h.mat, h.cfg.Emulation
	return startEmulator(ctx, h.cfg.Exe, dir, c)
}

// Run runs the phases and returns their results; an error means the suite
// could not start at all.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if cfg.Exe == "" {
		return nil, errors.New("soak: no albmtls binary given (Config.Exe)")
	}
	if cfg.Progress == nil {
		cfg.Progress = io.Discard
	}
	if cfg.IdleConns <= 0 {
		cfg.IdleConns = DefaultIdleConns
	}
	if cfg.SlowConns <= 0 {
		cfg.SlowConns = DefaultSlowConns
	}
	if cfg.SlowWait <= 0 {
		cfg.SlowWait = DefaultSlowWait
	}
	if cfg.LoadTime <= 0 {
		cfg.LoadTime = DefaultLoadTime
	}
	run, err := selectPhases(cfg.Phases)
	if err != nil {
		return nil, err
	}
	h := &harness{cfg: cfg, prog: cfg.Progress}
	if cfg.WorkDir != "" {
		h.dir = cfg.WorkDir
		if err := os.MkdirAll(h.dir, 0o755); err != nil {
			return nil, err
		}
	} else {
		if h.dir, err = os.MkdirTemp("", "albmtls-soak-"); err != nil {
			return nil, err
		}
		if !cfg.Keep {
			defer os.RemoveAll(h.dir)
		}
	}
	// Both this process (the clients) and the emulators it starts need a
	// descriptor per connection, and a few more.
	lim, err := raiseNoFile(uint64(cfg.IdleConns)*2 + 4096)
	if err != nil {
		return nil, fmt.Errorf("raising RLIMIT_NOFILE: %w", err)
	}
	h.logf("work dir %s; RLIMIT_NOFILE %d", h.dir, lim)
	if h.mat, err = writeMaterial(h.dir); err != nil {
		return nil, err
	}
	rep := &Report{Start: time.Now().UTC(), Machine: machine(), Version: cfg.Version}
	for _, p := range run {
		if ctx.Err() != nil {
			break
		}
		h.logf("phase %s: %s", p.name, p.target)
		r := Result{Phase: p.name, Target: p.target}
		t0 := time.Now()
		r.Err = p.run(ctx, h, &r)
		r.Elapsed = time.Since(t0).Round(100 * time.Millisecond)
		h.logf("phase %s: %s in %s — %s", p.name, r.Verdict(), r.Elapsed, strings.Join(r.Figures, "; "))
		if r.Err != nil {
			h.logf("phase %s: %v", p.name, r.Err)
		}
		rep.Results = append(rep.Results, r)
	}
	return rep, ctx.Err()
}

func selectPhases(names []string) ([]phase, error) {
	if len(names) == 0 {
		return Phases, nil
	}
	var out []phase
	for _, p := range Phases {
		if slices.Contains(names, p.name) {
			out = append(out, p)
		}
	}
	for _, n := range names {
		if !slices.ContainsFunc(Phases, func(p phase) bool { return p.name == n }) {
			return nil, fmt.Errorf("soak: no phase %q; the phases are %s", n, strings.Join(PhaseNames(), ", "))
		}
	}
	return out, nil
}

// machine describes the host: CPU model and count, memory, kernel.
func machine() string {
	cpu := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, "model name"); ok {
				cpu = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
				break
			}
		}
	}
	mem := ""
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb int64
		fmt.Sscanf(strings.TrimPrefix(strings.SplitN(string(b), "\n", 2)[0], "MemTotal:"), "%d", &kb)
		mem = fmt.Sprintf(", %.0f GiB RAM", float64(kb)/(1<<20))
	}
	kernel := ""
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		kernel = ", Linux " + strings.TrimSpace(string(b))
	}
	return fmt.Sprintf("%s × %d%s%s, %s", cpu, runtime.NumCPU(), mem, kernel, runtime.Version())
}

// WriteTable writes the Markdown summary pasted into RELIABILITY.md.
func (r *Report) WriteTable(w io.Writer) {
	v := ""
	if r.Version != "" {
		v = " of " + r.Version
	}
	fmt.Fprintf(w, "Run%s %s on %s.\n\n", v, r.Start.Format("2006-01-02 15:04 UTC"), r.Machine)
	fmt.Fprintln(w, "| phase | target | result | figures | time |")
	fmt.Fprintln(w, "|---|---|---|---|---|")
	for _, x := range r.Results {
		figs := strings.Join(x.Figures, "; ")
		if x.Err != nil {
			figs = strings.TrimPrefix(figs+"; error: "+x.Err.Error(), "; ")
		}
		fmt.Fprintf(w, "| %s | %s | **%s** | %s | %s |\n", x.Phase, cell(x.Target), x.Verdict(), cell(figs), x.Elapsed)
	}
}

// cell keeps a value inside one Markdown table cell.
func cell(s string) string {
	s = strings.ReplaceAll(s, "|", `\|`)
	return strings.ReplaceAll(s, "\n", " ")
}

// figure appends "name value" to a result.
func (r *Result) figure(name string, format string, args ...any) {
	r.Figures = append(r.Figures, name+" "+fmt.Sprintf(format, args...))
}
