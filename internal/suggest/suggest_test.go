package suggest

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestDistance(t *testing.T) {
	for _, c := range []struct {
		a, b string
		d    int
	}{{"", "", 0}, {"mode", "mod", 1}, {"kitten", "sitting", 3}, {"", "abc", 3}, {"same", "same", 0}} {
		assert.Equal(t, c.d, Distance(c.a, c.b), "%q %q", c.a, c.b)
		assert.Equal(t, c.d, Distance(c.b, c.a), "symmetric")
	}
}

func TestClosest(t *testing.T) {
	keys := []string{"mode", "trust_store", "advertise_trust_store_ca_names"}
	assert.Equal(t, "mode", Closest("mod", keys, 2))
	assert.Equal(t, "trust_store", Closest("Trust_Stor", keys, 2), "case-insensitive")
	assert.Equal(t, "", Closest("completely-different", keys, 2))
	assert.Equal(t, "mode", Closest("completely-different", keys[:1], -1), "any distance")
}
