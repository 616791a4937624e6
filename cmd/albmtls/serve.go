package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/albmtls/albmtls/emulator"
	"github.com/albmtls/albmtls/emulator/admin"
	"github.com/albmtls/albmtls/emulator/config"
)

func newServeCmd(a *app) *cobra.Command {
	var file string
	cmd := &cobra.Command{
		Use:   "serve -c albmtls.yaml",
		Short: "Run the emulated ALB from a config file",
		Long: `serve runs the emulated Application Load Balancer described by the config
file (see docs/configuration.md): its HTTP and HTTPS listeners with mutual
TLS, trust stores, target groups, connection and access logs and the admin
endpoint. SIGHUP re-reads trust stores and certificates (changed files are
also picked up on their own); SIGINT or SIGTERM shuts down gracefully.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := config.Load(file)
			if err != nil {
				return err
			}
			if err := cfg.ApplyEnv(os.Getenv); err != nil { // ALBMTLS_ADMIN_TOKEN wins over admin.token
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return serve(ctx, a, cfg)
		},
	}
	cmd.Flags().StringVarP(&file, "config", "c", "albmtls.yaml", "config file")
	return cmd
}

// serve runs a server until ctx ends, reloading on SIGHUP.
func serve(ctx context.Context, a *app, cfg *config.Config) error {
	log := a.logger()
	srv, err := emulator.New(cfg, emulator.Options{Logger: log})
	if err != nil {
		return err
	}
	if err := srv.Start(ctx); err != nil {
		return err
	}
	for _, l := range srv.Listeners() {
		fmt.Fprintf(a.stdout, "listener %s %s\n", l.Protocol, l.URL())
	}
	if addr := srv.AdminAddr(); addr != nil {
		fmt.Fprintf(a.stdout, "admin http://%s\n", addr)
		// Also when --log-level hides the logged warning.
		if msg := admin.ExposureWarning(addr, cfg.Admin.Token != ""); msg != "" {
			fmt.Fprintf(a.stderr, "WARNING: %s\n", msg)
		}
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for {
		select {
		case <-hup:
			_ = srv.Reload() // logged; the previous state is kept on failure
		case <-ctx.Done():
			log.Info("shutting down")
			sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			return srv.Shutdown(sctx)
		}
	}
}
