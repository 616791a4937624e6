package main

import "github.com/spf13/cobra"

// newConformanceCmd is a placeholder until its issue lands.
func newConformanceCmd(a *app) *cobra.Command {
	return &cobra.Command{Use: "conformance", Short: "(not yet implemented)", Hidden: true}
}
