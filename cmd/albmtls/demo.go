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
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/albmtls/albmtls/demo"
	"github.com/albmtls/albmtls/emulator/config"
	"github.com/albmtls/albmtls/internal/enum"
)

// demoConfig holds the flags of `demo`.
type demoConfig struct {
	dir       string
	mode      string
	httpPort  int
	httpsPort int
	admin     string
	awsAPI    string
	color     string
}

func newDemoCmd(a *app) *cobra.Command {
	var c demoConfig
	cmd := &cobra.Command{
		Use:   "demo [--dir DIR] [--mode verify|passthrough|off]",
		Short: "Run the whole ALB mutual-TLS story in one command",
		Long: `demo creates a test PKI in DIR (reused when present), starts two sample
backends (web-1, web-2) and the emulated ALB in front of them: an HTTP
listener that redirects to an HTTPS listener with mutual TLS, a trust store
with the CAs' CRLs, and connection and access logs under DIR/logs. It writes
the config it runs to DIR/albmtls.yaml, prints for each client certificate
the curl command and the outcome to expect, and then one line per
connection. Ctrl-C stops everything.

The demo never overwrites a directory it did not create; a directory left
half-written by an interrupted run is regenerated.`,
		Example: `  albmtls demo
  albmtls demo --mode passthrough --https-port 9443
  albmtls demo prepare --dir /pki      # the PKI and .p12 files only (docker-compose)`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !cmd.Flags().Changed("log-level") && !cmd.Root().PersistentFlags().Changed("log-level") {
				a.logLevel.Set(slog.LevelWarn) // keep the terminal for the guide and the connection lines
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return runDemo(ctx, a, c)
		},
	}
	f := cmd.PersistentFlags()
	f.StringVar(&c.dir, "dir", "albmtls-demo", "`DIR` for the PKI, the config and the logs")
	cmd.Flags().StringVar(&c.mode, "mode", "verify", "mutual authentication `MODE` of the HTTPS listener: verify, passthrough or off")
	cmd.Flags().IntVar(&c.httpPort, "http-port", 8080, "`PORT` of the HTTP listener on 127.0.0.1 (redirects to HTTPS; 0 picks one)")
	cmd.Flags().IntVar(&c.httpsPort, "https-port", 8443, "`PORT` of the HTTPS listener on 127.0.0.1 (0 picks one)")
	cmd.Flags().StringVar(&c.admin, "admin-addr", "127.0.0.1:9090", "admin endpoint `ADDR` (\"\" for none)")
	cmd.Flags().StringVar(&c.awsAPI, "aws-api", config.DefaultAWSAPIListen, "serve the AWS API (ELBv2, ACM, S3; docs/aws-api.md) on `ADDR`, or off")
	cmd.Flags().StringVar(&c.color, "color", "auto", "colour the connection lines, `WHEN`: auto (when stdout is a terminal), always or never")
	completeDirs(cmd, "dir")
	completeValues(cmd, "mode", modeNames(demo.Modes)...)
	completeValues(cmd, "color", "auto", "always", "never")
	cmd.AddCommand(newDemoPrepareCmd(a, &c))
	return cmd
}

func newDemoPrepareCmd(a *app, c *demoConfig) *cobra.Command {
	return &cobra.Command{
		Use:   "prepare [--dir DIR]",
		Short: "Create (or reuse) the demo's PKI and PKCS#12 files, then exit",
		Long: `prepare does the demo's first step only: it creates the test PKI and a
PKCS#12 file per client in DIR, or reuses the ones an earlier run made, with
the demo's rules (never overwrite a directory it did not create, regenerate
one an interrupted run left). docker-compose.yml runs it once before the
emulator and the backends start.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			ws, err := demo.Prepare(c.dir, func(s string) { fmt.Fprintln(a.stderr, "demo: "+s) })
			if err != nil {
				return err
			}
			verb := "reused"
			if ws.Created {
				verb = "created"
			}
			fmt.Fprintf(a.stdout, "%s the demo PKI in %s (PKCS#12 password %s)\n", verb, ws.Dir, demo.P12Password)
			return nil
		},
	}
}

func runDemo(ctx context.Context, a *app, c demoConfig) error {
	color, err := useColor(c.color, a.stdout)
	if err != nil {
		return usageError(err)
	}
	if !slices.Contains(modeNames(demo.Modes), c.mode) {
		return usageErrorf("demo: %q is not a mode; use %s", c.mode, enum.List(demo.Modes, ", ", " or "))
	}
	events := &syncWriter{w: a.stdout}
	d, err := demo.Start(ctx, demo.Options{
		Dir:       c.dir,
		Mode:      c.mode,
		HTTPPort:  c.httpPort,
		HTTPSPort: c.httpsPort,
		AdminAddr: c.admin,
		AWSAPI:    awsAPIAddr(c.awsAPI),
		Events:    events,
		Color:     color,
		Logger:    a.logger(),
		Version:   version,
		Progress:  func(s string) { fmt.Fprintln(a.stderr, "demo: "+s) },
	})
	if err != nil {
		var pe *demo.PortError
		if errors.As(err, &pe) {
			flag := map[string]string{"http": "--http-port", "https": "--https-port", "admin": "--admin-addr", "aws-api": "--aws-api"}[pe.Which]
			return fmt.Errorf("%s: %s is already in use or not available (%v); free it or choose another with %s", flag, pe.Addr, pe.Err, flag)
		}
		if errors.Is(err, context.Canceled) {
			return nil
		}
		return err
	}
	var guide bytes.Buffer
	d.WriteGuide(&guide)
	_, _ = events.Write(guide.Bytes())
	<-ctx.Done()
	fmt.Fprintln(events, "\nstopping: the emulator, web-1 and web-2")
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := d.Shutdown(sctx); err != nil {
		return fmt.Errorf("stopping the demo: %w", err)
	}
	fmt.Fprintf(a.stdout, "stopped; the logs are in %s\n", d.Workspace().Dir+"/logs")
	return nil
}

// awsAPIAddr reads --aws-api: "off" (or "") turns it off.
func awsAPIAddr(v string) string {
	if v == "off" {
		return ""
	}
	return v
}

// useColor decides whether to colour the connection lines.
func useColor(mode string, out io.Writer) (bool, error) {
	switch mode {
	case "always":
		return true, nil
	case "never":
		return false, nil
	case "auto":
		if os.Getenv("NO_COLOR") != "" {
			return false, nil
		}
		f, ok := out.(*os.File)
		if !ok {
			return false, nil
		}
		fi, err := f.Stat()
		return err == nil && fi.Mode()&os.ModeCharDevice != 0, nil
	}
	return false, fmt.Errorf("--color %q: use auto, always or never", mode)
}

// syncWriter serialises the guide and the connection lines, which come from
// the emulator's goroutines.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}
