package compare

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/albmtls/albmtls/bench/loadgen"
)

// Report is what a comparison measured, with what is needed to judge it:
// the machine, its load, the versions and what each server negotiated.
type Report struct {
	Started     time.Time
	Elapsed     time.Duration
	Rounds      int
	Duration    time.Duration
	Warmup      time.Duration
	Concurrency int
	Servers     []string
	Scenarios   []Scenario
	Runs        []Measurement
	// Negotiated is, per server, the TLS version, cipher suite and key
	// exchange of its preflight handshakes.
	Negotiated map[string]string
	Versions   map[string]string
	Machine    string
	// LoadBefore and LoadAfter are /proc/loadavg's 1, 5 and 15 minute
	// averages: other work on the machine skews every figure.
	LoadBefore, LoadAfter string
	// OtherCPU is the share of all CPUs that processes outside the
	// comparison used while it ran (-1 if unknown): the figures are only as
	// good as this is small.
	OtherCPU float64
	cpu0     cpuSnapshot
}

// Measurement is one measured run.
type Measurement struct {
	Scenario string
	Server   string
	Round    int
	Result   *loadgen.Result
	// CPU is where the CPU time went during the run.
	CPU CPUUse
}

// perRequest is d per successful request of the run, 0 when unknown.
func (m Measurement) perRequest(d time.Duration) time.Duration {
	ok := m.Result.Requests - m.Result.Errors
	if !m.CPU.OK || ok <= 0 {
		return 0
	}
	return d / time.Duration(ok)
}

// CPUPerRequest is the server's CPU time per successful request of the
// run, 0 when unknown.
func (m Measurement) CPUPerRequest() time.Duration { return m.perRequest(m.CPU.Server) }

func newReport(cfg Config, d *driver) *Report {
	r := &Report{
		Started: time.Now(), Rounds: cfg.Rounds, Duration: cfg.Duration, Warmup: cfg.Warmup,
		Concurrency: cfg.Concurrency, Servers: cfg.Servers,
		Negotiated: map[string]string{}, Versions: map[string]string{},
		Machine: machine(), LoadBefore: loadavg(), OtherCPU: -1, cpu0: takeCPU(),
	}
	for _, s := range Scenarios {
		if slices.Contains(cfg.Scenarios, s.Name) {
			r.Scenarios = append(r.Scenarios, s)
		}
	}
	r.Versions[ALBMTLS] = output(cfg.Exe, "version")
	r.Versions["load generator"] = runtime.Version()
	if d.nginx != "" {
		r.Versions[Nginx] = strings.TrimPrefix(output(d.nginx, "-v"), "nginx version: ")
	}
	if d.haproxy != "" {
		v, _, _ := strings.Cut(output(d.haproxy, "-v"), " - ")
		r.Versions[HAProxy] = v
	}
	if ssl, err := lookPath("openssl"); err == nil {
		r.Versions["openssl"] = output(ssl, "version")
	}
	return r
}

func (r *Report) add(s Scenario, server string, round int, res *loadgen.Result, cpu CPUUse) {
	r.Runs = append(r.Runs, Measurement{Scenario: s.Name, Server: server, Round: round, Result: res, CPU: cpu})
}

func (r *Report) negotiated(server string, res *loadgen.Result) {
	r.Negotiated[server] = fmt.Sprintf("%s %s %s", tls.VersionName(res.TLSVersion), tls.CipherSuiteName(res.CipherSuite), res.CurveID)
}

// finish records the end of the run; call it after every child process
// was stopped and reaped, so that their CPU time is counted as the run's.
func (r *Report) finish() {
	r.Elapsed = time.Since(r.Started)
	r.LoadAfter = loadavg()
	r.OtherCPU = otherShare(r.cpu0, takeCPU())
}

