package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/albmtls/albmtls/bench/compare"
	"github.com/albmtls/albmtls/bench/loadgen"
	"github.com/albmtls/albmtls/bench/servers"
	"github.com/albmtls/albmtls/bench/soak"
)

func newBenchCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Load-test an mTLS endpoint, or compare albmtls with nginx and HAProxy",
		Long: `bench measures mutual-TLS performance on this machine (loopback only).

  albmtls bench load URL --cert C --key K   drive one endpoint: a new connection
                                           (full mTLS handshake) per request, or
                                           kept-alive requests
  albmtls bench compare                    the comparison behind make bench:
                                           albmtls, nginx, HAProxy and a bare
                                           crypto/tls server, equivalently
                                           configured, in alternating rounds
  albmtls bench soak                       the fault and load suite behind
                                           make soak (see RELIABILITY.md)

See BENCHMARKS.md.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newBenchLoadCmd(a), newBenchCompareCmd(a), newBenchSoakCmd(a), newBenchBackendCmd(a), newBenchCeilingCmd(a))
	return cmd
}

// signalContext ends on SIGINT or SIGTERM, so that a benchmark stops its
// workers and child processes cleanly.
func signalContext(cmd *cobra.Command) (context.Context, context.CancelFunc) {
	return signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
}

func newBenchLoadCmd(a *app) *cobra.Command {
	var (
		certFile, keyFile, caFile, mode string
		headers                         []string
		asJSON                          bool
		cfg                             loadgen.Config
	)
	cmd := &cobra.Command{
		Use:   "load URL --cert FILE --key FILE",
		Short: "Drive an HTTPS endpoint with a client certificate and report requests/s and latency",
		Long: `load sends GET requests to URL from --concurrency workers for --duration
(or until --requests succeeded), each worker with one request in flight,
and prints requests per second, latency percentiles and errors. Non-2xx
answers count as errors; the exit status is 1 when any request failed, 2
when a flag, the URL or a certificate file cannot be used. --json prints the
result as one JSON object (fields in BENCHMARKS.md).

  --mode handshake   a new connection per request: TCP, a full TLS 1.3
                     handshake with the client certificate (never resumed),
                     one request with Connection: close
  --mode keepalive   one kept-alive connection per worker, opened before
                     the clock starts

Only loopback targets are accepted (127.0.0.1, ::1, localhost). Without
--ca the server's certificate is not verified.`,
		Example: `  albmtls bench load https://127.0.0.1:8443/ --cert pki/clients/valid-chain.pem --key pki/clients/valid-key.pem
  albmtls bench load https://localhost:8443/ --cert pki/clients/valid-chain.pem --key pki/clients/valid-key.pem \
      --ca pki/ca/bundle.pem --mode keepalive -c 64 -d 30s`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg.URL = args[0]
			m, err := loadgen.ParseMode(mode)
			if err != nil {
				return usageError(err)
			}
			cfg.Mode = m
			if err := checkLoopbackURL(cfg.URL); err != nil {
				return usageError(err)
			}
			if (certFile == "") != (keyFile == "") {
				return usageError(errors.New("--cert and --key go together: pass the client's chain (e.g. pki/clients/valid-chain.pem) and its key"))
			}
			if certFile != "" {
				cert, err := tls.LoadX509KeyPair(certFile, keyFile)
				if err != nil {
					return configError(fmt.Errorf("loading the client certificate %s with key %s: %w", certFile, keyFile, err))
				}
				cfg.Certificate = &cert
			}
			if caFile != "" {
				pem, err := os.ReadFile(caFile)
				if err != nil {
					return configError(fmt.Errorf("reading --ca: %w", err))
				}
				cfg.RootCAs = x509.NewCertPool()
				if !cfg.RootCAs.AppendCertsFromPEM(pem) {
					return configError(fmt.Errorf("--ca %s holds no PEM certificate", caFile))
				}
			}
			if cfg.Header, err = parseHeaders(headers); err != nil {
				return usageError(err)
			}
			ctx, stop := signalContext(cmd)
			defer stop()
			res, err := loadgen.Run(ctx, cfg)
			if err != nil {
				return err
			}
			if asJSON {
				if err := writeJSON(a.stdout, loadReport(cfg.URL, res)); err != nil {
					return err
				}
			} else {
				printResult(a.stdout, res)
			}
			if res.Errors > 0 {
				return silentExit(1)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&certFile, "cert", "", "client certificate chain `FILE` (PEM), e.g. pki/clients/valid-chain.pem")
	f.StringVar(&keyFile, "key", "", "client private key `FILE` (PEM)")
	f.StringVar(&caFile, "ca", "", "verify the server against the CAs in `FILE` (PEM); default: no verification")
	f.StringVar(&mode, "mode", string(loadgen.ModeHandshake), "`MODE`: handshake (new connection per request) or keepalive")
	f.BoolVar(&asJSON, "json", false, "print the result as JSON (fields in BENCHMARKS.md)")
	f.IntVarP(&cfg.Concurrency, "concurrency", "c", loadgen.DefaultConcurrency, "`N` workers, each with one request in flight")
	f.DurationVarP(&cfg.Duration, "duration", "d", loadgen.DefaultDuration, fmt.Sprintf("how long to run (at most %s)", loadgen.MaxDuration))
	f.Int64VarP(&cfg.Requests, "requests", "n", 0, "stop after `N` requests (0: run for --duration)")
	f.DurationVar(&cfg.Timeout, "timeout", loadgen.DefaultTimeout, "bound on one request, connection and handshake included")
	f.StringVar(&cfg.ServerName, "server-name", "", "TLS server `NAME` (SNI); default: the URL's host")
	f.StringArrayVarP(&headers, "header", "H", nil, "extra request `HEADER` \"Name: value\", repeatable")
	completeValues(cmd, "mode", string(loadgen.ModeHandshake), string(loadgen.ModeKeepAlive))
	for _, n := range []string{"cert", "key", "ca"} {
		completeFiles(cmd, n, extPEM...)
	}
	return cmd
}

