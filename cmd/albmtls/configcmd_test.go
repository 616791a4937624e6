package main

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/albmtls/albmtls/internal/configschema"
	"github.com/albmtls/albmtls/internal/golden"
)

// TestConfigSchema: the real binary prints the committed schema and exits
// 0; extra arguments and unknown subcommands are usage errors (2). Its
// help is golden.
func TestConfigSchema(t *testing.T) {
	code, stdout, stderr := runBin(t, "config", "schema")
	require.Equal(t, 0, code, stderr)
	assert.Equal(t, string(configschema.Committed), stdout)
	assert.Contains(t, stdout, `"$schema": "http://json-schema.org/draft-07/schema#"`)

	code, _, stderr = runBin(t, "config", "schema", "extra")
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, "Run 'albmtls config schema --help' for usage.")
	code, _, _ = runBin(t, "config", "lint")
	assert.Equal(t, 2, code)

	code, stdout, stderr = runBin(t, "config", "schema", "--help")
	require.Equal(t, 0, code, stderr)
	golden.Assert(t, filepath.Join("testdata", "help", "config-schema.txt"), stdout)
}
