// Package docs holds the tests of the documentation itself.
package docs

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var (
	anchor   = regexp.MustCompile(`<a id="([^"]+)"></a>`)
	citation = regexp.MustCompile(`alb-behaviour (§S?\d+(?:\.\d+)*(?:(?:,\s*|\s+and\s+|\s+or\s+|–|-|/)\s*(?:\[)?§S?\d+(?:\.\d+)*(?:\]\([^)]*\))?)*)`)
	section  = regexp.MustCompile(`§(S?\d+(?:\.\d+)*)`)
	link     = regexp.MustCompile(`alb-behaviour\.md#([A-Za-z0-9.\-]+)`)
	oldForm  = regexp.MustCompile(`\b(spec|s2n) §\d`)
)

// TestCitationsResolve is issue 15's "every § citation resolves inside the
// repository": every "alb-behaviour §2.3" in code, docs, scenarios and
// golden files, and every link to docs/alb-behaviour.md#2.3, names a
// section that docs/alb-behaviour.md has; the research notes' own forms
// ("spec" or "s2n" before a section sign), which users cannot follow, are
// gone.
func TestCitationsResolve(t *testing.T) {
	ref, err := os.ReadFile("alb-behaviour.md")
	require.NoError(t, err)
	ids := map[string]bool{}
	for _, m := range anchor.FindAllStringSubmatch(string(ref), -1) {
		ids[m[1]] = true
	}
	require.NotEmpty(t, ids)
	cited := 0
	err = filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); name == ".git" || name == "bin" || name == "node_modules" {
				return filepath.SkipDir
			}
			return nil
		}
		switch filepath.Ext(path) {
		case ".go", ".md", ".yaml", ".yml", ".json", ".tmpl", ".golden":
		default:
			return nil
		}
		if filepath.Base(path) == "alb-behaviour.md" {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		text := string(data)
		for _, m := range citation.FindAllStringSubmatch(text, -1) {
			for _, s := range section.FindAllStringSubmatch(m[1], -1) {
				cited++
				assert.True(t, ids[s[1]], "%s cites alb-behaviour §%s, which docs/alb-behaviour.md does not have", path, s[1])
			}
		}
		for _, m := range link.FindAllStringSubmatch(text, -1) {
			cited++
			assert.True(t, ids[m[1]], "%s links to docs/alb-behaviour.md#%s, which does not exist", path, m[1])
		}
		for i, line := range strings.Split(text, "\n") {
			if oldForm.MatchString(line) {
				t.Errorf("%s:%d cites the research notes (%q): cite docs/alb-behaviour.md instead (alb-behaviour §N, §SN)", path, i+1, oldForm.FindString(line))
			}
		}
		return nil
	})
	require.NoError(t, err)
	assert.Greater(t, cited, 500, "the walk should find the project's citations")
}
