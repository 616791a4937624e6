package configschema

import (
	"bytes"
	"encoding"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/albmtls/albmtls/emulator/config"
	"github.com/albmtls/albmtls/internal/golden"
)

const repoRoot = "../.."

func generated(t *testing.T) []byte {
	t.Helper()
	md, err := os.ReadFile(filepath.Join(repoRoot, "docs", "configuration.md"))
	require.NoError(t, err)
	data, err := Generate(DocDescriptions(md))
	require.NoError(t, err)
	return data
}

// TestCommittedSchemaIsGenerated: docs/albmtls.schema.json and the copy
// albmtls config schema prints are what the generator writes from the
// config types today. A field added to emulator/config fails here until
// `go generate ./internal/configschema` (or this test with -update) is
// run and the result committed.
func TestCommittedSchemaIsGenerated(t *testing.T) {
	data := generated(t)
	golden.Assert(t, filepath.Join(repoRoot, "docs", "albmtls.schema.json"), data)
	golden.Assert(t, "albmtls.schema.json", data)
	if !golden.Update() {
		assert.Equal(t, string(data), string(Committed), "the embedded copy is the committed file")
	}
}

// compile reads the generated schema with the validator, as an editor
// would load docs/albmtls.schema.json.
func compile(t *testing.T) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(generated(t)))
	require.NoError(t, err)
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft7)
	require.NoError(t, c.AddResource(ID, doc))
	s, err := c.Compile(ID)
	require.NoError(t, err, "the schema is valid draft-07")
	return s
}

// instance reads YAML as the JSON value yaml-language-server validates.
func instance(t *testing.T, name string, text []byte) any {
	t.Helper()
	var v any
	require.NoError(t, yaml.Unmarshal(text, &v), name)
	js, err := json.Marshal(v)
	require.NoError(t, err, name)
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(js))
	require.NoError(t, err, name)
	return inst
}

var configKeys = func() []string {
	var keys []string
	t := reflect.TypeFor[config.Config]()
	for i := 0; i < t.NumField(); i++ {
		if n := yamlName(t.Field(i)); n != "" {
			keys = append(keys, n)
		}
	}
	return keys
}()

// isConfig tells an albmtls.yaml (or a fragment of one) from the other
// YAML the docs show (scenario files, --expect files): a mapping whose
// top-level keys are all albmtls.yaml's.
func isConfig(text []byte) bool {
	var m map[string]any
	if yaml.Unmarshal(text, &m) != nil || len(m) == 0 {
		return false
	}
	for k := range m {
		if !slices.Contains(configKeys, k) {
			return false
		}
	}
	return true
}

type example struct {
	name string
	text []byte
}

// examples are every albmtls.yaml of the repository meant to be valid: the
// ```yaml blocks of README.md and docs/*.md that are albmtls configs, and
// the config files (deploy/, testdata/ configs and the golden files of
// written configs).
func examples(t *testing.T) []example {
	t.Helper()
	var out []example
	mds, err := filepath.Glob(filepath.Join(repoRoot, "docs", "*.md"))
	require.NoError(t, err)
	block := regexp.MustCompile("(?ms)^```ya?ml\n(.*?)^```")
	for _, md := range append(mds, filepath.Join(repoRoot, "README.md")) {
		raw, err := os.ReadFile(md)
		require.NoError(t, err)
		for _, m := range block.FindAllSubmatchIndex(raw, -1) {
			text := raw[m[2]:m[3]]
			if isConfig(text) {
				line := bytes.Count(raw[:m[0]], []byte("\n")) + 1
				out = append(out, example{rel(md) + ":" + strconv.Itoa(line), text})
			}
		}
	}
	skip := map[string]bool{"scenarios": true, "fuzz": true, ".git": true, "node_modules": true}
	err = filepath.WalkDir(repoRoot, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if skip[d.Name()] {
				return filepath.SkipDir
			}
			return nil
		}
		ext := filepath.Ext(p)
		if ext != ".yaml" && ext != ".yml" && !strings.HasSuffix(p, ".yaml.golden") && !strings.HasSuffix(p, ".written.golden") {
			return nil
		}
		raw, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if isConfig(raw) {
			out = append(out, example{rel(p), raw})
		}
		return nil
	})
	require.NoError(t, err)
	return out
}

func rel(p string) string {
	r, err := filepath.Rel(repoRoot, p)
	if err != nil {
		return p
	}
	return filepath.ToSlash(r)
}

// TestExamplesValidate validates every example config of the docs and the
// repository against the generated schema with a JSON Schema validator, so
// that what the docs show is what an editor accepts. The list must hold
// the examples known to exist, so that a broken search cannot pass by
// finding nothing.
func TestExamplesValidate(t *testing.T) {
	s := compile(t)
	list := examples(t)
	var names []string
	for _, ex := range list {
		names = append(names, ex.name)
		t.Run(ex.name, func(t *testing.T) {
			err := s.Validate(instance(t, ex.name, ex.text))
			assert.NoError(t, err, "%s does not validate against docs/albmtls.schema.json", ex.name)
		})
	}
	t.Logf("%d example configs validated: %s", len(list), strings.Join(names, ", "))
	perFile := map[string]int{}
	for _, n := range names {
		file, _, _ := strings.Cut(n, ":")
		perFile[file]++
	}
	for file, min := range map[string]int{"docs/configuration.md": 2, "docs/logs.md": 1, "docs/ssl-policies.md": 1, "docs/conformance.md": 1,
		"deploy/verify.yaml": 1, "deploy/passthrough.yaml": 1, "emulator/config/testdata/brief.yaml": 1,
		"conformance/testdata/template.yaml.golden": 1, "importer/terraform/testdata/plan.albmtls.yaml": 1} {
		assert.GreaterOrEqual(t, perFile[file], min, "examples found in %s", file)
	}
}

