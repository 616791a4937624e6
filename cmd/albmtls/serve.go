package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/albmtls/albmtls/awsapi"
	"github.com/albmtls/albmtls/emulator"
	"github.com/albmtls/albmtls/emulator/admin"
	"github.com/albmtls/albmtls/emulator/config"
	"github.com/albmtls/albmtls/emulator/listener"
)

func newServeCmd(a *app) *cobra.Command {
	var file, from, awsAPI, state string
	var check bool
	var imp importConfig
	cmd := &cobra.Command{
		Use:   "serve -c albmtls.yaml",
		Short: "Run the emulated ALB from a config file",
		Long: `serve runs the emulated Application Load Balancer described by the config
file (see docs/configuration.md): its HTTP and HTTPS listeners with mutual
TLS, trust stores, target groups, connection and access logs and the admin
endpoint. SIGHUP re-reads trust stores and certificates (changed files are
also picked up on their own). SIGINT or SIGTERM shuts down gracefully:
requests in flight get emulation.shutdown_drain_timeout (default 10s) to
finish, then are cut and logged. A signal while the config, trust stores
or certificates are still loading (a FIFO, a hung mount) ends the command
at once, naming the file being read.

--check validates the config and the files it names (trust stores,
certificates) without starting anything: it prints "config OK: …" and exits
0, or prints every problem found, each with its file, line and key path,
and exits 1. Without --check the same problems end the command with status
2 (a configuration error: nothing was started); a failure after start-up
(a port in use) ends it with 1.

--from KIND:FILE imports the definition you deploy your ALB with (a
Terraform plan from terraform show -json, a CloudFormation or cdk synth
template, a Kubernetes Ingress or Gateway; docs/import.md) and serves it in
one command, with the same flags as albmtls import. What cannot be emulated
is listed and the command fails unless --allow-partial.`,
		Example: `  albmtls serve -c albmtls.yaml
  albmtls serve -c albmtls.yaml --check --log-format json
  albmtls serve --from terraform:plan.json --pki pki --s3-dir s3 --target i-0abc=127.0.0.1:8080`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if from != "" {
				if cmd.Flags().Changed("config") {
					return usageErrorf("--from and --config: give one of them")
				}
				imported, cleanup, err := importForServe(a, imp, from)
				if err != nil {
					return err
				}
				defer cleanup()
				file = imported
			}
			if cmd.Flags().Changed("aws-api") {
				if _, _, err := net.SplitHostPort(awsAPI); err != nil {
					return usageErrorf("--aws-api %q: want HOST:PORT, e.g. %s", awsAPI, config.DefaultAWSAPIListen)
				}
			}
			if check {
				return checkConfig(a, file)
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			srv, cfg, err := load(ctx, a, file)
			if err != nil {
				return configError(err)
			}
			if cmd.Flags().Changed("aws-api") {
				cfg.AWSAPI.Listen = awsAPI
			}
			if state != "" {
				cfg.AWSAPI.StateDir = state
				if cfg.AWSAPI.Listen == "" {
					cfg.AWSAPI.Listen = config.DefaultAWSAPIListen
				}
			}
			if cfg.AWSAPI.Listen == "" {
				return serve(ctx, a, cfg, serverRunner{srv})
			}
			api, err := awsapi.New(ctx, awsapi.Options{Config: cfg, Server: srv, Logger: a.logger(), Emulator: emulator.Options{Logger: a.logger(), Version: version}})
			if err != nil {
				_ = srv.Shutdown(context.Background())
				return configError(err)
			}
			return serve(ctx, a, cfg, apiRunner{api})
		},
	}
	cmd.Flags().StringVarP(&file, "config", "c", "albmtls.yaml", "config `FILE` (YAML; see docs/configuration.md)")
	cmd.Flags().StringVar(&awsAPI, "aws-api", "", "also serve the AWS API (ELBv2, ACM, S3; docs/aws-api.md) on `ADDR` (default "+config.DefaultAWSAPIListen+" when given without a value); overrides aws_api.listen")
	cmd.Flags().Lookup("aws-api").NoOptDefVal = config.DefaultAWSAPIListen
	cmd.Flags().StringVar(&state, "state", "", "keep what is created through the AWS API in `DIR` across restarts (aws_api.state_dir; turns the AWS API on)")
	completeDirs(cmd, "state")
	cmd.Flags().BoolVar(&check, "check", false, "validate the config and the files it names, print every problem, and exit without serving")
	cmd.Flags().StringVar(&from, "from", "", "serve the ALB of a `KIND:FILE` you deploy with (terraform:plan.json, cloudformation:template.yaml, k8s:ingress.yaml), as albmtls import would write it; the import flags below apply")
	imp.addFlags(cmd.Flags())
	cmd.Flags().StringArrayVar(&imp.params, "parameter", nil, "with --from cloudformation: KEY=VALUE, a template parameter's value (repeatable)")
	completeFiles(cmd, "config", extYAML...)
	return cmd
}

// checkConfig is serve --check: every problem of the config and of the
// files it names, in one list, and nothing started. The problems are the
// check's findings (status 1); a file that cannot be read at all is an
// input error (status 2).
func checkConfig(a *app, file string) error {
	cfg, errs, err := config.LoadAll(file)
	if err != nil {
		return configError(err)
	}
	if len(errs) == 0 {
		if err := cfg.ApplyEnv(os.Getenv); err != nil {
			errs = append(errs, &config.Error{Msg: err.Error()})
		}
	}
	errs = emulator.Check(cfg, errs, emulator.Options{Logger: a.logger()})
	if len(errs) > 0 {
		return errs
	}
	fmt.Fprintf(a.stdout, "config OK: %s\n", summary(cfg))
	return nil
}

