package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/albmtls/albmtls/conformance"
	"github.com/albmtls/albmtls/emulator/config"
	"github.com/albmtls/albmtls/emulator/listener"
	"github.com/albmtls/albmtls/internal/enum"
	"github.com/albmtls/albmtls/pki"
	"github.com/albmtls/albmtls/scenarios"
)

// conformanceConfig is what `albmtls conformance` was asked to do.
type conformanceConfig struct {
	opts      conformance.Options
	run       string
	sets      []string
	scenarios string
	junit     string
	report    string
	backend   string
	expect    string
	list      bool
	json      bool
	printCfg  bool
	quiet     bool
	// failedOnly is --report-failed-only.
	failedOnly bool
}

func newConformanceCmd(a *app) *cobra.Command {
	var cfg conformanceConfig
	cmd := &cobra.Command{
		Use:   "conformance [--target URL] [--pki DIR] [--junit FILE] [--report FILE] [--run REGEXP]",
		Short: "Run the scenario catalogue against the emulator, any endpoint or your backend",
		Long: `Run the scenario catalogue: every emulated ALB behaviour as a named case with
its setup, the client's certificate and request, and the expected handshake,
HTTP status, headers at the target and log fields, each citing its source.

By default each scenario runs against its own in-process emulator, over a
throw-away PKI (or --pki DIR). With --target the catalogue runs against a
running emulator or a real ALB: register the harness's echo target
(--echo-listen) as the only target behind the listener; scenarios whose setup
the harness cannot impose on a remote target are skipped with the reason.

With --backend the harness plays the ALB in front of your backend: each
identity goes through the in-process emulator, with ALB's headers, to your
backend, whose answers are checked against --expect FILE (default: member
allowed, outsider 403, missing or spoofed headers refused).

Writes a progress line on stderr, a summary table on stdout, JUnit XML with
--junit (a scenario that could not run is an <error>, one whose outcome
differed a <failure>) and a Markdown (or, for *.html, HTML) report with
--report, which opens on the failures. Under GitHub Actions
(GITHUB_ACTIONS=true) each failure is also an ::error annotation on stdout,
and the Markdown summary is appended to $GITHUB_STEP_SUMMARY when it is set.
The exit
status is 1 when any scenario failed, 2 when the flags, --pki, --scenarios or
--expect cannot be used. --list --json prints the catalogue as a JSON array
of {name, description, basis, reference, url, file}.`,
		Example: `  albmtls conformance --junit out.xml --report out.md
  albmtls conformance --run 'verify-rejects-.*'
  albmtls conformance --list --json | jq -r '.[].name'
  albmtls conformance --set emulation.strip_client_headers=false   # break one behaviour on purpose
  albmtls conformance --target https://127.0.0.1:8443 --pki pki --echo-listen 127.0.0.1:9001 \
      --connection-log logs/conn.log --admin http://127.0.0.1:9090
  albmtls conformance --backend http://127.0.0.1:9001/ --expect expect.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runConformance(cmd.Context(), a, cfg)
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.opts.Target, "target", "", "`URL` of the HTTPS listener of a running emulator or a real ALB (default: in-process)")
	f.StringVar(&cfg.opts.HTTPTarget, "http-target", "", "`URL` of the same load balancer's HTTP listener, for the redirect scenarios")
	f.StringVar(&cfg.opts.RemoteMode, "mode", "verify", "mutual authentication `MODE` of the --target listener (off, passthrough, verify)")
	f.StringVar(&cfg.opts.ServerName, "server-name", "", "TLS server `NAME` for --target (default: its host)")
	f.StringVar(&cfg.opts.EchoListen, "echo-listen", "127.0.0.1:9001", "`ADDR` where the echo target listens for --target runs")
	f.StringVar(&cfg.opts.ConnectionLog, "connection-log", "", "the --target emulator's connection log `FILE`, to check tls_verify_status")
	f.StringVar(&cfg.opts.AccessLog, "access-log", "", "the --target emulator's access log `FILE`")
	f.StringVar(&cfg.opts.Admin, "admin", "", "the --target emulator's admin endpoint `URL` (http://HOST:PORT), for runtime revocation")
	f.StringVar(&cfg.opts.TrustStore, "trust-store", "", "trust store `NAME` behind --admin (default: its only one)")
	f.StringVar(&cfg.opts.AdminToken, "admin-token", os.Getenv(config.AdminTokenEnv), "the --admin endpoint's bearer `TOKEN` (admin.token; default $"+config.AdminTokenEnv+")")
	f.StringVar(&cfg.opts.PKIDir, "pki", "", "PKI `DIR` from albmtls pki init (default: a throw-away PKI)")
	f.StringVar(&cfg.scenarios, "scenarios", "", "`DIR` of scenario files to run instead of the built-in catalogue")
	f.StringVar(&cfg.run, "run", "", "run only the scenarios whose name matches this `REGEXP`")
	f.StringVar(&cfg.junit, "junit", "", "write JUnit XML to `FILE`")
	f.StringVar(&cfg.report, "report", "", "write a Markdown report (HTML when FILE ends in .html) to `FILE`")
	f.BoolVar(&cfg.failedOnly, "report-failed-only", false, "list only the failed scenarios in the --report and $GITHUB_STEP_SUMMARY tables")
	f.StringVar(&cfg.backend, "backend", "", "test your backend at `URL` with the in-process emulator in front of it")
	f.StringVar(&cfg.expect, "expect", "", "expectation `FILE` for --backend (YAML; see docs/conformance.md)")
	f.StringArrayVar(&cfg.sets, "set", nil, "change a key of every generated config, `PATH=VALUE` (repeatable), e.g. emulation.strip_client_headers=false")
	f.IntVar(&cfg.opts.Parallel, "parallel", 0, "`N` scenarios run at once (default 4 per CPU)")
	f.DurationVar(&cfg.opts.Timeout, "timeout", 10*time.Second, "timeout of every network step")
	f.StringVar(&cfg.opts.WorkDir, "keep", "", "keep the generated PKI and configs in `DIR`")
	f.BoolVar(&cfg.list, "list", false, "list the scenarios with their source and basis, and exit")
	f.BoolVar(&cfg.json, "json", false, "with --list: print the catalogue as JSON")
	f.BoolVar(&cfg.printCfg, "print-target-config", false, "print an albmtls.yaml for albmtls serve that offers the --target setup of --mode (needs --pki), and exit")
	f.BoolVarP(&cfg.quiet, "quiet", "q", false, "no progress line")
	completeValues(cmd, "mode", modeNames(listener.Modes)...)
	_ = cmd.RegisterFlagCompletionFunc("run", completeScenarios)
	for _, n := range []string{"pki", "scenarios", "keep"} {
		completeDirs(cmd, n)
	}
	completeFiles(cmd, "expect", extYAML...)
	completeFiles(cmd, "junit", "xml")
	completeFiles(cmd, "report", "md", "html")
	completeFiles(cmd, "connection-log", "log")
	completeFiles(cmd, "access-log", "log")
	return cmd
}

func runConformance(ctx context.Context, a *app, cfg conformanceConfig) error {
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt)
	defer stop()
	if err := cfg.validate(); err != nil {
		return usageError(err)
	}
	if cfg.run != "" {
		re, err := regexp.Compile(cfg.run)
		if err != nil {
			return usageErrorf("--run %q: %v", cfg.run, err)
		}
		cfg.opts.Run = re
	}
	for _, s := range cfg.sets {
		st, err := conformance.ParseSetting(s)
		if err != nil {
			return usageError(err)
		}
		cfg.opts.Set = append(cfg.opts.Set, st)
	}
	if cfg.scenarios != "" {
		list, err := scenarios.LoadDir(cfg.scenarios)
		if err != nil {
			return configError(err)
		}
		cfg.opts.Scenarios = list
	}
	if cfg.opts.PKIDir != "" {
		// conformance.Run would say the same, but as a failed run (1).
		if _, err := pki.Load(cfg.opts.PKIDir); err != nil {
			return configError(fmt.Errorf("loading the PKI (--pki): %w", err))
		}
	}
	if cfg.printCfg {
		if cfg.opts.PKIDir == "" {
			return usageError(errors.New("--print-target-config needs --pki DIR: the running emulator and the harness must share the PKI"))
		}
		data, err := conformance.TargetConfig{PKIDir: cfg.opts.PKIDir, Mode: cfg.opts.RemoteMode, Echo: cfg.opts.EchoListen,
			HTTPSPort: 8443, HTTPPort: 8080, ConnectionLog: "logs/conn.log", AccessLog: "logs/access.log", Admin: "127.0.0.1:9090"}.YAML()
		if err != nil {
			return err
		}
		_, err = a.stdout.Write(data)
		return err
	}
	if cfg.list {
		return listScenarios(a.stdout, cfg.opts, cfg.json)
	}
	// One emulator per scenario makes the operational log noisy: show only
	// its errors, unless --log-level debug asks for everything.
	cfg.opts.Logger = a.logger()
	if a.logLevel.Level() > slog.LevelDebug {
		cfg.opts.Logger = a.loggerAt(slog.LevelError)
	}
	if !cfg.quiet {
		cfg.opts.Progress = progressPrinter(a.stderr)
	}

	var (
		rep *conformance.Report
		err error
	)
	if cfg.backend != "" {
		var e *conformance.BackendExpect
		if cfg.expect != "" {
			if e, err = conformance.LoadBackendExpect(cfg.expect); err != nil {
				return configError(err)
			}
		}
		rep, err = conformance.RunBackend(ctx, cfg.opts, cfg.backend, e)
	} else {
		rep, err = conformance.Run(ctx, cfg.opts)
	}
	if err != nil {
		return err
	}
	rep.FailedOnly = cfg.failedOnly
	if err := rep.WriteSummary(a.stdout); err != nil {
		return err
	}
	if err := rep.PublishGitHub(conformance.GitHubFromEnv(os.Getenv), a.stdout); err != nil {
		return err
	}
	if cfg.junit != "" {
		if err := writeReportFile(cfg.junit, rep.WriteJUnit); err != nil {
			return err
		}
	}
	if cfg.report != "" {
		write := rep.WriteMarkdown
		if ext := strings.ToLower(filepath.Ext(cfg.report)); ext == ".html" || ext == ".htm" {
			write = rep.WriteHTML
		}
		if err := writeReportFile(cfg.report, write); err != nil {
			return err
		}
	}
	if rep.Failed() {
		return silentExit(1)
	}
	return nil
}

func (cfg conformanceConfig) validate() error {
	switch {
	case cfg.backend != "" && cfg.opts.Target != "":
		return errors.New("--backend and --target exclude each other: --backend puts the in-process emulator in front of your backend")
	case cfg.expect != "" && cfg.backend == "":
		return errors.New("--expect belongs to --backend")
	case cfg.backend != "" && cfg.scenarios != "":
		return errors.New("--scenarios does not apply to --backend: its cases come from --expect")
	case cfg.opts.Target == "" && (cfg.opts.HTTPTarget != "" || cfg.opts.ConnectionLog != "" || cfg.opts.AccessLog != "" || cfg.opts.Admin != ""):
		return errors.New("--http-target, --connection-log, --access-log and --admin describe a --target; without --target the catalogue runs in-process")
	case cfg.opts.Target != "" && len(cfg.sets) > 0:
		return errors.New("--set changes the configs of the in-process emulator; it cannot change a --target")
	case cfg.opts.Timeout <= 0:
		return errors.New("--timeout must be positive")
	case cfg.json && !cfg.list:
		return errors.New("--json belongs to --list; the run's machine-readable output is --junit FILE")
	case !slices.Contains(modeNames(listener.Modes), cfg.opts.RemoteMode):
		return fmt.Errorf("--mode %q: use %s", cfg.opts.RemoteMode, enum.List(listener.Modes, ", ", " or "))
	}
	return nil
}

// writeReportFile writes a report through a temporary file, so a failed
// write never leaves half a report.
func writeReportFile(file string, write func(io.Writer) error) error {
	var buf bytes.Buffer
	if err := write(&buf); err != nil {
		return fmt.Errorf("formatting %s: %w", file, err)
	}
	tmp := file + ".tmp"
	if err := os.WriteFile(tmp, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", file, err)
	}
	if err := os.Rename(tmp, file); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("writing %s: %w", file, err)
	}
	return nil
}

// listScenarios prints the catalogue without running it.
func listScenarios(w io.Writer, opts conformance.Options, asJSON bool) error {
	sess, err := conformance.Open(opts)
	if err != nil {
		return configError(err)
	}
	defer sess.Close()
	if asJSON {
		return writeJSON(w, scenarioList(sess.Scenarios()))
	}
	for _, s := range sess.Scenarios() {
		fmt.Fprintf(w, "%-70s %s  %s\n", s.Name, s.Basis, s.Source.Reference)
	}
	fmt.Fprintf(w, "%d scenarios\n", len(sess.Scenarios()))
	return nil
}

// progressPrinter shows a live progress line on a terminal; elsewhere (CI
// logs) it prints one line per failed scenario as it happens.
func progressPrinter(w io.Writer) func(conformance.Progress) {
	tty := false
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			tty = true
		}
	}
	return func(p conformance.Progress) {
		if tty {
			fmt.Fprintf(w, "\r\033[K[%d/%d] %d passed, %d failed, %d skipped  %s", p.Done, p.Total, p.Passed, p.Failed, p.Skipped, p.Last.Name)
			if p.Done == p.Total {
				fmt.Fprintln(w)
			}
			return
		}
		if p.Last.Status == conformance.StatusFail {
			fmt.Fprintf(w, "[%d/%d] FAIL %s: %s\n", p.Done, p.Total, p.Last.Name, p.Last.Message())
		}
		if p.Done == p.Total {
			fmt.Fprintf(w, "[%d/%d] done: %d passed, %d failed, %d skipped\n", p.Done, p.Total, p.Passed, p.Failed, p.Skipped)
		}
	}
}
