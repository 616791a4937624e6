package main

import "github.com/spf13/cobra"

// newBackendCmd is a placeholder until its issue lands.
func newBackendCmd(a *app) *cobra.Command {
	return &cobra.Command{Use: "backend", Short: "(not yet implemented)", Hidden: true}
}