// TestSchemaRefusesWhatTheLoaderRefuses: a config with an unknown key, a
// misspelt enumeration value, an unknown attribute or security policy, or a
// bad duration fails validation, as config.Parse fails it; the base
// config passes both.
func TestSchemaRefusesWhatTheLoaderRefuses(t *testing.T) {
	s := compile(t)
	base := `trust_stores: [{name: ts, ca_certificates_bundle: ca.pem}]
target_groups: [{name: web, targets: ["127.0.0.1:9001"]}]
listeners:
  - port: 8443
    protocol: HTTPS
    ssl_policy: ELBSecurityPolicy-TLS13-1-2-2021-06
    certificates: [{certificate: s.pem, private_key: s.key}]
    mutual_authentication: {mode: verify, trust_store: ts}
    attributes: {routing.http.response.server.enabled: "false"}
    default_action: {type: forward, target_group: web}
emulation: {reject_with: alert, watch_interval: 5s, handshake_timeout: 10}
`
	require.NoError(t, s.Validate(instance(t, "base", []byte(base))))
	_, errs := config.ParseAll("x.yaml", []byte(base))
	require.Empty(t, errs)
	for _, tc := range []struct{ name, from, to, want string }{
		{"unknown top-level key", "emulation:", "trust_store_arn: x\nemulation:", "trust_store_arn"},
		{"unknown nested key", "{mode: verify, trust_store: ts}", "{mode: verify, trust_store_arn: ts}", "trust_store_arn"},
		{"bad mode", "mode: verify", "mode: verifyy", "verifyy"},
		{"bad protocol", "protocol: HTTPS", "protocol: https", "https"},
		{"bad action type", "type: forward", "type: fixed_response", "fixed_response"},
		{"bad knob", "reject_with: alert", "reject_with: rst", "rst"},
		{"bad listener attribute", "routing.http.response.server.enabled", "routing.http.made_up.enabled", "routing.http.made_up.enabled"},
		{"bad security policy", "ELBSecurityPolicy-TLS13-1-2-2021-06", "ELBSecurityPolicy-TLS13-1-2-2021-6", "ELBSecurityPolicy-TLS13-1-2-2021-6"},
		{"bad duration", "watch_interval: 5s", "watch_interval: soon", "soon"},
		{"port as text", "port: 8443", "port: eighty", "eighty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, 1, strings.Count(base, tc.from))
			text := strings.Replace(base, tc.from, tc.to, 1)
			err := s.Validate(instance(t, tc.name, []byte(text)))
			require.Error(t, err, "the schema accepts:\n%s", text)
			_, errs := config.ParseAll("x.yaml", []byte(text))
			require.NotEmpty(t, errs, "the loader accepts what the schema refuses:\n%s", text)
			assert.Contains(t, errs.Error(), tc.want)
		})
	}
}

// TestEnumerationsAreTheLoadersLists: every value the schema offers for an
// enumerated type is accepted by that type's UnmarshalText, and a value
// outside the list is refused, so the schema's lists are the loader's.
func TestEnumerationsAreTheLoadersLists(t *testing.T) {
	for typ, vals := range enumValues {
		require.NotEmpty(t, vals, typ.String())
		for _, v := range vals {
			u := reflect.New(typ).Interface().(encoding.TextUnmarshaler)
			assert.NoError(t, u.UnmarshalText([]byte(v)), "%s: %q", typ, v)
		}
		u := reflect.New(typ).Interface().(encoding.TextUnmarshaler)
		assert.Error(t, u.UnmarshalText([]byte("not-a-value")), typ.String())
	}
}

// TestNewEnumerationNeedsItsValues: a config field of an enumerated type
// without a value list stops the generator with the type's name, rather
// than reaching the schema as a plain string.
func TestNewEnumerationNeedsItsValues(t *testing.T) {
	type withNew struct {
		Level unlisted `yaml:"level"`
	}
	_, err := (&generator{}).schema(reflect.TypeFor[withNew](), "")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "configschema.unlisted (at level) is an enumeration without a value list: add it to enumValues")
}

type unlisted string

func (u *unlisted) UnmarshalText(b []byte) error { *u = unlisted(b); return nil }

// TestDescriptionsComeFromTheDocs: the key tables of
// docs/configuration.md describe the keys, defaults included.
func TestDescriptionsComeFromTheDocs(t *testing.T) {
	md, err := os.ReadFile(filepath.Join(repoRoot, "docs", "configuration.md"))
	require.NoError(t, err)
	d := DocDescriptions(md)
	assert.Equal(t, "off, passthrough or verify. Default: off.", d["listeners.mutual_authentication.mode"])
	assert.Contains(t, d["logs.connection.file"], "ALB connection log")
	assert.Contains(t, d["emulation.reject_with"], "Default: reset.")
	var s map[string]any
	require.NoError(t, json.Unmarshal(generated(t), &s))
	mode := dig(s, "properties", "listeners", "items", "properties", "mutual_authentication", "properties", "mode")
	assert.Equal(t, d["listeners.mutual_authentication.mode"], mode["description"])
	assert.Equal(t, []any{"off", "passthrough", "verify"}, mode["enum"])
}

func dig(m map[string]any, keys ...string) map[string]any {
	for _, k := range keys {
		m, _ = m[k].(map[string]any)
	}
	return m
}
