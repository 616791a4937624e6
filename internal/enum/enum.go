// Package enum parses the configuration's enumerations (modes, protocols,
// emulation knobs) into the typed values their packages own, so that every
// package rejects an unknown value the same way: quoting it and listing the
// valid ones. The types implement encoding.TextUnmarshaler with Parse or
// ParseKnob; the config loader reports their errors at the key's line.
package enum

import (
	"fmt"
	"strings"
)

// Parse returns s as a T when it is one of valid, or "" when s is empty
// (the key's default applies). Otherwise the error reads
// `"s" is not WHAT; use a, b or c`.
func Parse[T ~string](s, what string, valid ...T) (T, error) {
	if v, ok := find(s, valid); ok {
		return v, nil
	}
	return "", fmt.Errorf("%q is not %s; use %s", s, what, List(valid, ", ", " or "))
}

// ParseKnob is Parse for an emulation knob or an attribute value, whose
// error reads `"s" is not valid; use a or b or c`.
func ParseKnob[T ~string](s string, valid ...T) (T, error) {
	if v, ok := find(s, valid); ok {
		return v, nil
	}
	return "", fmt.Errorf("%q is not valid; use %s", s, List(valid, " or ", " or "))
}

func find[T ~string](s string, valid []T) (T, bool) {
	if s == "" {
		return "", true
	}
	for _, v := range valid {
		if string(v) == s {
			return v, true
		}
	}
	return "", false
}

// List joins the values for a message: sep between them, last before the
// final one ("a, b or c" with ", " and " or ").
func List[T ~string](valid []T, sep, last string) string {
	var b strings.Builder
	for i, v := range valid {
		switch {
		case i == 0:
		case i == len(valid)-1:
			b.WriteString(last)
		default:
			b.WriteString(sep)
		}
		b.WriteString(string(v))
	}
	return b.String()
}
