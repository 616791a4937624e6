package main

import "github.com/spf13/cobra"

// newTrustStoreCmd is a placeholder until its issue lands.
func newTrustStoreCmd(a *app) *cobra.Command {
	return &cobra.Command{Use: "truststore", Short: "(not yet implemented)", Hidden: true}
}
