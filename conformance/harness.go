// Package conformance runs the scenario catalogue (package scenarios)
// against the in-process emulator, against any HTTPS endpoint (a running
// emulator or a real ALB, with the harness's echo target registered behind
// it), or in front of a user's own backend, and reports the results as a
// summary table, JUnit XML and a Markdown or HTML report.
//
// In-process, every scenario gets its own emulator, built from a template
// config plus the scenario's setup, on free ports; scenarios run in
// parallel and share one PKI. Every network step has a timeout, so an
// unreachable target or a stalled server becomes a failed scenario with the
// reason, never a hung run.
package conformance

import (
	"context"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"sync"
	"time"

	"github.com/albmtls/albmtls/emulator/targetgroup"
	"github.com/albmtls/albmtls/pki"
	"github.com/albmtls/albmtls/scenarios"
)

// Options say what to run and where. The zero value runs the built-in
// catalogue in-process with a throw-away PKI.
type Options struct {
	// Scenarios to run; nil means the built-in catalogue.
	Scenarios []*scenarios.Scenario
	// Run keeps only the scenarios whose name matches.
	Run *regexp.Regexp
	// PKIDir is a PKI written by `albmtls pki init`; empty generates a
	// throw-away one.
	PKIDir string

	// Target is the HTTPS listener of a running emulator or a real ALB
	// (https://host:port); empty runs in-process.
	Target string
	// HTTPTarget is the same load balancer's HTTP listener, for the
	// redirect scenarios.
	HTTPTarget string
	// RemoteMode is the mutual authentication mode the remote listener
	// uses (default verify); scenarios of other modes are skipped.
	RemoteMode string
	// ServerName is the TLS server name for the remote target (default:
	// the target's host).
	ServerName string
	// EchoListen is where the echo target listens for a remote run
	// (default 127.0.0.1:9001); register it behind the remote listener.
	EchoListen string
	// ConnectionLog and AccessLog are the remote emulator's log files, when
	// the harness can read them; otherwise those expectations are reported
	// as not checked.
	ConnectionLog string
	AccessLog     string
	// Admin is a running emulator's admin endpoint (http://host:port), for
	// runtime revocation; TrustStore names its trust store (default: its
	// only one).
	Admin      string
	TrustStore string
	// AdminToken is the admin endpoint's bearer token (admin.token), sent
	// on every admin request when set.
	AdminToken string

	// Parallel bounds how many scenarios run at once (default 4 per CPU).
	Parallel int
	// Timeout bounds every network step (default 10s).
	Timeout time.Duration
	// Set changes keys of every generated config (in-process), e.g.
	// emulation.strip_client_headers=false, to see which scenarios catch it.
	Set []Setting
	// Mutate, when set, may change each generated config before the
	// emulator reads it (tests use it to break behaviours on purpose).
	Mutate func(scenario string, cfg map[string]any)
	// Progress is called after each scenario, from one goroutine at a time.
	Progress func(Progress)
	// Logger receives the emulators' operational logs; nil discards them.
	Logger *slog.Logger
	// WorkDir keeps the generated PKI and configs there; empty uses a
	// temporary directory that is removed afterwards.
	WorkDir string
}

// Progress is the state of a run after one more scenario finished.
type Progress struct {
	Done, Total             int
	Passed, Failed, Skipped int
	Last                    *Result
}

// harness is one run.
type harness struct {
	opts    Options
	logger  *slog.Logger
	set     *pki.Set
	pkiDir  string
	pkiTemp bool // pkiDir is generated in work and removed with it
	work    string
	servers *servers
	roots   *x509.CertPool
	remote  *remote
	// backendAddr and backendProto replace the echo target (backend mode).
	backendAddr  string
	backendProto targetgroup.Protocol
}

// Run runs the scenarios and returns the report. The error is for problems
// that stop the whole run (no PKI, a bad --run, the echo target's port in
// use); everything that goes wrong inside a scenario is in its result.
func Run(ctx context.Context, opts Options) (*Report, error) {
	started := time.Now()
	h, list, err := prepare(opts, true)
	if err != nil {
		return nil, err
	}
	defer h.cleanup()
	target := "the in-process emulator"
	if h.remote != nil {
		target = opts.Target
	}
	rep := &Report{Title: "conformance catalogue", Target: target, PKI: h.pkiDir, PKIRemoved: h.pkiTemp, Started: started}
	rep.Results = h.runAll(ctx, list, h.runScenario)
	rep.Duration = time.Since(started)
	return rep, nil
}