// summary counts what a valid config sets up, for serve --check.
func summary(cfg *config.Config) string {
	plans := cfg.Plans()
	kinds := make([]string, len(cfg.Listeners))
	for i, l := range cfg.Listeners {
		kinds[i] = string(l.Protocol)
		if l.Protocol == listener.ProtocolHTTPS {
			kinds[i] += " mode " + string(plans[i].Mode)
		}
	}
	return fmt.Sprintf("%d listeners (%s), %d trust stores, %d target groups",
		len(cfg.Listeners), strings.Join(kinds, ", "), len(cfg.TrustStores), len(cfg.TargetGroups))
}

// load reads the config and builds the server (trust stores, certificates)
// in a goroutine, so that a signal ends start-up even while a read blocks:
// opening a FIFO with no writer never returns.
func load(ctx context.Context, a *app, file string) (*emulator.Server, *config.Config, error) {
	type result struct {
		srv *emulator.Server
		cfg *config.Config
		err error
	}
	var mu sync.Mutex
	reading := file + " (the config file)"
	done := make(chan result, 1)
	go func() {
		log := a.logger()
		opts := emulator.Options{Logger: log, Version: version, OnLoad: func(key, f string) {
			log.Debug("loading", "key", key, "file", f)
			mu.Lock()
			reading = f + " (" + key + ")"
			mu.Unlock()
		}}
		cfg, static, err := config.LoadAll(file)
		if err == nil && len(static) > 0 {
			// The files the config names are checked too, so that one
			// run lists every problem.
			err = emulator.Check(cfg, static, opts)
		}
		if err == nil {
			err = cfg.ApplyEnv(os.Getenv) // ALBMTLS_ADMIN_TOKEN wins over admin.token
		}
		if err != nil {
			done <- result{err: err}
			return
		}
		srv, err := emulator.New(cfg, opts)
		done <- result{srv, cfg, err}
	}()
	select {
	case r := <-done:
		return r.srv, r.cfg, r.err
	case <-ctx.Done():
		mu.Lock()
		defer mu.Unlock()
		return nil, nil, fmt.Errorf("interrupted while loading, still reading %s: a FIFO without a writer or a hung filesystem blocks the read; check that the file is a regular file", reading)
	}
}

// runner is what serve runs: one emulated load balancer, or the AWS API
// endpoint with the load balancers it runs.
type runner interface {
	Start(ctx context.Context) error
	Reload() error
	Shutdown(ctx context.Context) error
	each(fn func(srv *emulator.Server))
}

type serverRunner struct{ *emulator.Server }

func (r serverRunner) each(fn func(*emulator.Server)) { fn(r.Server) }

type apiRunner struct{ *awsapi.Server }

func (r apiRunner) each(fn func(*emulator.Server)) {
	r.LoadBalancers(func(_ string, srv *emulator.Server) { fn(srv) })
}

// serve runs a started server until ctx ends, reloading on SIGHUP.
func serve(ctx context.Context, a *app, cfg *config.Config, srv runner) error {
	log := a.logger()
	if err := srv.Start(ctx); err != nil {
		return err
	}
	srv.each(func(s *emulator.Server) {
		for _, l := range s.Listeners() {
			fmt.Fprintf(a.stdout, "listener %s %s\n", l.Protocol, l.URL())
		}
		if addr := s.AdminAddr(); addr != nil {
			fmt.Fprintf(a.stdout, "admin http://%s\n", addr)
			// Also when --log-level hides the logged warning.
			if msg := admin.ExposureWarning(addr, cfg.Admin.Token != ""); msg != "" {
				fmt.Fprintf(a.stderr, "WARNING: %s\n", msg)
			}
		}
	})
	if api, ok := srv.(apiRunner); ok {
		fmt.Fprintf(a.stdout, "aws api %s (AWS_ENDPOINT_URL=%s; elasticloadbalancing, acm, s3)\n", api.URL(), api.URL())
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for {
		select {
		case <-hup:
			// In a goroutine: a reload blocked on a file must not keep
			// SIGTERM from being handled. Reload serialises itself.
			go func() { _ = srv.Reload() }() // logged; the previous state is kept on failure
		case <-ctx.Done():
			drain := cfg.Emulation.ShutdownDrainTimeout.D()
			log.Info("shutting down; requests in flight may run for the drain (emulation.shutdown_drain_timeout)", "drain", drain)
			sctx, cancel := context.WithTimeout(context.Background(), drain)
			defer cancel()
			return srv.Shutdown(sctx)
		}
	}
}

// importForServe imports a KIND:FILE definition into a temporary
// albmtls.yaml (its paths are absolute) and returns its path and a
// function that removes it.
func importForServe(a *app, c importConfig, from string) (string, func(), error) {
	kind, src, ok := strings.Cut(from, ":")
	source, known := importSources[strings.ToLower(kind)]
	if !ok || src == "" || !known {
		return "", nil, usageErrorf("--from %q: want KIND:FILE with KIND terraform, cloudformation (cfn, cdk) or k8s (kubernetes, ingress)", from)
	}
	imp, err := source(c)
	if err != nil {
		return "", nil, usageError(err)
	}
	tmp, err := os.CreateTemp("", "albmtls-imported-*.yaml")
	if err != nil {
		return "", nil, err
	}
	cleanup := func() { _ = os.Remove(tmp.Name()) }
	_, data, err := importDefinition(a, c, src, tmp.Name(), imp)
	if err == nil {
		_, err = tmp.Write(data)
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		cleanup()
		return "", nil, err
	}
	return tmp.Name(), cleanup, nil
}
