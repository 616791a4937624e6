package configschema

import _ "embed"

//go:generate go run ./gen -docs ../../docs/configuration.md ../../docs/albmtls.schema.json albmtls.schema.json

// Committed is the generated schema as committed (the same bytes as
// docs/albmtls.schema.json), for albmtls config schema: the binary then
// prints the schema with its descriptions without the docs at hand.
//
//go:embed albmtls.schema.json
var Committed []byte
