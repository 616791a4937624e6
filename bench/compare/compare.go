// Package compare runs the albmtls proxy comparison behind `make bench`:
// the emulator, nginx and HAProxy, configured equivalently (client
// certificates verified against the same CA bundle and CRLs, the same
// ECDSA P-256 server certificate, TLS 1.3, the same backend, the client
// certificate forwarded in headers), plus a bare crypto/tls server
// forwarding with httputil.ReverseProxy as the ceiling, each driven in
// turn by the same load generator with the same concurrency, several
// rounds, and reported as medians and ratios.
//
// Every server runs as a child process on a 127.0.0.1 port with its
// configuration, logs and pid file in a private directory, and every child
// is stopped when Run returns, whatever happened.
package compare

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/albmtls/albmtls/bench/loadgen"
	"github.com/albmtls/albmtls/bench/servers"
)

// Scenario is one line of the table.
type Scenario struct {
	Name  string // flag value
	Label string // table label
	Mode  loadgen.Mode
	crl   crlSize
}

// Scenarios of the comparison, in table order.
var Scenarios = []Scenario{
	{Name: "handshake-crl10", Label: "handshakes/s, 10-entry CRL", Mode: loadgen.ModeHandshake, crl: crlSmall},
	{Name: "handshake-crl500k", Label: "handshakes/s, 500,000-entry CRL", Mode: loadgen.ModeHandshake, crl: crlLarge},
	{Name: "keepalive", Label: "keep-alive requests/s", Mode: loadgen.ModeKeepAlive, crl: crlSmall},
}

// Config describes a comparison run.
type Config struct {
	// Exe is the albmtls binary: it runs `serve` (the emulator), `bench
	// backend` and `bench ceiling`.
	Exe string
	// Servers to compare (default AllServers); albmtls must be one.
	Servers []string
	// Scenarios by name (default all).
	Scenarios []string
	// Rounds of A B C … alternation (default 3), each run lasting
	// Duration (default 5s) after a Warmup per server and scenario
	// (default 1s, not measured).
	Rounds           int
	Duration, Warmup time.Duration
	// Slices splits each run into that many parts (default 5), taken in
	// alternation with the other scenarios of its group on the same server
	// (10-entry CRL, 500,000-entry CRL, 10-entry, …), so that a burst of
	// other work on the machine hits both sides of the CRL comparison.
	Slices int
	// Concurrency is the load generator's worker count, the same for every
	// server (default 32).
	Concurrency int
	// WorkDir holds configurations, PKI and logs (default: a temporary
	// directory, removed at the end unless Keep).
	WorkDir string
	Keep    bool
	// Nginx and HAProxy are the binaries (default: found on PATH or in
	// /usr/sbin).
	Nginx, HAProxy string
	// Progress receives one line per step and per run.
	Progress io.Writer
}

func (c *Config) defaults() error {
	if c.Exe == "" {
		return errors.New("compare: Config.Exe must name the albmtls binary")
	}
	if len(c.Servers) == 0 {
		c.Servers = AllServers
	}
	if !slices.Contains(c.Servers, ALBMTLS) {
		return fmt.Errorf("compare: the servers %v must include %s, the one being compared", c.Servers, ALBMTLS)
	}
	for _, s := range c.Servers {
		if !slices.Contains(AllServers, s) {
			return fmt.Errorf("compare: unknown server %q; use some of %s", s, strings.Join(AllServers, ", "))
		}
	}
	if len(c.Scenarios) == 0 {
		for _, s := range Scenarios {
			c.Scenarios = append(c.Scenarios, s.Name)
		}
	}
	for _, n := range c.Scenarios {
		if _, ok := scenario(n); !ok {
			var names []string
			for _, s := range Scenarios {
				names = append(names, s.Name)
			}
			return fmt.Errorf("compare: unknown scenario %q; use some of %s", n, strings.Join(names, ", "))
		}
	}
	if c.Rounds <= 0 {
		c.Rounds = 3
	}
	if c.Duration <= 0 {
		c.Duration = 5 * time.Second
	}
	if c.Warmup < 0 {
		c.Warmup = 0
	} else if c.Warmup == 0 {
		c.Warmup = time.Second
	}
	if c.Concurrency <= 0 {
		c.Concurrency = 32
	}
	if c.Slices <= 0 {
		c.Slices = 5
	}
	if c.Progress == nil {
		c.Progress = io.Discard
	}
	return nil
}

func scenario(name string) (Scenario, bool) {
	for _, s := range Scenarios {
		if s.Name == name {
			return s, true
		}
	}
	return Scenario{}, false
}

// driver is one comparison run in progress.
type driver struct {
	cfg            Config
	dir            string
	m              *material
	procs          *procs
	backendAddr    string
	backend        *proc
	nginx, haproxy string
	report         *Report
}