// Cell is the summary of one scenario on one server over the rounds.
type Cell struct {
	RPS, MinRPS, MaxRPS float64
	P50, P99            time.Duration
	// CPU, Backend, LoadGen and Idle are the medians of the rounds' CPU
	// time per request of the server, the backend and the load generator,
	// and of the machine's idle time per request (0: not measured).
	CPU, Backend, LoadGen, Idle time.Duration
	Errors, Requests            int64
	N                           int
}

// Cell returns the medians of a scenario on a server (N = 0 when it was
// not measured).
func (r *Report) Cell(scenario, server string) Cell {
	var rps []float64
	var p50, p99, cpu, be, lg, idle []time.Duration
	var c Cell
	for _, m := range r.Runs {
		if m.Scenario == scenario && m.Server == server {
			rps = append(rps, m.Result.RPS)
			p50 = append(p50, m.Result.P50)
			p99 = append(p99, m.Result.P99)
			if x := m.CPUPerRequest(); x > 0 {
				cpu = append(cpu, x)
				be = append(be, m.perRequest(m.CPU.Backend))
				lg = append(lg, m.perRequest(m.CPU.LoadGen))
				idle = append(idle, m.perRequest(m.CPU.Idle))
			}
			c.Errors += m.Result.Errors
			c.Requests += m.Result.Requests
		}
	}
	if c.N = len(rps); c.N == 0 {
		return c
	}
	c.RPS, c.P50, c.P99 = median(rps), median(p50), median(p99)
	if len(cpu) > 0 {
		c.CPU, c.Backend, c.LoadGen, c.Idle = median(cpu), median(be), median(lg), median(idle)
	}
	c.MinRPS, c.MaxRPS = slices.Min(rps), slices.Max(rps)
	return c
}

