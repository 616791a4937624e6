package config

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fourMistakes has four mistakes of different kinds: an unknown key, a bad
// enumerated value, an unknown listener attribute and a reference to a
// trust store that does not exist.
const fourMistakes = `trust_stores: [{name: ts, ca_certificates_bundle: b.pem}]
listeners:
  - port: 8443
    protocol: HTTPS
    certificates: [{certificate: s.pem, private_key: k.pem}]
    mutual_authentication: {mode: verifyy, trust_store: ts}
    attributes: {routing.http.made_up.enabled: "true"}
    default_action: {type: fixed-response, fixed_response: {status_code: "200"}}
  - port: 8444
    protocol: HTTPS
    certificates: [{certificate: s.pem, private_key: k.pem}]
    mutual_authentication: {mode: verify, trust_store: nope}
    default_action: {type: fixed-response, fixed_response: {status_code: "200"}}
emulation: {rejectwith: alert}
`

// TestEveryStaticProblemInOneRun: one load reports all four mistakes, each
// at its line and key path, and nothing more (a refused mode does not also
// make its trust_store "not allowed in off mode").
func TestEveryStaticProblemInOneRun(t *testing.T) {
	_, err := Parse("x.yaml", []byte(fourMistakes))
	var es Errors
	require.ErrorAs(t, err, &es)
	want := []string{
		`x.yaml:6: listeners[0].mutual_authentication.mode: "verifyy" is not a mutual authentication mode; use off, passthrough or verify`,
		`x.yaml:14: emulation.rejectwith: unknown key "rejectwith" (did you mean "reject_with"?)`,
		`x.yaml:12: listeners[1].mutual_authentication.trust_store: TrustStoreNotFound: no trust store named "nope"`,
		`x.yaml:7: listeners[0].attributes.routing.http.made_up.enabled: albmtls does not support the listener attribute "routing.http.made_up.enabled"`,
	}
	require.Len(t, es, len(want), "%v", err)
	for _, w := range want {
		assert.Contains(t, err.Error(), w)
	}
	assert.Contains(t, err.Error(), "4 problems in the config")

	c, all := ParseAll("x.yaml", []byte(fourMistakes))
	require.NotNil(t, c, "ParseAll returns what it read")
	assert.Len(t, all, 4)
	assert.Nil(t, c.Plans(), "an invalid config has no plans to serve")
}
