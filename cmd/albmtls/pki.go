package main

import "github.com/spf13/cobra"

// newPKICmd is a placeholder until its issue lands.
func newPKICmd(a *app) *cobra.Command {
	return &cobra.Command{Use: "pki", Short: "(not yet implemented)", Hidden: true}
}
