package config

import (
	"reflect"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/albmtls/albmtls/internal/suggest"
)

var configType = reflect.TypeOf(Config{})

// checkKeys walks the YAML tree alongside the Go type it decodes into and
// reports every mapping key the type does not have, with the valid keys, so
// that a typo ("mod: verify") is an error rather than a silently ignored
// setting.
func checkKeys(file string, n *yaml.Node, path string, t reflect.Type) Errors {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	var errs Errors
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			if _, ok := reflect.New(t).Interface().(yaml.Unmarshaler); ok {
				return nil
			}
			if n.Tag == "!!null" {
				return nil
			}
			return Errors{{File: file, Line: n.Line, Path: path, Msg: "want a mapping of keys (" + strings.Join(yamlKeys(t), ", ") + ")"}}
		}
		fields := map[string]reflect.Type{}
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			fields[name] = f.Type
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			sub := join(path, k.Value)
			ft, ok := fields[k.Value]
			if !ok {
				msg := "unknown key " + quote(k.Value) + "; valid keys here: " + strings.Join(yamlKeys(t), ", ")
				if s := suggest.Closest(k.Value, yamlKeys(t), 2); s != "" {
					msg = "unknown key " + quote(k.Value) + " (did you mean " + quote(s) + "?); valid keys here: " + strings.Join(yamlKeys(t), ", ")
				}
				errs = append(errs, &Error{File: file, Line: k.Line, Path: sub, Msg: msg})
				continue
			}
			errs = append(errs, checkKeys(file, v, sub, ft)...)
		}
	case reflect.Slice:
		if n.Kind == yaml.SequenceNode {
			for i, item := range n.Content {
				errs = append(errs, checkKeys(file, item, path+"["+itoa(i)+"]", t.Elem())...)
			}
		}
	}
	return errs
}

func yamlKeys(t reflect.Type) []string {
	var keys []string
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		keys = append(keys, name)
	}
	sort.Strings(keys)
	return keys
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func quote(s string) string { return "\"" + s + "\"" }
