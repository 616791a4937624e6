package main

import "github.com/spf13/cobra"

// newServeCmd is a placeholder until its issue lands.
func newServeCmd(a *app) *cobra.Command {
	return &cobra.Command{Use: "serve", Short: "(not yet implemented)", Hidden: true}
}
