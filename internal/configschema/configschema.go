// Package configschema writes the JSON Schema of albmtls.yaml from the
// config types themselves (emulator/config.Config), so that editors with
// yaml-language-server complete and check the file as albmtls reads it:
// the keys from the yaml tags (an unknown key is refused, as the loader
// refuses it), the enumerations from the value lists their packages own,
// the attribute keys and security policy names the loader accepts, and
// descriptions from the key tables of docs/configuration.md.
//
// The schema is JSON Schema draft-07, the draft yaml-language-server
// validates with (later drafts are not supported by it:
// https://github.com/redhat-developer/yaml-language-server/issues/856).
// It checks structure and values; the loader's cross-key rules (verify
// mode needs a trust store, at most two verify listeners, …) stay with
// `albmtls serve --check`.
package configschema

import (
	"bytes"
	"encoding"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"

	"github.com/albmtls/albmtls/emulator/albheader"
	"github.com/albmtls/albmtls/emulator/albresponse"
	"github.com/albmtls/albmtls/emulator/certfmt"
	"github.com/albmtls/albmtls/emulator/config"
	"github.com/albmtls/albmtls/emulator/listener"
	"github.com/albmtls/albmtls/emulator/routing"
	"github.com/albmtls/albmtls/emulator/sslpolicy"
	"github.com/albmtls/albmtls/emulator/targetgroup"
	"github.com/albmtls/albmtls/emulator/verify"
)

// ID is the schema's $id, the name it is committed under in docs/.
const ID = "albmtls.schema.json"

// enumValues are the values of every enumerated type of the config, from
// the lists their packages own (the same lists their UnmarshalText
// accepts). Generate refuses a TextUnmarshaler type missing here, so that
// a new enumeration cannot reach the schema as a plain string.
var enumValues = map[reflect.Type][]string{
	reflect.TypeFor[listener.Mode]():              strs(listener.Modes),
	reflect.TypeFor[listener.Protocol]():          strs(listener.Protocols),
	reflect.TypeFor[listener.RejectWith]():        strs(listener.RejectWiths),
	reflect.TypeFor[listener.AdvertiseCANames]():  {string(listener.AdvertiseCANamesOn), string(listener.AdvertiseCANamesOff)},
	reflect.TypeFor[targetgroup.Protocol]():       strs(targetgroup.Protocols),
	reflect.TypeFor[routing.ActionType]():         strs(routing.ActionTypes),
	reflect.TypeFor[albresponse.RedirectStatus](): strs(albresponse.RedirectStatuses),
	reflect.TypeFor[albresponse.Charset]():        strs(albresponse.Charsets),
	reflect.TypeFor[verify.CRLMissingPolicy]():    strs(verify.CRLMissingPolicies),
	reflect.TypeFor[verify.StaleCRLPolicy]():      strs(verify.StaleCRLPolicies),
	reflect.TypeFor[verify.ExpiryScope]():         strs(verify.ExpiryScopes),
	// The config's codes are the emulation knobs that choose a rejection's
	// code, which must be a failure (verify.FailureCode): Success is left out.
	reflect.TypeFor[verify.Code]():            failureCodes(),
	reflect.TypeFor[albheader.XFFMode]():      strs(albheader.XFFModes),
	reflect.TypeFor[albheader.Copies]():       strs(albheader.CopiesValues),
	reflect.TypeFor[albheader.Order]():        strs(albheader.OrderValues),
	reflect.TypeFor[certfmt.EqualsEncoding](): {certfmt.EqualsLiteral.String(), certfmt.EqualsPercent.String()},
	reflect.TypeFor[config.TargetType]():      strs(config.TargetTypes),
}

func strs[T ~string](vs []T) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = string(v)
	}
	return out
}

func failureCodes() []string {
	var out []string
	for _, c := range verify.Codes {
		if verify.FailureCode(c) == nil {
			out = append(out, string(c))
		}
	}
	return out
}

// keyEnums are string keys whose values the loader checks against a list
// of its own: the security policy names.
var keyEnums = map[string]func() []string{
	"listeners.ssl_policy": sslpolicy.Names,
}

// keySchemas are keys whose YAML a custom UnmarshalYAML reads in a shape
// their Go type does not show.
// (Filled in init: the entries call the generator, which reads the table.)
var keySchemas = map[string]func(g *generator, path string) (object, error){}

