package scenarios

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/albmtls/albmtls/internal/suggest"
)

// catalogue holds the scenario files, so that the binary carries the
// catalogue and `albmtls conformance` works outside a clone.
//
//go:embed *.yaml
var catalogue embed.FS

// Catalogue returns albmtls's own scenarios, as built into the binary.
func Catalogue() ([]*Scenario, error) { return Load(catalogue, "scenarios") }

// Files returns the catalogue's files, for tools that list or copy them.
func Files() fs.FS { return catalogue }

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

// Error is one problem in a scenario file.
type Error struct {
	File string
	Line int    // 0 when unknown
	Path string // key path, e.g. steps[1].expect.status
	Msg  string
}

// Error formats FILE:LINE: PATH: MSG, the form editors jump to.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		b.WriteString(":" + strconv.Itoa(e.Line))
	}
	b.WriteString(": ")
	if e.Path != "" {
		b.WriteString(e.Path + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Errors are all the problems found, one per line.
type Errors []*Error

func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

func asErrors(err error) Errors {
	var es Errors
	if errors.As(err, &es) {
		return es
	}
	var e *Error
	if errors.As(err, &e) {
		return Errors{e}
	}
	return Errors{{Msg: err.Error()}}
}

var yamlLine = regexp.MustCompile(`line (\d+): `)

// yamlErrors turns yaml.v3's messages ("yaml: line 4: …", "yaml: unmarshal
// errors:\n  line 7: …") into positioned errors.
func yamlErrors(file string, err error) Errors {
	var es Errors
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	msg = strings.TrimPrefix(msg, "unmarshal errors:\n")
	for _, line := range strings.Split(msg, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		e := &Error{File: file, Msg: line}
		if m := yamlLine.FindStringSubmatchIndex(line); m != nil {
			e.Line, _ = strconv.Atoi(line[m[2]:m[3]])
			e.Msg = line[:m[0]] + line[m[1]:]
		}
		es = append(es, e)
	}
	return es
}

// Parse reads one scenario file. file names it in messages; its base name
// without .yaml is the scenario's name.
func Parse(file string, data []byte) (*Scenario, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, yamlErrors(file, err)
	}
	if doc.Kind == 0 || len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, &Error{File: file, Line: 1, Msg: "a scenario is a mapping with description, source, basis, setup and client/request/expect or steps; see docs/scenarios.md"}
	}
	root := doc.Content[0]
	if errs := checkKeys(file, root, "", reflect.TypeOf(Scenario{})); len(errs) > 0 {
		return nil, errs
	}
	s := &Scenario{File: file, Name: strings.TrimSuffix(path.Base(file), ".yaml")}
	if err := root.Decode(s); err != nil {
		return nil, yamlErrors(file, err)
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
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, yamlErrors(file, err)
	}
	if doc.Kind == 0 || len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, &Error{File: file, Line: 1, Msg: "want a mapping of keys"}
	}
	root := doc.Content[0]
	if errs := checkKeys(file, root, "", reflect.TypeOf(v)); len(errs) > 0 {
		return nil, errs
	}
	if err := root.Decode(v); err != nil {
		return nil, yamlErrors(file, err)
	}
	return root, nil
}

// LineOf returns the line of a key path ("cases.member.status") in a
// document returned by DecodeStrict, or of its nearest present parent.
func LineOf(root *yaml.Node, keyPath string) int { return lineOf(root, keyPath) }

// checkKeys walks the YAML tree alongside the Go type it decodes into and
// reports every mapping key the type does not have, with a suggestion, so
// that a typo ("conection_log") is an error rather than an expectation that
// silently never runs.
func checkKeys(file string, n *yaml.Node, keyPath string, t reflect.Type) Errors {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	var errs Errors
	switch t.Kind() {
	case reflect.Struct:
		keys := yamlKeys(t)
		if n.Kind != yaml.MappingNode || len(keys) == 0 {
			return nil // scalars and sequences: the decoder or UnmarshalYAML reports type errors
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, val := n.Content[i], n.Content[i+1]
			sub := joinPath(keyPath, k.Value)
			f, ok := fieldByKey(t, k.Value)
			if !ok {
				msg := fmt.Sprintf("unknown key %q", k.Value)
				if s := suggest.Closest(k.Value, keys, 3); s != "" {
					msg += fmt.Sprintf(" (did you mean %q?)", s)
				}
				errs = append(errs, &Error{File: file, Line: k.Line, Path: sub, Msg: msg + "; valid keys here: " + strings.Join(keys, ", ")})
				continue
			}
			errs = append(errs, checkKeys(file, val, sub, f.Type)...)
		}
	case reflect.Slice:
		if n.Kind == yaml.SequenceNode {
			for i, item := range n.Content {
				errs = append(errs, checkKeys(file, item, keyPath+"["+strconv.Itoa(i)+"]", t.Elem())...)
			}
		}
	case reflect.Map:
		if n.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(n.Content); i += 2 {
				errs = append(errs, checkKeys(file, n.Content[i+1], joinPath(keyPath, n.Content[i].Value), t.Elem())...)
			}
		}
	}
	return errs
}

func yamlKeys(t reflect.Type) []string {
	var keys []string
	for i := 0; i < t.NumField(); i++ {
		if name := yamlName(t.Field(i)); name != "" {
			keys = append(keys, name)
		}
	}
	return keys
}

func yamlName(f reflect.StructField) string {
	if !f.IsExported() {
		return ""
	}
	name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	if name == "-" {
		return ""
	}
	if name == "" {
		return strings.ToLower(f.Name)
	}
	return name
}

func fieldByKey(t reflect.Type, key string) (reflect.StructField, bool) {
	for i := 0; i < t.NumField(); i++ {
		if f := t.Field(i); yamlName(f) == key {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

func joinPath(p, key string) string {
	if p == "" {
		return key
	}
	return p + "." + key
}

// lineOf returns the line of a key path ("steps[1].expect.status"), or of
// its nearest present parent.
func lineOf(root *yaml.Node, keyPath string) int {
	n, line := root, root.Line
	for _, part := range strings.Split(keyPath, ".") {
		name, idx := part, -1
		if i := strings.IndexByte(part, '['); i >= 0 {
			name = part[:i]
			idx, _ = strconv.Atoi(strings.TrimSuffix(part[i+1:], "]"))
		}
		next := (*yaml.Node)(nil)
		if n.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == name {
					line, next = n.Content[i].Line, n.Content[i+1]
					break
				}
			}
		}
		if next == nil {
			return line
		}
		n = next
		if idx >= 0 {
			if n.Kind != yaml.SequenceNode || idx >= len(n.Content) {
				return line
			}
			n = n.Content[idx]
			line = n.Line
		}
	}
	return line
}