func (d *driver) progress(format string, args ...any) {
	fmt.Fprintf(d.cfg.Progress, "bench: "+format+"\n", args...)
}

// Run runs the comparison and returns its report. It fails, naming the
// server and showing the end of its log, when a server does not start or
// does not answer the preflight checks: a misconfigured server must not
// appear in the table.
func Run(ctx context.Context, cfg Config) (rep *Report, err error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	d := &driver{cfg: cfg, procs: &procs{}}
	defer d.procs.stopAll()
	if err := d.findProxies(); err != nil {
		return nil, err
	}
	if d.dir = cfg.WorkDir; d.dir == "" {
		if d.dir, err = os.MkdirTemp("", "albmtls-bench-"); err != nil {
			return nil, fmt.Errorf("compare: creating the work directory: %w", err)
		}
		if !cfg.Keep {
			defer os.RemoveAll(d.dir)
		}
	} else if err := os.MkdirAll(d.dir, 0o755); err != nil {
		return nil, fmt.Errorf("compare: creating the work directory: %w", err)
	}
	d.report = newReport(cfg, d)
	d.progress("work directory %s", d.dir)
	d.progress("generating the PKI and the CRLs (10 and 499,999 entries + the root's 1)")
	if d.m, err = writeMaterial(d.dir, time.Now()); err != nil {
		return nil, fmt.Errorf("compare: %w", err)
	}
	if d.backend, err = d.startBackend(ctx); err != nil {
		return nil, fmt.Errorf("compare: backend: %w", err)
	}
	insts, err := d.startAll(ctx)
	if err != nil {
		return nil, err
	}
	if err := d.rounds(ctx, insts); err != nil {
		return nil, err
	}
	d.procs.stopAll()
	d.report.finish()
	return d.report, nil
}