func init() {
	// TargetGroup.UnmarshalYAML: host:port strings, or the {function,
	// endpoint} of a lambda target group (Functions).
	keySchemas["target_groups.targets"] = func(g *generator, path string) (object, error) {
		fn, err := g.typeSchema(reflect.TypeFor[config.LambdaTarget](), path+"[]")
		if err != nil {
			return nil, err
		}
		fn["required"] = []string{"function"}
		return object{"type": "array", "items": object{"anyOf": []object{{"type": "string"}, fn}}}, nil
	}
}

// mapKeys are the attribute maps whose keys the loader checks.
var mapKeys = map[string]func() []string{
	"load_balancer.attributes": config.LoadBalancerAttributeKeys,
	"listeners.attributes":     config.ListenerAttributeKeys,
}

var (
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
	durationType    = reflect.TypeFor[config.Duration]()
)

// durationPattern is what config.Duration reads as a string: Go's duration
// notation ("1m30s", "250ms") or a whole number of seconds.
const durationPattern = `^(-?[0-9]+|-?([0-9]+(\.[0-9]*)?(ns|us|µs|μs|ms|s|m|h))+)$`

// Generate returns the schema of albmtls.yaml, indented, with a final
// newline. descriptions maps key paths without list indexes
// ("listeners.mutual_authentication.mode") to their text (DocDescriptions).
func Generate(descriptions map[string]string) ([]byte, error) {
	g := &generator{desc: descriptions}
	root, err := g.schema(reflect.TypeFor[config.Config](), "")
	if err != nil {
		return nil, err
	}
	root["$schema"] = "http://json-schema.org/draft-07/schema#"
	root["$id"] = ID
	root["title"] = "albmtls.yaml"
	root["description"] = "The configuration of albmtls serve: an emulated AWS Application Load Balancer with mutual TLS. See docs/configuration.md. Generated from the config types by internal/configschema; do not edit."
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(root); err != nil {
		return nil, fmt.Errorf("configschema: %w", err)
	}
	return buf.Bytes(), nil
}

type generator struct {
	desc map[string]string
}

type object = map[string]any

func (g *generator) schema(t reflect.Type, path string) (object, error) {
	s, err := g.typeSchema(t, path)
	if err != nil {
		return nil, err
	}
	if d := g.desc[path]; d != "" && path != "" {
		s["description"] = d
	}
	return s, nil
}

func (g *generator) typeSchema(t reflect.Type, path string) (object, error) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == durationType {
		return object{"type": []string{"string", "integer"}, "pattern": durationPattern}, nil
	}
	if vals, ok := enumValues[t]; ok {
		return object{"type": "string", "enum": vals}, nil
	}
	if reflect.PointerTo(t).Implements(textUnmarshaler) {
		return nil, fmt.Errorf("configschema: %s (at %s) is an enumeration without a value list: add it to enumValues", t, path)
	}
	if f, ok := keyEnums[path]; ok && t.Kind() == reflect.String {
		return object{"type": "string", "enum": f()}, nil
	}
	if f, ok := keySchemas[path]; ok {
		return f(g, path)
	}
	switch t.Kind() {
	case reflect.String:
		return object{"type": "string"}, nil
	case reflect.Bool:
		return object{"type": "boolean"}, nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return object{"type": "integer"}, nil
	case reflect.Slice:
		items, err := g.schema(t.Elem(), path)
		if err != nil {
			return nil, err
		}
		delete(items, "description")
		return object{"type": "array", "items": items}, nil
	case reflect.Map:
		if t.Key().Kind() != reflect.String {
			return nil, fmt.Errorf("configschema: %s (at %s): map keys must be strings", t, path)
		}
		vals, err := g.typeSchema(t.Elem(), path+".*")
		if err != nil {
			return nil, err
		}
		s := object{"type": "object", "additionalProperties": vals}
		if f, ok := mapKeys[path]; ok {
			s["propertyNames"] = object{"enum": f()}
		}
		return s, nil
	case reflect.Struct:
		props := object{}
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			name := yamlName(f)
			if name == "" {
				continue
			}
			p, err := g.schema(f.Type, join(path, name))
			if err != nil {
				return nil, err
			}
			props[name] = p
		}
		return object{"type": "object", "properties": props, "additionalProperties": false}, nil
	}
	return nil, fmt.Errorf("configschema: %s (at %s) has no JSON Schema form", t, path)
}

func yamlName(f reflect.StructField) string {
	if !f.IsExported() {
		return ""
	}
	name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	switch name {
	case "-":
		return ""
	case "":
		return strings.ToLower(f.Name)
	}
	return name
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}
