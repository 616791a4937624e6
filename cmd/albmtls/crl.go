package main

import "github.com/spf13/cobra"

// newCRLCmd is a placeholder until its issue lands.
func newCRLCmd(a *app) *cobra.Command {
	return &cobra.Command{Use: "crl", Short: "(not yet implemented)", Hidden: true}
}
