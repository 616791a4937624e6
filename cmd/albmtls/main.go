// Command albmtls emulates an AWS Application Load Balancer mutual-TLS
// listener on a developer machine: a test PKI, the emulator itself, sample
// backends, a one-command demo and a conformance harness.
//
// This package only wires: it parses flags into the config structs of the
// library packages and calls them. Nothing here decides ALB behaviour.
package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"

	"github.com/spf13/cobra"
)

// app carries what every subcommand needs, so that tests can run the CLI
// in-process with their own writers.
type app struct {
	stdout io.Writer
	stderr io.Writer
	// logLevel is the operational log level (slog), set by --log-level.
	logLevel slog.LevelVar
	// logFormat is text or json, set by --log-format.
	logFormat string
}

// logFormats are the values of --log-format.
var logFormats = []string{"text", "json"}

// logLevels are the values of --log-level, as slog.Level parses them.
var logLevels = []string{"debug", "info", "warn", "error"}

// logger returns the operational logger on stderr, at --log-level.
func (a *app) logger() *slog.Logger { return a.loggerAt(&a.logLevel) }

// loggerAt is logger at another level, in the --log-format.
func (a *app) loggerAt(level slog.Leveler) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level}
	if a.logFormat == "json" {
		return slog.New(slog.NewJSONHandler(a.stderr, opts))
	}
	return slog.New(slog.NewTextHandler(a.stderr, opts))
}

func newRootCmd(a *app) *cobra.Command {
	root := &cobra.Command{
		Use:   "albmtls",
		Short: "Test AWS Application Load Balancer mutual TLS on your own machine",
		Long: `albmtls emulates the data plane of an AWS Application Load Balancer HTTPS
listener with mutual TLS (modes off, passthrough and verify): trust stores
with CRLs, ALB's verification codes, the X-Amzn-Mtls-Clientcert* headers,
connection and access logs in ALB's format, target groups and ALB's own
error pages. It also builds a test PKI with one client certificate per
failure mode and runs a conformance catalogue against any endpoint.

Shell completion (flag values included): albmtls completion bash|zsh|fish|powershell --help.`,
		Version:       versionString(),
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetVersionTemplate("{{.Version}}\n")
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	pf := root.PersistentFlags()
	pf.Func("log-level", "operational log `LEVEL`: debug, info, warn or error (default info)", func(s string) error {
		return a.logLevel.UnmarshalText([]byte(s))
	})
	a.logFormat = "text"
	pf.Func("log-format", "operational log `FORMAT`: text or json (slog's JSON handler, one object a line) (default text)", func(s string) error {
		if !slices.Contains(logFormats, s) {
			return fmt.Errorf("%q is not a log format; use text or json", s)
		}
		a.logFormat = s
		return nil
	})
	completeValues(root, "log-level", logLevels...)
	completeValues(root, "log-format", logFormats...)
	root.AddCommand(
		newVersionCmd(a),
		newPKICmd(a),
		newCRLCmd(a),
		newTrustStoreCmd(a),
		newServeCmd(a),
		newBackendCmd(a),
		newDemoCmd(a),
		newConformanceCmd(a),
		newBenchCmd(a),
		newHealthCheckCmd(a),
		newImportCmd(a),
		newAWSCmd(a),
		newConfigCmd(a),
	)
	root.InitDefaultCompletionCmd()
	conventions(root)
	return root
}

// conventions gives every command the same shape: groups reject an unknown
// subcommand (cobra would print their help and exit 0), and every help
// text ends with the exit statuses.
func conventions(c *cobra.Command) {
	if c.HasParent() && c.HasSubCommands() && c.Run == nil && c.RunE == nil {
		c.Args = cobra.NoArgs
		c.RunE = func(cmd *cobra.Command, _ []string) error { return cmd.Help() }
	}
	if c.Name() != "__complete" && c.Name() != "__completeNoDesc" {
		long := c.Long
		if long == "" {
			long = c.Short + "."
		}
		c.Long = long + "\n\n" + exitStatusHelp
	}
	for _, sub := range c.Commands() {
		conventions(sub)
	}
}

// run executes the CLI and returns the process exit status (exit.go).
func run(args []string, stdout, stderr io.Writer) int {
	a := &app{stdout: stdout, stderr: stderr}
	root := newRootCmd(a)
	started := false
	markStarted(root, &started)
	root.SetArgs(args)
	cmd, err := root.ExecuteC()
	return exitStatus(stderr, cmd, err, started)
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}
