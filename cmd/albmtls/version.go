package main

import (
	"fmt"
	"runtime"

	"github.com/spf13/cobra"

	"github.com/albmtls/albmtls/internal/buildinfo"
)

// version is set at link time by the Makefile (-X main.version=...); a plain
// go build or go run falls back to the module version or VCS revision.
var version = ""

func versionString() string {
	in := buildinfo.Read(version)
	v := in.Version
	if in.Revision != "" {
		v += " (" + in.Revision + ")"
	}
	return fmt.Sprintf("albmtls %s %s %s/%s", v, in.GoVersion, runtime.GOOS, runtime.GOARCH)
}

func newVersionCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the albmtls version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprintln(a.stdout, versionString())
			return err
		},
	}
}
