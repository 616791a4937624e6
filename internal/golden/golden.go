// Package golden is the one golden-file helper of albmtls's tests: every
// package compares its output with files under testdata and rewrites them
// with the same flag, `go test ./PKG -update`. Review the diff of a rewritten
// file against docs/alb-behaviour.md before committing it.
package golden

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// update is registered once here, so every test binary that imports golden
// has exactly one -update flag, with one meaning.
var update = flag.Bool("update", false, "rewrite golden files with the current output instead of comparing with them")

// Update reports whether -update was given, for tests that regenerate a
// file of another kind than Assert writes (certfmt's openssl_objects.txt).
func Update() bool { return *update }

// Assert compares got with the file at path. Under -update it first writes
// got to path (creating its directory), so the comparison passes and the
// change shows in git diff for review. A missing file or a difference fails
// the test with the command that rewrites it.
func Assert[T string | []byte](tb testing.TB, path string, got T) {
	tb.Helper()
	if *update {
		require.NoError(tb, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(tb, os.WriteFile(path, []byte(got), 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(tb, err, "golden file %s is missing: run go test -run '%s' -update in its package to create it, then review it", path, tb.Name())
	assert.Equal(tb, string(want), string(got),
		"output differs from golden file %s: if the change is intended, run go test -run '%s' -update in its package and review the diff (git diff %s)", path, tb.Name(), path)
}
