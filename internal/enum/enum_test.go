package enum

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type color string

func TestParse(t *testing.T) {
	cases := []struct {
		in, want, err string
		knob          bool
	}{
		{in: "red", want: "red"},
		{in: "", want: ""},
		{in: "Red", err: `"Red" is not a colour; use red, green or blue`},
		{in: "pink", knob: true, err: `"pink" is not valid; use red or green or blue`},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			var got color
			var err error
			if tc.knob {
				got, err = ParseKnob(tc.in, color("red"), "green", "blue")
			} else {
				got, err = Parse(tc.in, "a colour", color("red"), "green", "blue")
			}
			if tc.err != "" {
				require.EqualError(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, color(tc.want), got)
		})
	}
	assert.Equal(t, "a or b", List([]string{"a", "b"}, ", ", " or "))
}
