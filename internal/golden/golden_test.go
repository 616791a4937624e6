package golden

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// recorder keeps the failures Assert reports instead of failing the test.
type recorder struct {
	testing.TB
	errors []string
	failed bool
}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(f string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(f, args...))
}
func (r *recorder) FailNow() { r.failed = true }

func setUpdate(t *testing.T, v bool) {
	old := *update
	*update = v
	t.Cleanup(func() { *update = old })
}

func TestAssert(t *testing.T) {
	setUpdate(t, false)
	path := filepath.Join(t.TempDir(), "x.golden")
	require.NoError(t, os.WriteFile(path, []byte("want\n"), 0o644))

	r := &recorder{TB: t}
	Assert(r, path, "want\n")
	assert.Empty(t, r.errors, "equal output passes")

	r = &recorder{TB: t}
	Assert(r, path, []byte("got\n"))
	require.Len(t, r.errors, 1, "a difference fails")
	assert.Contains(t, r.errors[0], "-update")
	assert.Contains(t, r.errors[0], "review the diff")
	assert.False(t, r.failed, "a difference does not stop the test, as assert.Equal")

	r = &recorder{TB: t}
	Assert(r, filepath.Join(t.TempDir(), "missing.golden"), "x")
	assert.True(t, r.failed, "a missing file stops the test")
	assert.Contains(t, r.errors[0], "-update")
}

func TestAssertUpdate(t *testing.T) {
	setUpdate(t, true)
	assert.True(t, Update())
	path := filepath.Join(t.TempDir(), "new", "x.golden")
	r := &recorder{TB: t}
	Assert(r, path, "fresh\n")
	assert.Empty(t, r.errors)
	got, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, "fresh\n", string(got), "-update writes the file, creating its directory")
}
