package main

import (
	"github.com/spf13/cobra"

	"github.com/albmtls/albmtls/internal/configschema"
)

func newConfigCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Tools for albmtls.yaml: its JSON Schema",
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "schema",
		Short: "Print the JSON Schema of albmtls.yaml, for editors",
		Long: `Print the JSON Schema (draft-07) of albmtls.yaml, the file albmtls serve
reads: its keys, enumerated values, attribute keys and security policy names,
with the descriptions of docs/configuration.md. It is the same file as
docs/albmtls.schema.json. Point yaml-language-server (VS Code's YAML
extension, Neovim, Helix, JetBrains) at it with a first line

  # yaml-language-server: $schema=albmtls.schema.json

The schema checks structure and values; albmtls serve --check also checks
the rules between keys and the files the config names.`,
		Example: `  albmtls config schema > albmtls.schema.json`,
		Args:    cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			_, err := a.stdout.Write(configschema.Committed)
			return err
		},
	})
	return cmd
}
