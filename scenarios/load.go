package scenarios

import (
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/albmtls/albmtls/internal/yamlstrict"
)

// catalogue holds the scenario files, so that the binary carries the
// catalogue and `albmtls conformance` works outside a clone.
//
//go:embed *.yaml
var catalogue embed.FS

// Catalogue returns albmtls's own scenarios, as built into the binary.
func Catalogue() ([]*Scenario, error) { return Load(catalogue, "scenarios") }

// LoadDir reads every *.yaml file of a directory.
func LoadDir(dir string) ([]*Scenario, error) { return Load(os.DirFS(dir), dir) }

// Load reads every *.yaml file at the root of fsys, in name order. prefix is
// prepended to file names in messages. All problems of all files are
// returned together.
func Load(fsys fs.FS, prefix string) ([]*Scenario, error) {
	names, err := fs.Glob(fsys, "*.yaml")
	if err != nil {
		return nil, err
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("%s: no scenario files (*.yaml)", prefix)
	}
	sort.Strings(names)
	var (
		out  []*Scenario
		errs Errors
	)
	for _, n := range names {
		data, err := fs.ReadFile(fsys, n)
		if err != nil {
			return nil, err
		}
		s, err := Parse(path.Join(prefix, n), data)
		if err != nil {
			errs = append(errs, asErrors(err)...)
			continue
		}
		out = append(out, s)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return out, nil
}

// Error is one problem in a scenario file: FILE:LINE: PATH: MSG.
type Error = yamlstrict.Error

// Errors are all the problems found, one per line.
type Errors = yamlstrict.Errors

func asErrors(err error) Errors { return yamlstrict.As(err) }

// Parse reads one scenario file. file names it in messages; its base name
// without .yaml is the scenario's name.
func Parse(file string, data []byte) (*Scenario, error) {
	root, err := yamlstrict.Root(file, data, "a scenario is a mapping with description, source, basis, setup and client/request/expect or steps; see docs/scenarios.md")
	if err != nil {
		return nil, err
	}
	s := &Scenario{File: file, Name: strings.TrimSuffix(path.Base(file), ".yaml")}
	if err := yamlstrict.Decode(file, root, s); err != nil {
		return nil, err
	}
	v := &validator{file: file, root: root}
	v.scenario(s)
	if len(v.errs) > 0 {
		return nil, v.errs
	}
	if len(s.Steps) == 0 {
		s.Steps = []Step{{Client: s.Client, Request: s.Request, Expect: s.Expect}}
		s.Client, s.Request, s.Expect = nil, nil, nil
	}
	return s, nil
}

// DecodeStrict decodes a YAML document into v the way Parse reads
// scenarios: an unknown key (with a suggestion), a type error or bad YAML is
// an error naming the file and line. It returns the document's root node
// for further position lookups (LineOf). The harness reads its backend
// expectation file with it.
func DecodeStrict(file string, data []byte, v any) (*yaml.Node, error) {
	root, err := yamlstrict.Root(file, data, "want a mapping of keys")
	if err != nil {
		return nil, err
	}
	if err := yamlstrict.Decode(file, root, v); err != nil {
		return nil, err
	}
	return root, nil
}

// LineOf returns the line of a key path ("cases.member.status") in a
// document returned by DecodeStrict, or of its nearest present parent.
func LineOf(root *yaml.Node, keyPath string) int { return yamlstrict.Line(root, keyPath) }
