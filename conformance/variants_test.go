package conformance

import (
	"context"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/albmtls/albmtls/pki/pkitest"
)

// TestSetBreaksVariantStripping: turning emulation.strip_header_name_variants
// off fails exactly the scenarios that pin the stripping of '_' spellings,
// so they catch an ALB (or emulator) that forwards them.
func TestSetBreaksVariantStripping(t *testing.T) {
	set, err := ParseSetting("emulation.strip_header_name_variants=false")
	require.NoError(t, err)
	rep, err := Run(context.Background(), Options{PKIDir: pkitest.Dir(t), Run: regexp.MustCompile("underscore|spoofed|variants|invalid"), Set: []Setting{set}})
	require.NoError(t, err)
	assert.Equal(t, []string{
		"off-strips-underscore-mtls-header-variants",
		"strips-underscore-variant-of-renamed-header",
		"verify-strips-underscore-mtls-header-variants",
	}, failing(rep))
	assert.Greater(t, len(rep.Results), 8)
}