func (d *driver) findProxies() error {
	var missing []string
	for _, s := range d.cfg.Servers {
		var err error
		switch s {
		case Nginx:
			if d.nginx = d.cfg.Nginx; d.nginx == "" {
				d.nginx, err = lookPath("nginx")
			}
		case HAProxy:
			if d.haproxy = d.cfg.HAProxy; d.haproxy == "" {
				d.haproxy, err = lookPath("haproxy")
			}
		}
		if err != nil {
			missing = append(missing, s)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("compare: %s not installed; install with `make bench-proxies` (apt-get install nginx haproxy), or leave them out with --servers", strings.Join(missing, " and "))
	}
	return nil
}

// instKey names a running instance: a server with one CRL variant. The
// ceiling checks no CRL, so one instance serves both variants.
type instKey struct {
	server string
	crl    crlSize
}

// verifiesNoChain says whether the server is one of the Go floors that
// check no chain and no CRL (the ceiling and the relay): one instance
// serves both CRL variants and the revoked client is not expected to be
// refused.
func verifiesNoChain(server string) bool { return server == Ceiling || server == Relay }

func key(server string, crl crlSize) instKey {
	if verifiesNoChain(server) {
		crl = 0
	}
	return instKey{server, crl}
}

// startAll starts every server with every CRL variant the scenarios need,
// all at once, so that the rounds can alternate freely between them, and
// checks each one.
func (d *driver) startAll(ctx context.Context) (map[instKey]*instance, error) {
	insts := map[instKey]*instance{}
	for _, size := range []crlSize{crlSmall, crlLarge} {
		needed := false
		for _, s := range d.report.Scenarios {
			needed = needed || s.crl == size
		}
		if !needed {
			continue
		}
		d.progress("starting %s with the %d-entry CRL", strings.Join(d.cfg.Servers, ", "), size)
		for _, name := range d.cfg.Servers {
			k := key(name, size)
			if insts[k] != nil {
				continue
			}
			t0 := time.Now()
			in, err := d.startServer(ctx, name, size)
			if err != nil {
				return nil, fmt.Errorf("compare: %w", err)
			}
			insts[k] = in
			if err := d.preflight(ctx, in); err != nil {
				return nil, fmt.Errorf("compare: %s failed its checks, so its figures would mean nothing: %w\n  its log %s ends with:\n%s", name, err, in.proc.log, tail(in.proc.log, 10))
			}
			refuses := ", refuses revoked"
			if verifiesNoChain(name) {
				refuses = ""
			}
			d.progress("  %s ready in %s and checked (accepts valid, forwards the client certificate headers%s)",
				name, time.Since(t0).Round(10*time.Millisecond), refuses)
		}
	}
	return insts, nil
}

// rounds warms every server up on every scenario, then runs the rounds.
// Within a round, scenarios of the same mode form a group, and each server
// runs its whole group before the next server, the group's scenarios in
// alternating slices: the 10-entry and the 500,000-entry CRL runs of a
// server are interleaved, and the servers adjacent in time, so that
// changes of the machine's load cancel out of the paired ratios. The server
// order rotates every round (A B C, B C A, …).
func (d *driver) rounds(ctx context.Context, insts map[instKey]*instance) error {
	var groups [][]Scenario
	for _, s := range d.report.Scenarios {
		if n := len(groups); n > 0 && groups[n-1][0].Mode == s.Mode {
			groups[n-1] = append(groups[n-1], s)
		} else {
			groups = append(groups, []Scenario{s})
		}
	}
	servers := d.cfg.Servers
	if d.cfg.Warmup > 0 {
		d.progress("warming up (%s per server and scenario)", d.cfg.Warmup)
		for _, s := range d.report.Scenarios {
			for _, name := range servers {
				if _, err := d.load(ctx, insts[key(name, s.crl)], s, d.cfg.Warmup); err != nil {
					return err
				}
			}
		}
	}
	slice := d.cfg.Duration / time.Duration(d.cfg.Slices)
	for round := range d.cfg.Rounds {
		for _, g := range groups {
			for i := range servers {
				name := servers[(i+round)%len(servers)]
				parts := make([][]*loadgen.Result, len(g))
				use := make([]CPUUse, len(g))
				for j := range use {
					use[j].OK = true
				}
				for range d.cfg.Slices {
					for j, s := range g {
						in := insts[key(name, s.crl)]
						u0 := d.usage(in)
						res, err := d.load(ctx, in, s, slice)
						if err != nil {
							return err
						}
						use[j] = use[j].add(d.usage(in).since(u0))
						parts[j] = append(parts[j], res)
					}
				}
				for j, s := range g {
					res := loadgen.Merge(parts[j]...)
					d.report.add(s, name, round, res, use[j])
					d.progress("round %d/%d %-32s %-8s %8.0f req/s  p50 %-8s p99 %-8s errors %d",
						round+1, d.cfg.Rounds, s.Label, name, res.RPS, fmtDur(res.P50), fmtDur(res.P99), res.Errors)
				}
			}
		}
	}
	return nil
}

// load runs the load generator against in for one scenario.
func (d *driver) load(ctx context.Context, in *instance, s Scenario, dur time.Duration) (*loadgen.Result, error) {
	res, err := loadgen.Run(ctx, loadgen.Config{
		URL: in.url(), Mode: s.Mode, Concurrency: d.cfg.Concurrency, Duration: dur,
		Certificate: &d.m.valid, ServerLeaf: d.m.serverLeaf, ServerName: "localhost",
		Check: checkForwarded,
	})
	if err != nil {
		return nil, fmt.Errorf("compare: %s, %s: %w", in.name, s.Label, err)
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	return res, nil
}

// checkForwarded is the response check of every run: the backend saw the
// client certificate's subject and leaf in the headers the proxy added.
func checkForwarded(r *http.Response) error {
	subj := r.Header.Get(servers.EchoSubject)
	if !strings.Contains(subj, "CN=valid") {
		return fmt.Errorf("the backend saw subject %q, want the valid client's (CN=valid)", subj)
	}
	if n, _ := strconv.Atoi(r.Header.Get(servers.EchoLeafBytes)); n == 0 {
		return errors.New("the backend saw no client certificate leaf header")
	}
	return nil
}

// preflight checks a server before it is measured: the valid client gets
// 200 with its certificate forwarded, on fresh TLS 1.3 handshakes that do
// not resume; the revoked client is refused (except by the ceiling, which
// checks no CRL).
func (d *driver) preflight(ctx context.Context, in *instance) error {
	res, err := loadgen.Run(ctx, loadgen.Config{
		URL: in.url(), Mode: loadgen.ModeHandshake, Concurrency: 1, Requests: 3, Duration: 30 * time.Second,
		Certificate: &d.m.valid, ServerLeaf: d.m.serverLeaf, ServerName: "localhost",
		Check: checkForwarded,
	})
	if err != nil {
		return err
	}
	if res.Errors > 0 || res.Requests != 3 {
		return fmt.Errorf("the valid client got %d errors in 3 requests: %v", res.Errors, res.ErrorKinds)
	}
	if res.DidResume {
		return errors.New("a handshake resumed a session; resumption must be off")
	}
	d.report.negotiated(in.name, res)
	if verifiesNoChain(in.name) {
		return nil
	}
	res, err = loadgen.Run(ctx, loadgen.Config{
		URL: in.url(), Mode: loadgen.ModeHandshake, Concurrency: 1, Requests: 1, Duration: 30 * time.Second,
		Certificate: &d.m.revoked, ServerLeaf: d.m.serverLeaf, ServerName: "localhost",
	})
	if err != nil {
		return err
	}
	if res.Requests != 0 {
		return errors.New("the revoked client was accepted: the CRL is not applied")
	}
	return nil
}