// Session is a prepared run: the PKI, the resolved scenarios and the
// harness's targets, for callers that run scenarios one by one (the go test
// driver runs each as a parallel subtest). Close it when done.
type Session struct {
	h    *harness
	list []*scenarios.Scenario
}

// Open prepares a session with the same options as Run.
func Open(opts Options) (*Session, error) {
	h, list, err := prepare(opts, true)
	if err != nil {
		return nil, err
	}
	return &Session{h: h, list: list}, nil
}

// Scenarios returns the resolved scenarios, expanded per client.
func (s *Session) Scenarios() []*scenarios.Scenario { return s.list }

// Run runs one scenario of the session.
func (s *Session) Run(ctx context.Context, sc *scenarios.Scenario) *Result {
	return s.h.runScenario(ctx, sc)
}

// Close stops the harness's targets and removes its temporary files.
func (s *Session) Close() { s.h.cleanup() }

// prepare loads the PKI and the scenarios and starts the harness's targets.
func prepare(opts Options, catalogue bool) (*harness, []*scenarios.Scenario, error) {
	if opts.Timeout <= 0 {
		opts.Timeout = 10 * time.Second
	}
	if opts.Parallel <= 0 {
		opts.Parallel = 4 * runtime.GOMAXPROCS(0)
	}
	if opts.RemoteMode == "" {
		opts.RemoteMode = "verify"
	}
	h := &harness{opts: opts, logger: opts.Logger}
	if h.logger == nil {
		h.logger = slog.New(slog.DiscardHandler)
	}
	ok := false
	defer func() {
		if !ok {
			h.cleanup()
		}
	}()
	var err error
	if h.work = opts.WorkDir; h.work == "" {
		if h.work, err = os.MkdirTemp("", "albmtls-conformance-"); err != nil {
			return nil, nil, err
		}
	} else if err := os.MkdirAll(h.work, 0o755); err != nil {
		return nil, nil, err
	}
	if err := h.loadPKI(); err != nil {
		return nil, nil, err
	}
	list := opts.Scenarios
	if list == nil && catalogue {
		if list, err = scenarios.Catalogue(); err != nil {
			return nil, nil, err
		}
	}
	list, err = scenarios.Resolve(list, scenarios.PKINames{Clients: h.set.ClientNames(), CAs: h.set.CANames()})
	if err != nil {
		return nil, nil, fmt.Errorf("the scenarios do not fit the PKI %s:\n%w", h.pkiDir, err)
	}
	if list = scenarios.Select(list, opts.Run); len(list) == 0 && catalogue {
		return nil, nil, fmt.Errorf("no scenario matches --run %q", opts.Run)
	}
	h.roots = x509.NewCertPool()
	if opts.Target != "" {
		if sys, err := x509.SystemCertPool(); err == nil {
			h.roots = sys
		}
		if h.remote, err = newRemote(opts); err != nil {
			return nil, nil, err
		}
		h.remote.h = h
	}
	h.roots.AppendCertsFromPEM(h.set.Bundle())
	echo := "127.0.0.1:0"
	if h.remote != nil {
		echo = opts.EchoListen
		if echo == "" {
			echo = "127.0.0.1:9001"
		}
	}
	if h.servers, err = startServers(echo); err != nil {
		return nil, nil, err
	}
	ok = true
	return h, list, nil
}

func (h *harness) loadPKI() error {
	if h.opts.PKIDir != "" {
		set, err := pki.Load(h.opts.PKIDir)
		if err != nil {
			return fmt.Errorf("loading the PKI (--pki): %w", err)
		}
		abs, err := filepath.Abs(h.opts.PKIDir)
		if err != nil {
			return err
		}
		h.set, h.pkiDir = set, abs
		return nil
	}
	set, err := pki.Generate(pki.GenerateOptions{})
	if err != nil {
		return fmt.Errorf("generating a throw-away PKI: %w", err)
	}
	dir := filepath.Join(h.work, "pki")
	if err := set.WriteDir(dir, false); err != nil {
		return fmt.Errorf("writing the throw-away PKI: %w", err)
	}
	h.set, h.pkiDir, h.pkiTemp = set, dir, h.opts.WorkDir == ""
	return nil
}

