package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"
)

// The exit statuses of every albmtls command. CI tells "the check found
// problems" from "the job is misconfigured" by them (issue 16).
const (
	// exitOK: the command did what it was asked and found nothing wrong.
	exitOK = 0
	// exitFailed: the command ran and its check found problems (a failed
	// scenario, a trust store ALB would refuse, a failed soak phase, a
	// config problem under serve --check, a failed request), or its work
	// failed at run time (a port in use, a target that went away).
	exitFailed = 1
	// exitUsage: the command could not even start: an unknown command or
	// flag, a bad flag value, a missing argument, or a config or input file
	// that cannot be read or is invalid.
	exitUsage = 2
)

// exitStatusHelp is the line every command's Long help ends with.
const exitStatusHelp = `Exit status: 0 ok, 1 the check found problems (or the work failed),
2 usage or configuration error.`

// exitError carries an exit status out of a command; run prints err (when
// set) and, when hint is set, where to find the usage.
type exitError struct {
	code int
	err  error
	hint bool
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}
func (e *exitError) Unwrap() error { return e.err }

// silentExit ends the command with the given status and no further message,
// for commands that have already printed their findings.
func silentExit(code int) error { return &exitError{code: code} }

// usageError marks err as a usage error found by the command itself (a flag
// value that parsed but means nothing): status 2 and the --help hint.
func usageError(err error) error {
	if err == nil {
		return nil
	}
	return &exitError{code: exitUsage, err: err, hint: true}
}

// usageErrorf is usageError(fmt.Errorf(...)).
func usageErrorf(format string, args ...any) error {
	return usageError(fmt.Errorf(format, args...))
}

// configError marks err as a config or input file the command cannot start
// with: status 2, no hint (the message names the file and the fix).
func configError(err error) error {
	if err == nil {
		return nil
	}
	return &exitError{code: exitUsage, err: err}
}

// markStarted wraps the RunE of every command under root so that run can
// tell the errors cobra finds before a command starts (unknown command or
// flag, bad flag value, wrong arguments, missing required flags: all usage
// errors) from those the command returns. Done once here rather than per
// command; a FlagErrorFunc alone would miss the argument and required-flag
// checks, which cobra runs after parsing.
func markStarted(root *cobra.Command, started *bool) {
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if run := c.RunE; run != nil {
			c.RunE = func(cmd *cobra.Command, args []string) error {
				*started = true
				return run(cmd, args)
			}
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

// exitStatus prints err as run reports it and returns the status: the
// exitError's, 2 with the hint for an error cobra found before the command
// started, 1 for any other error.
func exitStatus(w io.Writer, cmd *cobra.Command, err error, started bool) int {
	if err == nil {
		return exitOK
	}
	code, hint := exitFailed, !started
	var ee *exitError
	if errors.As(err, &ee) {
		code, hint = ee.code, ee.hint
		err = ee.err
	} else if !started {
		code = exitUsage
	}
	if err != nil {
		fmt.Fprintf(w, "albmtls: %v\n", err)
	}
	if hint {
		path := "albmtls"
		if cmd != nil {
			path = cmd.CommandPath()
		}
		fmt.Fprintf(w, "Run '%s --help' for usage.\n", path)
	}
	return code
}
