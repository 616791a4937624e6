package main

import "github.com/spf13/cobra"

// newDemoCmd is a placeholder until its issue lands.
func newDemoCmd(a *app) *cobra.Command {
	return &cobra.Command{Use: "demo", Short: "(not yet implemented)", Hidden: true}
}
