// Package yamlstrict reads YAML files the way albmtls's config and scenario
// loaders need: an unknown key is an error (with the valid keys and a
// suggestion) rather than a silently ignored setting, and every problem
// carries the file, the line and the key path ("listeners[1].mode"), the
// form editors jump to.
package yamlstrict

import (
	"encoding"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/albmtls/albmtls/internal/suggest"
)

// Error is one problem at a key path of a file.
type Error struct {
	File string
	Line int    // 0 when unknown
	Path string // key path, e.g. listeners[1].mutual_authentication.mode
	Msg  string
}

// Error formats FILE:LINE: PATH: MSG.
func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			b.WriteString(":" + strconv.Itoa(e.Line))
		}
		b.WriteString(": ")
	}
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

// As returns the positioned errors an error carries (an Errors, an *Error,
// or a plain error as one message without position).
func As(err error) Errors {
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

// Root parses data and returns its top-level mapping. what describes the
// expected document for the message when it is empty or not a mapping.
func Root(file string, data []byte, what string) (*yaml.Node, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		es := Positioned(file, err)
		for _, e := range es {
			e.Msg = "not valid YAML: " + e.Msg
		}
		return nil, es
	}
	if doc.Kind == 0 || len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		line := 1
		if len(doc.Content) > 0 {
			line = doc.Content[0].Line
		}
		return nil, &Error{File: file, Line: line, Msg: what}
	}
	return doc.Content[0], nil
}

// Decode checks root's keys and enumerated values against v's type and
// decodes it into v; it returns every problem found (see DecodeAll).
func Decode(file string, root *yaml.Node, v any) error {
	if errs := DecodeAll(file, root, v); len(errs) > 0 {
		return errs
	}
	return nil
}

// DecodeAll decodes root into v as far as it can and returns every problem
// at once: unknown keys, scalars refused by their type's UnmarshalText (an
// enumeration such as a mode) with the key path, and the decoder's type
// errors. A refused value is decoded as if absent (a refused list item is
// left out), so that the caller can go on validating the rest and report
// all problems in one run.
func DecodeAll(file string, root *yaml.Node, v any) Errors {
	return DecodeAllHinted(file, root, v, nil)
}

// Hint explains an unknown key that is another tool's name for a key
// (Terraform's trust_store_arn for trust_store), or returns "". parent is
// the key path of the mapping the key is in ("listeners[0].mutual_authentication",
// "" at the top), valid the keys that mapping takes.
type Hint func(parent, key string, valid []string) string

// DecodeAllHinted is DecodeAll whose unknown-key errors carry hint's
// explanation, when it has one, instead of the nearest valid key.
func DecodeAllHinted(file string, root *yaml.Node, v any, hint Hint) Errors {
	bad := map[*yaml.Node]bool{}
	errs := (&checker{file: file, bad: bad, hint: hint}).keys(root, "", reflect.TypeOf(v))
	if err := withoutNodes(root, bad).Decode(v); err != nil {
		errs = append(errs, Positioned(file, err)...)
	}
	return errs
}

var textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()

// checkText reports a scalar whose type implements encoding.TextUnmarshaler
// and refuses its text, at the scalar's line and key path.
func checkText(file string, n *yaml.Node, keyPath string, t reflect.Type, bad map[*yaml.Node]bool) (*Error, bool) {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" || !reflect.PointerTo(t).Implements(textUnmarshaler) {
		return nil, false
	}
	u := reflect.New(t).Interface().(encoding.TextUnmarshaler)
	if err := u.UnmarshalText([]byte(n.Value)); err != nil {
		bad[n] = true
		return &Error{File: file, Line: n.Line, Path: keyPath, Msg: err.Error()}, true
	}
	return nil, true
}

