package config

import (
	"testing"

	"github.com/albmtls/albmtls/emulator/albresponse"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestFixedResponseCharset: emulation.fixed_response_charset defaults to
// utf-8 (ALB's observed "text/plain; charset=utf-8", alb-behaviour §8.3),
// takes none, and refuses anything else with the valid values.
func TestFixedResponseCharset(t *testing.T) {
	c, err := Parse("x.yaml", []byte(minimal))
	require.NoError(t, err)
	assert.Equal(t, albresponse.CharsetUTF8, c.Emulation.FixedResponseCharset)

	c, err = Parse("x.yaml", []byte("emulation: {fixed_response_charset: none}\n"+minimal))
	require.NoError(t, err)
	assert.Equal(t, albresponse.CharsetNone, c.Emulation.FixedResponseCharset)

	_, err = Parse("x.yaml", []byte("emulation: {fixed_response_charset: latin1}\n"+minimal))
	require.Error(t, err)
	assert.Contains(t, err.Error(), `emulation.fixed_response_charset: "latin1" is not valid; use utf-8 or none`)
}
