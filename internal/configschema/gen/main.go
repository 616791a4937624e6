// Command gen writes the JSON Schema of albmtls.yaml: go generate
// ./internal/configschema runs it, writing docs/albmtls.schema.json and the
// copy that albmtls config schema prints. TestCommittedSchemaIsGenerated
// fails when either is out of date.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/albmtls/albmtls/internal/configschema"
)

func main() {
	docs := flag.String("docs", "../../docs/configuration.md", "the configuration reference whose key tables give the descriptions")
	flag.Parse()
	if flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: gen [-docs FILE] OUT.json...")
		os.Exit(2)
	}
	md, err := os.ReadFile(*docs)
	if err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
	data, err := configschema.Generate(configschema.DocDescriptions(md))
	if err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
	for _, out := range flag.Args() {
		if err := os.WriteFile(out, data, 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "gen:", err)
			os.Exit(1)
		}
	}
}
