// Command albmtls emulates an AWS Application Load Balancer mutual-TLS
// listener on a developer machine: a test PKI, the emulator itself, sample
// backends, a one-command demo and a conformance harness.
//
// This package only wires: it parses flags into the config structs of the
// library packages and calls them. Nothing here decides ALB behaviour.
package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/spf13/cobra"
)

// app carries what every subcommand needs, so that tests can run the CLI
// in-process with their own writers.
type app struct {
	stdout io.Writer
	stderr io.Writer
	// logLevel is the operational log level (slog), set by --log-level.
	logLevel slog.LevelVar
}

// logger returns the operational logger: text lines on stderr.
func (a *app) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(a.stderr, &slog.HandlerOptions{Level: &a.logLevel}))
}

// exitError carries a specific exit status out of a command. Status 1 means
// "the check ran and found problems" (truststore check, conformance); usage
// and runtime errors also end with 1 unless a command says otherwise.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// silentExit ends the command with the given status and no further message,
// for commands that have already printed their findings.
func silentExit(code int) error { return &exitError{code: code} }

func newRootCmd(a *app) *cobra.Command {
	root := &cobra.Command{
		Use:   "albmtls",
		Short: "Test AWS Application Load Balancer mutual TLS on your own machine",
		Long: `albmtls emulates the data plane of an AWS Application Load Balancer HTTPS
listener with mutual TLS (modes off, passthrough and verify): trust stores
with CRLs, ALB's verification codes, the X-Amzn-Mtls-Clientcert* headers,
connection and access logs in ALB's format, target groups and ALB's own
error pages. It also builds a test PKI with one client certificate per
failure mode and runs a conformance catalogue against any endpoint.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	root.PersistentFlags().Func("log-level", "operational log level: debug, info, warn or error (default info)", func(s string) error {
		return a.logLevel.UnmarshalText([]byte(s))
	})
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
	)
	return root
}

// run executes the CLI and returns the process exit status.
func run(args []string, stdout, stderr io.Writer) int {
	a := &app{stdout: stdout, stderr: stderr}
	root := newRootCmd(a)
	root.SetArgs(args)
	err := root.Execute()
	if err == nil {
		return 0
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintf(stderr, "albmtls: %v\n", ee.err)
		}
		return ee.code
	}
	fmt.Fprintf(stderr, "albmtls: %v\n", err)
	return 1
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}