// withoutNodes returns root with the bad nodes replaced by nulls, copying
// only the mappings and sequences on the way to them.
func withoutNodes(n *yaml.Node, bad map[*yaml.Node]bool) *yaml.Node {
	if len(bad) == 0 {
		return n
	}
	if bad[n] {
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Line: n.Line, Column: n.Column}
	}
	if n.Kind != yaml.MappingNode && n.Kind != yaml.SequenceNode && n.Kind != yaml.DocumentNode {
		return n
	}
	var content []*yaml.Node
	for i, c := range n.Content {
		if d := withoutNodes(c, bad); d != c {
			if content == nil {
				content = slices.Clone(n.Content)
			}
			content[i] = d
		}
	}
	if content == nil {
		return n
	}
	cp := *n
	cp.Content = content
	return &cp
}

var yamlLine = regexp.MustCompile(`line (\d+): `)

// Positioned turns yaml.v3's messages ("yaml: line 4: …", "yaml: unmarshal
// errors:\n  line 7: …") into positioned errors.
func Positioned(file string, err error) Errors {
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

// keys walks the YAML tree alongside the Go type it decodes into and
// reports every mapping key the type does not have, with the valid keys and
// the nearest one, and every enumerated scalar its type refuses (checkText),
// recording those nodes in bad. Scalars and sequences given for structs are
// left to the decoder, which reports type errors.
type checker struct {
	file string
	bad  map[*yaml.Node]bool
	hint Hint
}

func (c *checker) keys(n *yaml.Node, keyPath string, t reflect.Type) Errors {
	file, bad := c.file, c.bad
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if e, ok := checkText(file, n, keyPath, t, bad); ok {
		if e != nil {
			return Errors{e}
		}
		return nil
	}
	var errs Errors
	switch t.Kind() {
	case reflect.Struct:
		keys := yamlKeys(t)
		if n.Kind != yaml.MappingNode || len(keys) == 0 {
			return nil
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, val := n.Content[i], n.Content[i+1]
			sub := Join(keyPath, k.Value)
			f, ok := fieldByKey(t, k.Value)
			if !ok {
				msg := fmt.Sprintf("unknown key %q", k.Value)
				if h := c.hintFor(keyPath, k.Value, keys); h != "" {
					msg += " (" + h + ")"
				} else if s := suggest.Closest(k.Value, keys, 3); s != "" {
					msg += fmt.Sprintf(" (did you mean %q?)", s)
				}
				errs = append(errs, &Error{File: file, Line: k.Line, Path: sub, Msg: msg + "; valid keys here: " + strings.Join(keys, ", ")})
				continue
			}
			errs = append(errs, c.keys(val, sub, f.Type)...)
		}
	case reflect.Slice:
		if n.Kind == yaml.SequenceNode {
			for i, item := range n.Content {
				errs = append(errs, c.keys(item, keyPath+"["+strconv.Itoa(i)+"]", t.Elem())...)
			}
		}
	case reflect.Map:
		if n.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(n.Content); i += 2 {
				errs = append(errs, c.keys(n.Content[i+1], Join(keyPath, n.Content[i].Value), t.Elem())...)
			}
		}
	}
	return errs
}

func (c *checker) hintFor(parent, key string, valid []string) string {
	if c.hint == nil {
		return ""
	}
	return c.hint(parent, key, valid)
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

// Join appends a key to a key path.
func Join(p, key string) string {
	if p == "" {
		return key
	}
	return p + "." + key
}

// Line returns the line of a key path ("steps[1].expect.status") below
// root, or of its nearest present parent.
func Line(root *yaml.Node, keyPath string) int {
	if root == nil {
		return 0
	}
	n, line := root, root.Line
	for _, part := range strings.Split(keyPath, ".") {
		name, idx := part, -1
		if i := strings.IndexByte(part, '['); i >= 0 {
			name = part[:i]
			idx, _ = strconv.Atoi(strings.TrimSuffix(part[i+1:], "]"))
		}
		next := (*yaml.Node)(nil)
		if name == "" {
			next = n
		} else if n.Kind == yaml.MappingNode {
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
