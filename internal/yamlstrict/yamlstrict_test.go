package yamlstrict

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type doc struct {
	Name  string            `yaml:"name"`
	Items []item            `yaml:"items"`
	Attrs map[string]inner  `yaml:"attrs"`
	Ptr   *inner            `yaml:"ptr"`
	Plain map[string]string `yaml:"plain"`
}

type item struct {
	Mode string `yaml:"mode"`
}

type inner struct {
	On bool `yaml:"on"`
}

const text = `name: x
items:
  - mode: a
  - mod: b
attrs:
  k: {on: true, of: false}
ptr: {on: true}
plain: {any: thing}
`

func TestDecodeReportsEveryUnknownKeyWithItsPosition(t *testing.T) {
	root, err := Root("f.yaml", []byte(text), "want a mapping")
	require.NoError(t, err)
	var d doc
	err = Decode("f.yaml", root, &d)
	es := As(err)
	require.Len(t, es, 2, "%v", err)
	assert.Equal(t, `f.yaml:4: items[1].mod: unknown key "mod" (did you mean "mode"?); valid keys here: mode`, es[0].Error())
	assert.Equal(t, "f.yaml:6: attrs.k.of: unknown key \"of\" (did you mean \"on\"?); valid keys here: on", es[1].Error())
}

func TestLine(t *testing.T) {
	root, err := Root("f.yaml", []byte(text), "want a mapping")
	require.NoError(t, err)
	for path, want := range map[string]int{
		"name": 1, "items": 2, "items[1]": 4, "items[1].mod": 4, "attrs.k": 6,
		"ptr.on": 7, "nope": 1, "items[9]": 2, "plain.any": 8,
	} {
		assert.Equal(t, want, Line(root, path), path)
	}
	assert.Zero(t, Line(nil, "name"))
}

func TestRootAndTypeErrors(t *testing.T) {
	_, err := Root("f.yaml", []byte("a: ["), "want a mapping")
	assert.Regexp(t, `^f\.yaml:1: not valid YAML: `, err.Error())
	_, err = Root("f.yaml", []byte("- a\n- b\n"), "want a mapping")
	assert.EqualError(t, err, "f.yaml:1: want a mapping")
	root, err := Root("f.yaml", []byte("name: x\nitems: 3\n"), "want a mapping")
	require.NoError(t, err)
	var d doc
	es := As(Decode("f.yaml", root, &d))
	require.Len(t, es, 1)
	assert.Equal(t, 2, es[0].Line)
	assert.Contains(t, es[0].Msg, "cannot unmarshal")
}

// colour is an enumeration that refuses unknown values, as the config's
// modes and knobs do.
type colour string

func (c *colour) UnmarshalText(b []byte) error {
	switch string(b) {
	case "", "red", "blue":
		*c = colour(b)
		return nil
	}
	return fmt.Errorf("%q is not a colour; use red or blue", b)
}

type palette struct {
	Name    string   `yaml:"name"`
	Main    colour   `yaml:"main"`
	Others  []colour `yaml:"others"`
	Count   int      `yaml:"count"`
	Comment string   `yaml:"comment"`
}

// TestDecodeAllGoesOnAfterProblems: an unknown key, a refused enumerated
// value (with its key path) and a type error are all reported, and the rest
// of the document is still decoded.
func TestDecodeAllGoesOnAfterProblems(t *testing.T) {
	root, err := Root("p.yaml", []byte(`name: sunset
main: green
others: [red, pink, blue]
count: many
colour: red
comment: kept
`), "want a mapping")
	require.NoError(t, err)
	var p palette
	errs := DecodeAll("p.yaml", root, &p)
	require.Len(t, errs, 4, "%v", errs)
	assert.Equal(t, `p.yaml:2: main: "green" is not a colour; use red or blue`, errs[0].Error())
	assert.Equal(t, `p.yaml:3: others[1]: "pink" is not a colour; use red or blue`, errs[1].Error())
	assert.Contains(t, errs[2].Error(), `p.yaml:5: colour: unknown key "colour"`)
	assert.Contains(t, errs[3].Error(), "p.yaml:4:")
	assert.Equal(t, "sunset", p.Name)
	assert.Equal(t, "kept", p.Comment)
	assert.Equal(t, colour(""), p.Main, "a refused value decodes as absent")
	assert.Equal(t, []colour{"red", "blue"}, p.Others, "a refused list item is left out")
}