// checkLoopbackURL refuses, as a usage error, a URL that loadgen would
// refuse before sending anything: not http(s), or an IP literal that is
// not loopback. Names are resolved (and checked) by loadgen.
func checkLoopbackURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("URL %q: %w", raw, err)
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return fmt.Errorf("URL %q: scheme must be https (or http for a plain baseline)", raw)
	}
	if ip, err := netip.ParseAddr(u.Hostname()); err == nil && !ip.IsLoopback() {
		return fmt.Errorf("%s is not a loopback address; the load generator only targets this machine (127.0.0.1, ::1 or localhost)", ip)
	}
	return nil
}

func parseHeaders(hs []string) (map[string][]string, error) {
	out := map[string][]string{}
	for _, h := range hs {
		k, v, ok := strings.Cut(h, ":")
		if !ok || strings.TrimSpace(k) == "" {
			return nil, fmt.Errorf("--header %q: use \"Name: value\"", h)
		}
		k = strings.TrimSpace(k)
		out[k] = append(out[k], strings.TrimSpace(v))
	}
	return out, nil
}

func printResult(w io.Writer, r *loadgen.Result) {
	what := map[loadgen.Mode]string{
		loadgen.ModeHandshake: "a new connection and full handshake per request",
		loadgen.ModeKeepAlive: "requests on kept-alive connections",
	}[r.Mode]
	fmt.Fprintf(w, "mode         %s (%s)\n", r.Mode, what)
	fmt.Fprintf(w, "concurrency  %d\n", r.Concurrency)
	fmt.Fprintf(w, "requests     %d ok, %d errors in %s\n", r.Requests, r.Errors, r.Elapsed.Round(time.Millisecond))
	fmt.Fprintf(w, "rate         %.1f requests/s\n", r.RPS)
	fmt.Fprintf(w, "latency      p50 %s  p90 %s  p99 %s  max %s  mean %s\n", r.P50, r.P90, r.P99, r.Max, r.Mean)
	if r.TLSVersion != 0 {
		resumed := "none resumed"
		if r.DidResume {
			resumed = "SOME RESUMED"
		}
		fmt.Fprintf(w, "tls          %s %s %s; %d handshakes, %s\n", tls.VersionName(r.TLSVersion), tls.CipherSuiteName(r.CipherSuite), r.CurveID, r.Handshakes, resumed)
	}
	kinds := make([]string, 0, len(r.ErrorKinds))
	for k := range r.ErrorKinds {
		kinds = append(kinds, k)
	}
	slices.Sort(kinds)
	for _, k := range kinds {
		fmt.Fprintf(w, "error        %d × %s\n", r.ErrorKinds[k], k)
	}
}