func (h *harness) cleanup() {
	if h.servers != nil {
		h.servers.close()
	}
	if h.opts.WorkDir == "" && h.work != "" {
		_ = os.RemoveAll(h.work)
	}
}

// runAll runs scenarios in parallel (those that change a shared remote
// trust store alone, afterwards) and returns the results in catalogue
// order.
func (h *harness) runAll(ctx context.Context, list []*scenarios.Scenario, run func(context.Context, *scenarios.Scenario) *Result) []*Result {
	results := make([]*Result, len(list))
	var (
		mu   sync.Mutex
		prog = Progress{Total: len(list)}
	)
	report := func(i int, r *Result) {
		mu.Lock()
		defer mu.Unlock()
		results[i] = r
		prog.Done++
		switch r.Status {
		case StatusPass:
			prog.Passed++
		case StatusFail:
			prog.Failed++
		case StatusSkip:
			prog.Skipped++
		}
		prog.Last = r
		if h.opts.Progress != nil {
			h.opts.Progress(prog)
		}
	}
	var exclusive []int
	sem := make(chan struct{}, h.opts.Parallel)
	var wg sync.WaitGroup
	for i, s := range list {
		if h.remote != nil && hasRevoke(s) {
			exclusive = append(exclusive, i)
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				report(i, cancelled(s, ctx.Err()))
				return
			}
			defer func() { <-sem }()
			report(i, run(ctx, s))
		}()
	}
	wg.Wait()
	for _, i := range exclusive {
		report(i, run(ctx, list[i]))
	}
	return results
}

func hasRevoke(s *scenarios.Scenario) bool {
	for _, st := range s.Steps {
		if len(st.Revoke) > 0 {
			return true
		}
	}
	return false
}

func newResult(s *scenarios.Scenario) *Result {
	return &Result{Name: s.Name, File: s.File, Description: s.Description, Reference: s.Source.Reference, URL: s.Source.URL, Basis: s.Basis}
}

func cancelled(s *scenarios.Scenario, err error) *Result {
	r := newResult(s)
	r.Status, r.Reason = StatusFail, "the run was cancelled before this scenario: "+err.Error()
	return r
}

// balancer is where a scenario's steps run.
type balancer interface {
	// base returns the listener's URL and TLS server name, or why it is
	// not available.
	base(listener string) (url, serverName, unavailable string)
	// logs returns the log lines of the connection the outcome used.
	logs(ctx context.Context, o *outcome, wantAccess int) logs
	// revoke adds client certificates to the trust store at run time.
	revoke(ctx context.Context, names []string) (string, error)
	close()
}

// runScenario runs one scenario in-process or against the remote target.
func (h *harness) runScenario(ctx context.Context, s *scenarios.Scenario) *Result {
	started := time.Now()
	res := newResult(s)
	defer func() { res.Duration = time.Since(started) }()
	ctx, cancel := context.WithTimeout(ctx, time.Duration(len(s.Steps)+2)*3*h.opts.Timeout)
	defer cancel()

	var lb balancer
	if h.remote != nil {
		if why := h.remote.skip(s); why != "" {
			res.Status, res.Reason = StatusSkip, why
			return res
		}
		lb = h.remote.forScenario()
	} else {
		targets := targetAddrs{echo: h.servers.echoAddr, refused: h.servers.refused, silent: h.servers.silent.Addr().String(),
			backend: h.backendAddr, backendProtocol: h.backendProto, lambda: h.servers.lambdaAddr}
		local, loadErr, err := h.startLocal(ctx, s, res, targets)
		if want := s.LoadError(); want != "" {
			h.checkLoadError(res, want, local, loadErr, err)
			return res
		}
		switch {
		case err != nil:
			res.Status, res.Reason = StatusFail, err.Error()
			return res
		case loadErr != nil:
			res.Status, res.Reason = StatusFail, "the setup did not load: "+loadErr.Error()
			return res
		}
		lb = local
	}
	defer lb.close()
	h.runSteps(ctx, s, lb, res)
	res.finish()
	return res
}

// checkLoadError judges a scenario whose setup ALB must refuse.
func (h *harness) checkLoadError(res *Result, want string, lb *localLB, loadErr, err error) {
	rec := &StepRecord{Index: 1}
	res.Steps = []*StepRecord{rec}
	switch {
	case err != nil:
		res.Status, res.Reason = StatusFail, err.Error()
		return
	case loadErr == nil:
		lb.close()
		rec.Checks = []Check{{Name: "load_error", Expected: "the setup refused with " + want, Seen: "the emulator started"}}
	default:
		msg := loadErr.Error()
		rec.Error = msg
		rec.Checks = []Check{{Name: "load_error", Expected: want, Seen: msg, OK: containsWord(msg, want)}}
	}
	res.finish()
}

