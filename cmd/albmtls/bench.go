package main

import "github.com/spf13/cobra"

// newBenchCmd is a placeholder until its issue lands.
func newBenchCmd(a *app) *cobra.Command {
	return &cobra.Command{Use: "bench", Short: "(not yet implemented)", Hidden: true}
}