func newBenchCompareCmd(a *app) *cobra.Command {
	var (
		cfg       compare.Config
		servers   []string
		scenarios []string
		out       string
	)
	names := func(ss []compare.Scenario) string {
		var n []string
		for _, s := range ss {
			n = append(n, s.Name)
		}
		return strings.Join(n, ",")
	}
	cmd := &cobra.Command{
		Use:   "compare",
		Short: "Compare albmtls with nginx and HAProxy on this machine (make bench)",
		Long: `compare generates one PKI, configures albmtls, nginx and HAProxy
equivalently (client certificates verified against the same CA bundle and
CRLs, the same ECDSA P-256 server certificate, TLS 1.3, the same local
backend, the client certificate forwarded in headers), adds a bare
crypto/tls server as the ceiling, and runs each scenario on each server in
alternation for several rounds. It prints progress on stderr and a table of
medians with the ratios albmtls/nginx and albmtls/HAProxy on stdout.

nginx and HAProxy come from the system (make bench-proxies installs them
with apt-get). Every process it starts listens on 127.0.0.1 and is stopped
when it ends.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			exe, err := os.Executable()
			if err != nil {
				return fmt.Errorf("finding the albmtls binary to run the servers: %w", err)
			}
			if !slices.Contains(servers, compare.ALBMTLS) {
				return usageErrorf("--servers %s: the comparison must include albmtls", strings.Join(servers, ","))
			}
			cfg.Exe, cfg.Servers, cfg.Scenarios, cfg.Progress = exe, servers, scenarios, a.stderr
			ctx, stop := signalContext(cmd)
			defer stop()
			rep, err := compare.Run(ctx, cfg)
			if err != nil {
				return err
			}
			rep.WriteTable(a.stdout)
			if out != "" {
				f, err := os.Create(out)
				if err != nil {
					return fmt.Errorf("writing the table: %w", err)
				}
				rep.WriteTable(f)
				return f.Close()
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringSliceVar(&servers, "servers", compare.AllServers, "`SERVERS` to compare: albmtls plus any of nginx, haproxy, ceiling, relay")
	f.StringSliceVar(&scenarios, "scenarios", nil, "`SCENARIOS` (default all): "+names(compare.Scenarios))
	f.IntVar(&cfg.Rounds, "rounds", 3, "`N` rounds of alternation")
	f.DurationVarP(&cfg.Duration, "duration", "d", 5*time.Second, "length of one measured run")
	f.DurationVar(&cfg.Warmup, "warmup", time.Second, "unmeasured run per server and scenario before the rounds (negative: none)")
	f.IntVarP(&cfg.Concurrency, "concurrency", "c", 32, "`N` load generator workers, the same for every server")
	f.IntVar(&cfg.Slices, "slices", 5, "`N` parts of each run, alternated with the other CRL variant on the same server")
	f.StringVar(&cfg.WorkDir, "work-dir", "", "`DIR` for the PKI, configurations and logs (default: a temporary one)")
	f.BoolVar(&cfg.Keep, "keep", false, "keep the temporary work directory")
	f.StringVarP(&out, "output", "o", "", "also write the table (Markdown) to `FILE`")
	completeValues(cmd, "servers", compare.AllServers...)
	completeDirs(cmd, "work-dir")
	completeFiles(cmd, "output", "md")
	return cmd
}

// newBenchBackendCmd is the comparison's backend, a child process of
// compare; hidden because it is no sample backend (see albmtls backend).
func newBenchBackendCmd(a *app) *cobra.Command {
	var listen string
	cmd := &cobra.Command{
		Use:    "backend --listen 127.0.0.1:PORT",
		Short:  "The comparison's backend: 200 ok, echoing the client certificate headers",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return serveBench(cmd, a, listen, servers.Backend(), nil)
		},
	}
	cmd.Flags().StringVar(&listen, "listen", "127.0.0.1:0", "address to listen on")
	return cmd
}

// newBenchCeilingCmd is the comparison's ceiling server, a child process
// of compare.
func newBenchCeilingCmd(a *app) *cobra.Command {
	var listen, cert, key, ca, backend string
	var relay bool
	cmd := &cobra.Command{
		Use:    "ceiling --listen 127.0.0.1:PORT --cert CHAIN --key KEY --ca BUNDLE [--backend HOST:PORT]",
		Short:  "The comparison's ceiling: a bare crypto/tls mTLS server, forwarding with httputil.ReverseProxy or answering by itself",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			tc, err := servers.CeilingTLS(cert, key, ca)
			if err != nil {
				return err
			}
			if relay {
				if backend == "" {
					return usageErrorf("--relay needs --backend HOST:PORT")
				}
				return listenBench(cmd, a, listen, func(ctx context.Context, ln net.Listener) error {
					return servers.Relay(ctx, ln, tc, backend)
				})
			}
			h := servers.Ceiling()
			if backend != "" {
				h = servers.CeilingForward(backend)
			}
			return serveBench(cmd, a, listen, h, tc)
		},
	}
	f := cmd.Flags()
	f.StringVar(&listen, "listen", "127.0.0.1:0", "address to listen on")
	f.StringVar(&cert, "cert", "", "server certificate chain (PEM)")
	f.StringVar(&key, "key", "", "server private key (PEM)")
	f.StringVar(&ca, "ca", "", "CA bundle that client certificates must chain to (PEM)")
	f.StringVar(&backend, "backend", "", "forward every request to this backend (host:port), as the proxies do; without it the ceiling answers by itself")
	f.BoolVar(&relay, "relay", false, "relay requests over a backend connection per client connection with no HTTP library (the keep-alive floor of a Go proxy; needs --backend)")
	return cmd
}

func serveBench(cmd *cobra.Command, a *app, listen string, h http.Handler, tc *tls.Config) error {
	return listenBench(cmd, a, listen, func(ctx context.Context, ln net.Listener) error {
		return servers.Serve(ctx, ln, h, tc)
	})
}

// listenBench listens on listen, says where, and runs serve until a signal
// ends its context.
func listenBench(cmd *cobra.Command, a *app, listen string, serve func(context.Context, net.Listener) error) error {
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return fmt.Errorf("cannot listen on %s: %w", listen, err)
	}
	fmt.Fprintf(a.stdout, "listening on %s\n", ln.Addr())
	ctx, stop := signalContext(cmd)
	defer stop()
	return serve(ctx, ln)
}

func newBenchSoakCmd(a *app) *cobra.Command {
	var (
		cfg soak.Config
		out string
	)
	cmd := &cobra.Command{
		Use:   "soak",
		Short: "Run the fault and load suite against albmtls serve (make soak)",
		Long: `soak runs this binary as albmtls serve -c with a generated PKI and config in a
temporary directory, on 127.0.0.1 only, through seven phases, each bounded
in connections and time: idle connections held, slowloris, trust store and
CRL swaps under load, SIGTERM under load, file descriptor exhaustion, a
target killed mid-response, a full or vanished log directory. It prints
progress on stderr and a Markdown table (PASS/FAIL per phase, with the
figures) on stdout; the exit status is 1 unless every phase passed.

It raises its own RLIMIT_NOFILE (the emulators it starts inherit it); the
10,000 idle connections need about 20,500 descriptors in each process.
See RELIABILITY.md.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			exe, err := os.Executable()
			if err != nil {
				return fmt.Errorf("finding the albmtls binary to run as serve: %w", err)
			}
			for _, n := range cfg.Phases {
				if !slices.Contains(soak.PhaseNames(), n) {
					return usageErrorf("--phases: no phase %q; the phases are %s", n, strings.Join(soak.PhaseNames(), ", "))
				}
			}
			cfg.Exe, cfg.Progress, cfg.Version = exe, a.stderr, versionString()
			ctx, stop := signalContext(cmd)
			defer stop()
			rep, err := soak.Run(ctx, cfg)
			if rep != nil {
				rep.WriteTable(a.stdout)
				if out != "" {
					f, ferr := os.Create(out)
					if ferr != nil {
						return fmt.Errorf("writing the table: %w", ferr)
					}
					rep.WriteTable(f)
					if ferr := f.Close(); ferr != nil {
						return ferr
					}
				}
			}
			if err != nil {
				return err
			}
			if !rep.Passed() {
				return silentExit(1)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringSliceVar(&cfg.Phases, "phases", nil, "`PHASES` to run (default all): "+strings.Join(soak.PhaseNames(), ","))
	f.IntVar(&cfg.IdleConns, "idle-conns", soak.DefaultIdleConns, "idle phase: verified connections to hold")
	f.IntVar(&cfg.SlowConns, "slow-conns", soak.DefaultSlowConns, "slowloris phase: clients of each kind")
	f.DurationVar(&cfg.SlowWait, "slow-wait", soak.DefaultSlowWait, "slowloris phase: how long to wait for the emulator to close them")
	f.DurationVar(&cfg.LoadTime, "load-time", soak.DefaultLoadTime, "reload phase: how long the swaps and the load go on")
	f.StringVar(&cfg.Emulation, "emulation", "", "extra `YAML` lines for the emulation block of every config, e.g. \"request_timeout: 5s\"")
	f.StringVar(&cfg.WorkDir, "work-dir", "", "`DIR` for the PKI, configurations and logs (default: a temporary one)")
	f.BoolVar(&cfg.Keep, "keep", false, "keep the temporary work directory")
	f.StringVarP(&out, "output", "o", "", "also write the table (Markdown) to `FILE`")
	completeValues(cmd, "phases", soak.PhaseNames()...)
	completeDirs(cmd, "work-dir")
	completeFiles(cmd, "output", "md")
	return cmd
}
