package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/albmtls/albmtls/internal/boundedio"
	"github.com/albmtls/albmtls/pki"
	"github.com/albmtls/albmtls/scenarios"
)

// Shell completion of flag values, through cobra's __complete command
// (albmtls completion bash|zsh|fish|powershell writes the shell's script).
// Registration errors only mean a misspelt flag name, which the completion
// tests catch, so they are ignored here.

// completeValues completes flag name of cmd with a fixed list of values.
func completeValues(cmd *cobra.Command, name string, values ...string) {
	_ = cmd.RegisterFlagCompletionFunc(name, cobra.FixedCompletions(values, cobra.ShellCompDirectiveNoFileComp))
}

// completeFiles completes flag name with files of the given extensions
// (without the dot); no extension means any file.
func completeFiles(cmd *cobra.Command, name string, exts ...string) {
	_ = cmd.RegisterFlagCompletionFunc(name, func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		if len(exts) == 0 {
			return nil, cobra.ShellCompDirectiveDefault
		}
		return exts, cobra.ShellCompDirectiveFilterFileExt
	})
}

// completeDirs completes flag name with directories.
func completeDirs(cmd *cobra.Command, name string) {
	_ = cmd.RegisterFlagCompletionFunc(name, func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return nil, cobra.ShellCompDirectiveFilterDirs
	})
}

// fileArgs completes positional arguments with files of these extensions.
func fileArgs(exts ...string) cobra.CompletionFunc {
	return func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return exts, cobra.ShellCompDirectiveFilterFileExt
	}
}

// Extensions of the files albmtls reads and writes.
var (
	extYAML = []string{"yaml", "yml"}
	extPEM  = []string{"pem", "crt", "cer"}
	extCRL  = []string{"pem", "crl", "der"}
)

// manifestNames returns the names of the artefacts of the given kinds in
// the manifest of the PKI directory the --pki flag of cmd names, for
// completing NAME arguments; nothing when --pki is not given yet.
func manifestNames(cmd *cobra.Command, kinds ...pki.Kind) []string {
	dir, _ := cmd.Flags().GetString("pki")
	if dir == "" {
		return nil
	}
	data, err := boundedio.ReadFile(filepath.Join(dir, pki.ManifestFile), "PKI manifest", boundedio.MaxPKIManifest)
	if err != nil {
		return nil
	}
	var m pki.Manifest
	if json.Unmarshal(data, &m) != nil {
		return nil
	}
	var names []string
	for _, art := range m.Artefacts {
		for _, k := range kinds {
			if art.Kind == k {
				names = append(names, art.Name+"\t"+firstLine(art.Purpose))
			}
		}
	}
	return names
}

// completeManifest completes with the --pki DIR's artefacts of these kinds.
func completeManifest(kinds ...pki.Kind) cobra.CompletionFunc {
	return func(cmd *cobra.Command, _ []string, _ string) ([]string, cobra.ShellCompDirective) {
		return manifestNames(cmd, kinds...), cobra.ShellCompDirectiveNoFileComp
	}
}

// completeScenarios completes conformance --run with the scenario names of
// --scenarios DIR, or of the built-in catalogue; a name is a regular
// expression matching that scenario (and its per-client expansions).
func completeScenarios(cmd *cobra.Command, _ []string, _ string) ([]string, cobra.ShellCompDirective) {
	var (
		list []*scenarios.Scenario
		err  error
	)
	if dir, _ := cmd.Flags().GetString("scenarios"); dir != "" {
		if _, serr := os.Stat(dir); serr != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		list, err = scenarios.LoadDir(dir)
	} else {
		list, err = scenarios.Catalogue()
	}
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	names := make([]string, 0, len(list))
	for _, s := range list {
		names = append(names, s.Name+"\t"+firstLine(s.Description))
	}
	return names, cobra.ShellCompDirectiveNoFileComp
}

// firstLine is a completion's description: the first line, at most 72
// characters, as the shells show one line per candidate.
func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	if r := []rune(s); len(r) > 72 {
		s = string(r[:71]) + "…"
	}
	return s
}

// keyTypeNames lists pki's key types for --key-type.
func keyTypeNames() []string {
	var names []string
	for _, kt := range pki.KeyTypes() {
		names = append(names, string(kt))
	}
	return names
}

// modeNames lists mutual authentication modes for --mode.
func modeNames[T ~string](modes []T) []string {
	names := make([]string, len(modes))
	for i, m := range modes {
		names[i] = string(m)
	}
	return names
}