func median[T int64 | float64 | time.Duration](xs []T) T {
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// run returns the run of a scenario on a server in a round, or nil.
func (r *Report) run(scenario, server string, round int) *Measurement {
	for i, m := range r.Runs {
		if m.Scenario == scenario && m.Server == server && m.Round == round {
			return &r.Runs[i]
		}
	}
	return nil
}

// paired is the median over the rounds of f(a, b) of the rates of two
// runs, for the rounds where both runs exist and b's rate is not zero.
func (r *Report) paired(scA, srvA, scB, srvB string, f func(a, b float64) float64) (float64, bool) {
	return r.pairedOf(scA, srvA, scB, srvB, func(m *Measurement) float64 { return m.Result.RPS }, f)
}

// pairedOf is the median over the rounds of f(val(a), val(b)), for the
// rounds where both runs exist, val(b) is above zero and val(a) is not
// negative (negative: not measured).
func (r *Report) pairedOf(scA, srvA, scB, srvB string, val func(*Measurement) float64, f func(a, b float64) float64) (float64, bool) {
	var xs []float64
	for round := range r.Rounds {
		a, b := r.run(scA, srvA, round), r.run(scB, srvB, round)
		if a != nil && b != nil && val(a) >= 0 && val(b) > 0 {
			xs = append(xs, f(val(a), val(b)))
		}
	}
	if len(xs) == 0 {
		return 0, false
	}
	return median(xs), true
}

// Ratio is albmtls's rate over other's for a scenario: the median of the
// per-round ratios (each round's two runs are close in time, so a change
// of the machine's load between rounds cancels out). 0 if not measured.
func (r *Report) Ratio(scenario, other string) float64 {
	x, _ := r.paired(scenario, ALBMTLS, scenario, other, func(a, b float64) float64 { return a / b })
	return x
}

// CPURatio is albmtls's CPU time per request over other's for a scenario:
// the median of the per-round ratios; 0 if not measured.
func (r *Report) CPURatio(scenario, other string) float64 {
	cpu := func(m *Measurement) float64 {
		if c := m.CPUPerRequest(); c > 0 {
			return float64(c)
		}
		return -1 // not measured
	}
	x, _ := r.pairedOf(scenario, ALBMTLS, scenario, other, cpu, func(a, b float64) float64 { return a / b })
	return x
}

// CRLCost is the share of the handshake rate a server loses with the
// 500,000-entry CRL: the median over the rounds of 1 - rate(500k) /
// rate(10). ok is false when either scenario was not run.
func (r *Report) CRLCost(server string) (cost float64, ok bool) {
	return r.paired("handshake-crl500k", server, "handshake-crl10", server, func(a, b float64) float64 { return 1 - a/b })
}

var displayName = map[string]string{ALBMTLS: "albmtls", Nginx: "nginx", HAProxy: "HAProxy", Ceiling: "ceiling (crypto/tls + ReverseProxy)", Relay: "relay (crypto/tls, no HTTP library)"}

// WriteTable prints the report as Markdown: the context, the table of
// medians with ratios, and the latencies and errors.
func (r *Report) WriteTable(w io.Writer) {
	bw := bufio.NewWriter(w)
	defer bw.Flush()
	p := func(format string, args ...any) { fmt.Fprintf(bw, format, args...) }
	p("\n## albmtls proxy comparison, %s\n\n", r.Started.UTC().Format("2006-01-02 15:04 MST"))
	p("- %d rounds of %s per server and scenario, servers alternating (rotated each round), after a %s warm-up; concurrency %d; %s in all\n",
		r.Rounds, r.Duration, r.Warmup, r.Concurrency, r.Elapsed.Round(time.Second))
	other := "unknown"
	if r.OtherCPU >= 0 {
		other = fmt.Sprintf("%.0f%%", 100*r.OtherCPU)
	}
	p("- machine: %s; load average (1/5/15 min) %s before, %s after (the run's own load included); other processes used %s of the CPUs during the run\n",
		r.Machine, r.LoadBefore, r.LoadAfter, other)
	var vs []string
	for _, k := range []string{ALBMTLS, Nginx, HAProxy, "openssl", "load generator"} {
		if v, ok := r.Versions[k]; ok {
			vs = append(vs, k+": "+v)
		}
	}
	p("- versions: %s\n", strings.Join(vs, "; "))
	var ns []string
	for _, s := range r.Servers {
		ns = append(ns, s+" "+r.Negotiated[s])
	}
	p("- negotiated: %s\n\n", strings.Join(ns, "; "))

	others := slices.DeleteFunc(slices.Clone(r.Servers), func(s string) bool { return s == ALBMTLS })
	p("Rates: median of %d rounds (± half the min–max spread); ratios: median of the per-round ratios.\n\n| scenario |", r.Rounds)
	for _, s := range r.Servers {
		p(" %s |", displayName[s])
	}
	for _, o := range others {
		p(" albmtls/%s |", strings.Fields(displayName[o])[0])
	}
	p("\n|---|%s%s\n", strings.Repeat("--:|", len(r.Servers)), strings.Repeat("--:|", len(others)))
	for _, sc := range r.Scenarios {
		p("| %s |", sc.Label)
		for _, s := range r.Servers {
			c := r.Cell(sc.Name, s)
			p(" %s |", rateCell(c))
		}
		for _, o := range others {
			p(" %s |", ratioCell(r.Ratio(sc.Name, o)))
		}
		p("\n")
	}
	if _, ok := r.CRLCost(ALBMTLS); ok {
		p("| handshake rate lost to the 500,000-entry CRL |")
		for _, s := range r.Servers {
			cost, _ := r.CRLCost(s)
			p(" %.1f%% |", 100*cost)
		}
		p("%s\n", strings.Repeat(" |", len(others)))
	}
	if r.Cell(r.Scenarios[0].Name, ALBMTLS).CPU > 0 {
		p("\nCPU time per request (medians over the rounds): the server's processes (nginx's workers included), the backend, the load generator, and the CPU time no one used; albmtls's server time over each other's (median of the per-round ratios; below 1: albmtls spends less):\n\n| scenario, CPU of |")
		for _, s := range r.Servers {
			p(" %s |", displayName[s])
		}
		for _, o := range others {
			p(" albmtls/%s |", strings.Fields(displayName[o])[0])
		}
		p("\n|---|%s%s\n", strings.Repeat("--:|", len(r.Servers)), strings.Repeat("--:|", len(others)))
		us := func(d time.Duration) string { return fmt.Sprintf("%.1f µs", float64(d)/float64(time.Microsecond)) }
		for _, sc := range r.Scenarios {
			label := strings.Replace(sc.Label, "/s", "", 1)
			for _, row := range []struct {
				name string
				of   func(Cell) time.Duration
			}{
				{"the server", func(c Cell) time.Duration { return c.CPU }},
				{"the backend", func(c Cell) time.Duration { return c.Backend }},
				{"the load generator", func(c Cell) time.Duration { return c.LoadGen }},
				{"idle", func(c Cell) time.Duration { return c.Idle }},
			} {
				p("| %s: %s |", label, row.name)
				for _, s := range r.Servers {
					if c := r.Cell(sc.Name, s); c.CPU > 0 {
						p(" %s |", us(row.of(c)))
					} else {
						p(" – |")
					}
				}
				for _, o := range others {
					if row.name == "the server" {
						p(" %s |", ratioCell(r.CPURatio(sc.Name, o)))
					} else {
						p(" |")
					}
				}
				p("\n")
			}
		}
	}
	p("\nLatency p50 / p99 (medians over the rounds) and errors over all rounds:\n\n| scenario |")
	for _, s := range r.Servers {
		p(" %s |", displayName[s])
	}
	p("\n|---|%s\n", strings.Repeat("--:|", len(r.Servers)))
	for _, sc := range r.Scenarios {
		p("| %s |", strings.Replace(sc.Label, "/s", "", 1))
		for _, s := range r.Servers {
			c := r.Cell(sc.Name, s)
			if c.N == 0 {
				p(" – |")
				continue
			}
			p(" %s / %s, %d errors |", fmtDur(c.P50), fmtDur(c.P99), c.Errors)
		}
		p("\n")
	}
}

func rateCell(c Cell) string {
	if c.N == 0 {
		return "–"
	}
	s := thousands(c.RPS)
	if c.N > 1 && c.RPS > 0 {
		s += fmt.Sprintf(" (±%.0f%%)", 100*(c.MaxRPS-c.MinRPS)/2/c.RPS)
	}
	if c.Errors > 0 {
		s += fmt.Sprintf(" ⚠ %d errors", c.Errors)
	}
	return s
}

func ratioCell(x float64) string {
	if x == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f", x)
}

// thousands formats a rate with thousands separators.
func thousands(x float64) string {
	s := fmt.Sprintf("%.0f", x)
	var b strings.Builder
	for i, ch := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(ch)
	}
	return b.String()
}

func fmtDur(d time.Duration) string {
	switch {
	case d >= 100*time.Millisecond:
		return d.Round(time.Millisecond).String()
	case d >= time.Millisecond:
		return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond))
	}
	return d.Round(time.Microsecond).String()
}

// machine describes the CPU, the core count and the kernel.
func machine() string {
	model := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.SplitSeq(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	kernel := runtime.GOOS
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		kernel += " " + strings.TrimSpace(string(b))
	}
	return fmt.Sprintf("%s, %d logical CPUs, %s/%s", model, runtime.NumCPU(), kernel, runtime.GOARCH) + schedulerNote(os.ReadFile)
}

// schedulerNote names the kernel's scheduler settings that mainline Linux
// does not have and that change where a loaded machine's idle time goes
// (BENCHMARKS.md, "Idle time is the scheduler's"), or returns "".
func schedulerNote(readFile func(string) ([]byte, error)) string {
	b, err := readFile("/proc/sys/kernel/sched_vcpu_pack")
	if err != nil {
		return ""
	}
	return fmt.Sprintf("; scheduler: kernel.sched_vcpu_pack = %s (not in mainline Linux; see BENCHMARKS.md on idle time)", strings.TrimSpace(string(b)))
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}
