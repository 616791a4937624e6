package conformance

import (
	"fmt"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Setting changes one key of every generated config: PATH=VALUE, where PATH
// is dotted (emulation.strip_client_headers), with [N] for list items and
// ["…"] for keys that contain dots (listeners[0].attributes["routing.http.xff_header_processing.mode"]),
// and VALUE is YAML (false, [], "text"). It is the way to break one emulator
// behaviour on purpose and see which scenarios turn red.
type Setting struct {
	Path  []string // keys and [N] indexes
	Value any
	text  string
}

// ParseSetting reads PATH=VALUE.
func ParseSetting(s string) (Setting, error) {
	p, v, ok := strings.Cut(s, "=")
	if !ok || p == "" {
		return Setting{}, fmt.Errorf("--set %q: want PATH=VALUE, e.g. emulation.strip_client_headers=false", s)
	}
	var path []string
	for rest := p; rest != ""; {
		switch {
		case strings.HasPrefix(rest, "[\""):
			end := strings.Index(rest, "\"]")
			if end < 0 {
				return Setting{}, fmt.Errorf("--set %q: unterminated [\"key\"]", s)
			}
			path, rest = append(path, rest[2:end]), rest[end+2:]
		case strings.HasPrefix(rest, "["):
			end := strings.IndexByte(rest, ']')
			if end < 0 {
				return Setting{}, fmt.Errorf("--set %q: unterminated [index]", s)
			}
			if _, err := strconv.Atoi(rest[1:end]); err != nil {
				return Setting{}, fmt.Errorf("--set %q: %q is not a list index", s, rest[1:end])
			}
			path, rest = append(path, rest[:end+1]), rest[end+1:]
		case strings.HasPrefix(rest, "."):
			rest = rest[1:]
		default:
			end := strings.IndexAny(rest, ".[")
			if end < 0 {
				end = len(rest)
			}
			path, rest = append(path, rest[:end]), rest[end:]
		}
	}
	var val any
	if err := yaml.Unmarshal([]byte(v), &val); err != nil {
		return Setting{}, fmt.Errorf("--set %q: the value is not YAML: %v", s, err)
	}
	return Setting{Path: path, Value: val, text: s}, nil
}

// apply sets the value in a config map, creating mappings on the way.
func (st Setting) apply(cfg map[string]any) error {
	var cur any = cfg
	for i, key := range st.Path {
		last := i == len(st.Path)-1
		if strings.HasPrefix(key, "[") {
			idx, _ := strconv.Atoi(key[1 : len(key)-1])
			list, ok := cur.([]any)
			if !ok || idx >= len(list) {
				return fmt.Errorf("--set %s: %s does not exist in the generated config", st.text, strings.Join(st.Path[:i+1], ""))
			}
			if last {
				list[idx] = st.Value
				return nil
			}
			cur = list[idx]
			continue
		}
		m, ok := cur.(map[string]any)
		if !ok {
			return fmt.Errorf("--set %s: %s is not a mapping in the generated config", st.text, strings.Join(st.Path[:i], "."))
		}
		if last {
			m[key] = st.Value
			return nil
		}
		next, ok := m[key]
		if !ok {
			next = map[string]any{}
			m[key] = next
		}
		cur = next
	}
	return nil
}

// String returns the setting as given.
func (st Setting) String() string { return st.text }
