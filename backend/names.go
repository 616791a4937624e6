package backend

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/albmtls/albmtls/emulator/albheader"
)

// HeaderNameKeys maps the short names `albmtls backend --header-name`
// accepts to the listener attributes that rename the mTLS headers
// (alb-behaviour §4.3), so that a target can be told the names its listener
// sends.
var HeaderNameKeys = map[string]string{
	"clientcert":    albheader.AttrClientCertName,
	"serial-number": albheader.AttrClientCertSerialNumberName,
	"issuer":        albheader.AttrClientCertIssuerName,
	"subject":       albheader.AttrClientCertSubjectName,
	"validity":      albheader.AttrClientCertValidityName,
	"leaf":          albheader.AttrClientCertLeafName,
}

// NamesFromAttributes reads the listener's mTLS rename attributes, keyed as
// in the emulator's config (or as HeaderNameKeys' short names), with the
// emulator's own rules (valid token, no two headers on one name). Other
// keys are refused with the list of valid ones: a target needs nothing else.
func NamesFromAttributes(attrs map[string]string) (albheader.Names, error) {
	full := make(map[string]string, len(attrs))
	for k, v := range attrs {
		key, ok := HeaderNameKeys[k]
		if !ok {
			key = k
		}
		if !slices.Contains(headerNameAttrs(), key) {
			return albheader.Names{}, fmt.Errorf("backend: %q is not an mTLS header rename attribute; use one of %s, or the listener attribute keys %s",
				k, strings.Join(shortNames(), ", "), strings.Join(headerNameAttrs(), ", "))
		}
		full[key] = v
	}
	o, err := albheader.OptionsFromAttributes(full)
	if err != nil {
		return albheader.Names{}, fmt.Errorf("backend: %w", err)
	}
	return o.Names, nil
}

func headerNameAttrs() []string {
	out := make([]string, 0, len(HeaderNameKeys))
	for _, k := range HeaderNameKeys {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func shortNames() []string {
	out := make([]string, 0, len(HeaderNameKeys))
	for k := range HeaderNameKeys {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