func containsWord(s, word string) bool {
	return regexp.MustCompile(`\b` + regexp.QuoteMeta(word) + `\b`).MatchString(s)
}

// runSteps runs the steps in order; a failed revocation stops the scenario.
func (h *harness) runSteps(ctx context.Context, s *scenarios.Scenario, lb balancer, res *Result) {
	for i, st := range s.Steps {
		rec := &StepRecord{Index: i + 1}
		res.Steps = append(res.Steps, rec)
		if len(st.Revoke) > 0 {
			names := make([]string, len(st.Revoke))
			for j, n := range st.Revoke {
				names[j] = n.Value
			}
			desc, err := lb.revoke(ctx, names)
			rec.Revoke = "revoke " + fmt.Sprint(names) + ": " + desc
			if err != nil {
				rec.Revoke = "revoke " + fmt.Sprint(names)
				rec.Checks = []Check{{Name: "revoke", Expected: "the revocation accepted", Seen: err.Error(), CouldNotRun: true}}
				return
			}
			rec.Checks = []Check{{Name: "revoke", Expected: "the revocation accepted", Seen: "accepted", OK: true}}
			continue
		}
		h.runRequest(ctx, s, st, lb, rec)
	}
}

func (h *harness) runRequest(ctx context.Context, s *scenarios.Scenario, st scenarios.Step, lb balancer, rec *StepRecord) {
	client := s.ClientOf(st)
	listener, version := "https", ""
	if st.Client != nil {
		if st.Client.Listener != "" {
			listener = st.Client.Listener
		}
		version = st.Client.TLSVersion
	}
	rec.Client, rec.TLSVersion = client, version
	base, serverName, unavailable := lb.base(listener)
	if unavailable != "" {
		rec.Checks = []Check{{Name: "listener", Expected: "the " + listener + " listener", Seen: unavailable, CouldNotRun: true}}
		return
	}
	r := request{base: base, serverName: serverName, version: version, roots: h.roots, method: "GET", path: "/", timeout: h.opts.Timeout}
	if h.remote != nil && listener == "https" && h.opts.ServerName != "" {
		r.serverName = h.opts.ServerName
	}
	if client != "" {
		leaf, ok := h.set.Client(client)
		if !ok {
			rec.Checks = []Check{{Name: "client", Expected: "client certificate " + client, Seen: "not in the PKI", CouldNotRun: true}}
			return
		}
		cert := leaf.TLSCertificate()
		r.cert = &cert
	}
	u, _ := url.Parse(base)
	host, port, _ := net.SplitHostPort(u.Host)
	vc := valueCtx{set: h.set, client: client, listenerHost: host, listenerPort: port}
	if req := st.Request; req != nil {
		if req.Method != "" {
			r.method = req.Method
		}
		if req.Path != "" {
			r.path = req.Path
		}
		for _, name := range sortedKeys(req.Headers) {
			m, err := vc.resolve(req.Headers[name])
			if err != nil {
				rec.Checks = []Check{{Name: "request.headers." + name, Expected: req.Headers[name].String(), Seen: err.Error(), CouldNotRun: true}}
				return
			}
			r.headers = append(r.headers, [2]string{name, m.value})
		}
	}
	rec.Request = r.method + " " + base + r.path
	out := send(ctx, r)
	vc.out = &out
	want := 0
	if e := st.Expect; e.AccessLogEntries != nil {
		want = *e.AccessLogEntries
	} else if len(e.AccessLog) > 0 {
		want = 1
	}
	lg := lb.logs(ctx, &out, want)
	rec.Handshake, rec.Error = out.handshake, out.err
	if out.version != "" {
		rec.Negotiated = out.version + " " + out.cipher
	}
	if out.handshake == outcomeAccepted {
		rec.Status, rec.ResponseHeaders, rec.Body = out.status, out.header, out.bodyExcerpt()
	}
	if out.echo != nil {
		rec.TargetHeaders = out.echo.Headers
	}
	rec.ConnLogLine, rec.AccessLog = lg.conn, lg.access
	rec.Checks = compare(st.Expect, vc, lg)
}
