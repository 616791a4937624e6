package scenarios

import (
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const header = `description: A scenario.
source: {reference: "alb-behaviour §2.3", url: "https://docs.aws.amazon.com/x"}
basis: DOC
`

// TestParseErrors: every schema problem is an error naming the file, the
// line and the key path, with a suggestion where one helps.
func TestParseErrors(t *testing.T) {
	cases := []struct {
		name, yaml string
		want       []string
	}{
		{"unknown top-level key", header + "setup: {mode: verify}\nclient: {certificate: valid}\nexpect: {handshake: accepted}\nexpct: {}\n",
			[]string{`x.yaml:7: expct: unknown key "expct" (did you mean "expect"?); valid keys here: description, source, basis, setup`}},
		{"unknown nested key", header + "setup: {mode: verify}\nclient: {certificate: valid}\nexpect:\n  handshake: accepted\n  conection_log: {tls_verify_status: Success}\n",
			[]string{`x.yaml:8: expect.conection_log: unknown key "conection_log" (did you mean "connection_log"?)`}},
		{"unknown key in a value reference", header + "setup: {mode: verify}\nclient: {certificate: valid}\nexpect:\n  target_headers:\n    X-A: {subjet_of: client}\n",
			[]string{`x.yaml:8: expect.target_headers.X-A.subjet_of: unknown key "subjet_of" (did you mean "subject_of"?)`}},
		{"unknown log field", header + "setup: {mode: verify}\nclient: {certificate: valid}\nexpect:\n  connection_log: {tls_verify_stat: Success}\n",
			[]string{`x.yaml:7: expect.connection_log.tls_verify_stat: "tls_verify_stat" is not a log field (alb-behaviour §6.2); did you mean "tls_verify_status"?`}},
		{"bad mode", header + "setup: {mode: strict}\nclient: {}\nexpect: {handshake: accepted}\n",
			[]string{`x.yaml:4: setup.mode: "strict" is not valid; use off, passthrough, verify`}},
		{"bad basis", strings.Replace(header, "basis: DOC", "basis: UNK", 1) + "setup: {mode: verify}\nclient: {}\nexpect: {handshake: accepted}\n",
			[]string{"x.yaml:3: basis: UNK behaviours are emulator knobs"}},
		{"no source", "description: d\nbasis: DOC\nsetup: {mode: verify}\nclient: {}\nexpect: {handshake: accepted}\n",
			[]string{"source.reference: missing", "source.url: missing"}},
		{"contradiction", header + "setup: {mode: verify}\nclient: {certificate: revoked}\nexpect:\n  handshake: rejected\n  status: 200\n",
			[]string{"x.yaml:8: expect.status: contradicts handshake: rejected"}},
		{"checks nothing", header + "setup: {mode: verify}\nclient: {certificate: valid}\nexpect: {}\n",
			[]string{"expect: checks nothing, so it can never fail"}},
		{"both forms", header + "setup: {mode: verify}\nclient: {}\nexpect: {handshake: accepted}\nsteps:\n  - client: {}\n    expect: {handshake: accepted}\n",
			[]string{"steps: use either client/request/expect (one step) or steps, not both"}},
		{"bad status", header + "setup: {mode: verify}\nclient: {}\nexpect: {status: 20}\n",
			[]string{`x.yaml:6: "20" is not an HTTP status`}},
		{"bad regexp", header + "setup: {mode: verify}\nclient: {}\nexpect:\n  target_headers: {X-A: {matches: '('}}\n",
			[]string{"x.yaml:7: expect.target_headers.X-A: matches: error parsing regexp"}},
		{"two value forms", header + "setup: {mode: verify}\nclient: {certificate: valid}\nexpect:\n  target_headers: {X-A: {subject_of: client, matches: x}}\n",
			[]string{"x.yaml:7: expect.target_headers.X-A: want exactly one of"}},
		{"template variable", header + "setup: {mode: verify}\nclient: {}\nexpect:\n  target_headers: {X-A: {template: '${client_addr}'}}\n",
			[]string{"template: unknown variable ${client_addr}"}},
		{"verify-only setting", header + "setup: {mode: passthrough, ignore_client_certificate_expiry: true}\nclient: {}\nexpect: {handshake: accepted}\n",
			[]string{"setup.ignore_client_certificate_expiry: only verify mode has it"}},
		{"load error with a client", header + "setup: {mode: verify}\nclient: {}\nexpect: {load_error: InvalidRevocationContent}\n",
			[]string{"has no client, request or each_client"}},
		{"bad offset", header + "setup:\n  mode: verify\n  trust_store:\n    revocations: [{ca: intermediate, next_update: yesterday}]\nclient: {}\nexpect: {handshake: accepted}\n",
			[]string{`x.yaml:7: setup.trust_store.revocations[0].next_update: "yesterday" is not an offset`}},
		{"wrong type", header + "setup:\n  mode: verify\n  attributes: [a, b]\nclient: {}\nexpect: {handshake: accepted}\n",
			[]string{`x.yaml:6: cannot unmarshal !!seq into map[string]string`}},
		{"not YAML", "description: [\n", []string{"x.yaml"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("x.yaml", []byte(tc.yaml))
			require.Error(t, err)
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

var names = PKINames{Clients: []string{"valid", "member", "revoked"}, CAs: []string{"root", "intermediate"}}

// TestResolvePKINames: a name the PKI lacks is an error with file and line.
func TestResolvePKINames(t *testing.T) {
	cases := []struct {
		name, yaml, want string
	}{
		{"client", header + "setup: {mode: verify}\nclient: {certificate: revokd}\nexpect: {handshake: rejected}\n",
			`x.yaml:5: client.certificate: "revokd" is not in the PKI (did you mean "revoked"?); its client certificates: valid, member, revoked`},
		{"reference", header + "setup: {mode: verify}\nclient: {certificate: valid}\nexpect:\n  target_headers:\n    X-A: {subject_of: membr}\n",
			`x.yaml:8: expect.target_headers.X-A.subject_of: "membr" is not in the PKI (did you mean "member"?)`},
		{"CA", header + "setup:\n  mode: verify\n  trust_store: {bundle: {cas: [intermediat]}}\nclient: {}\nexpect: {handshake: accepted}\n",
			`x.yaml:6: setup.trust_store.bundle.cas: "intermediat" is not in the PKI (did you mean "intermediate"?); its CAs: root, intermediate`},
		{"revoke step", header + "setup: {mode: verify}\nsteps:\n  - revoke: [vaild]\n  - client: {certificate: valid}\n    expect: {handshake: rejected}\n",
			`x.yaml:6: revoke: "vaild" is not in the PKI (did you mean "valid"?)`},
		{"client reference without a client", header + "setup: {mode: verify}\nclient: {}\nexpect:\n  target_headers: {X-A: {subject_of: client}}\n",
			`x.yaml:7: expect.target_headers.X-A: subject_of "client" but the step presents no certificate`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Parse("x.yaml", []byte(tc.yaml))
			require.NoError(t, err)
			_, err = Resolve([]*Scenario{s}, names)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestEachClientExpands(t *testing.T) {
	all, err := Parse("dir/p.yaml", []byte(header+"setup: {mode: passthrough}\neach_client: all\nexpect:\n  target_headers: {X-Amzn-Mtls-Clientcert: {chain_pem_of: client}}\n"))
	require.NoError(t, err)
	some, err := Parse("dir/q.yaml", []byte(header+"setup: {mode: verify}\neach_client: [member, valid]\nclient: {certificate: client, tls_version: \"1.2\"}\nexpect: {handshake: accepted}\n"))
	require.NoError(t, err)
	list, err := Resolve([]*Scenario{all, some}, names)
	require.NoError(t, err)
	var got []string
	for _, s := range list {
		got = append(got, s.Name+"="+s.ClientOf(s.Steps[0]))
	}
	assert.Equal(t, []string{"p/valid=valid", "p/member=member", "p/revoked=revoked", "q/member=member", "q/valid=valid"}, got)
	assert.Equal(t, "1.2", list[3].Steps[0].Client.TLSVersion)
	assert.Len(t, Select(list, regexp.MustCompile("^q/")), 2)
}

func TestLoadReportsEveryFile(t *testing.T) {
	fsys := fstest.MapFS{
		"a.yaml": {Data: []byte(header + "setup: {mode: verify}\nclient: {}\nexpect: {handshake: accepted}\nextra: 1\n")},
		"b.yaml": {Data: []byte(header + "setup: {mode: nope}\nclient: {}\nexpect: {handshake: accepted}\n")},
		"c.txt":  {Data: []byte("not a scenario")},
	}
	_, err := Load(fsys, "cat")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "cat/a.yaml:7: extra: unknown key")
	assert.Contains(t, err.Error(), "cat/b.yaml:4: setup.mode")
	_, err = Load(fstest.MapFS{}, "empty")
	assert.ErrorContains(t, err, "empty: no scenario files")
}

// standardClients are the product brief's client certificates.
var standardClients = []string{"valid", "valid-rsa", "member", "outsider", "revoked", "revoked-intermediate", "expired",
	"not-yet-valid", "untrusted", "self-signed", "server-purpose", "weak-rsa", "deep-chain", "oversized"}

var standardNames = PKINames{Clients: standardClients, CAs: []string{"root", "intermediate", "revoked-intermediate-ca",
	"deep-ca-1", "deep-ca-2", "deep-ca-3", "deep-ca-4", "untrusted-root", "untrusted-intermediate"}}

// TestCatalogueCoverage checks the catalogue against the list: at
// least 45 files named for their behaviour, every mode with every client
// certificate and with none, and the behaviours it names.
func TestCatalogueCoverage(t *testing.T) {
	raw, err := Catalogue()
	require.NoError(t, err)
	assert.GreaterOrEqual(t, len(raw), 45)
	for _, s := range raw {
		assert.Regexp(t, `^scenarios/[a-z0-9]+(-[a-z0-9]+)+\.yaml$`, s.File)
	}
	list, err := Resolve(raw, standardNames)
	require.NoError(t, err)

	seen := map[string]map[string]bool{"off": {}, "passthrough": {}, "verify": {}}
	for _, s := range list {
		for _, st := range s.Steps {
			if st.Expect != nil && st.Expect.LoadError == "" && len(st.Revoke) == 0 {
				c := s.ClientOf(st)
				if c == "" {
					c = "(none)"
				}
				seen[s.Setup.Mode][c] = true
			}
		}
	}
	for mode, clients := range seen {
		for _, c := range append(slices.Clone(standardClients), "(none)") {
			assert.True(t, clients[c], "no scenario runs client %s in mode %s", c, mode)
		}
	}
	has := func(pred func(*Scenario) bool) bool { return slices.ContainsFunc(raw, pred) }
	for what, ok := range map[string]bool{
		"advertise on": has(func(s *Scenario) bool { return s.Setup.AdvertiseTrustStoreCaNames == "on" }),
		"advertise off": has(func(s *Scenario) bool {
			return s.Steps[0].Expect.AdvertisedCANames != nil && len(*s.Steps[0].Expect.AdvertisedCANames) == 0
		}),
		"ignore expiry": has(func(s *Scenario) bool { return s.Setup.IgnoreClientCertificateExpiry }),
		"header renames": has(func(s *Scenario) bool {
			return strings.Contains(strings.Join(mapKeys(s.Setup.Attributes), " "), "header_name")
		}),
		"TLS headers": has(func(s *Scenario) bool {
			return s.Setup.Attributes["routing.http.x_amzn_tls_version_and_cipher_suite.enabled"] == "true"
		}),
		"xff preserve": has(func(s *Scenario) bool {
			return s.Setup.Attributes["routing.http.xff_header_processing.mode"] == "preserve"
		}),
		"xff remove": has(func(s *Scenario) bool {
			return s.Setup.Attributes["routing.http.xff_header_processing.mode"] == "remove"
		}),
		"redirect":           has(func(s *Scenario) bool { return s.Setup.Action != nil && s.Setup.Action.Type == "redirect" }),
		"fixed response":     has(func(s *Scenario) bool { return s.Setup.Action != nil && s.Setup.Action.Type == "fixed-response" }),
		"502":                has(func(s *Scenario) bool { return s.Setup.Targets == TargetsRefused }),
		"503":                has(func(s *Scenario) bool { return s.Setup.Targets == TargetsNone }),
		"504":                has(func(s *Scenario) bool { return s.Setup.Targets == TargetsSilent }),
		"runtime revocation": has(func(s *Scenario) bool { return s.Requests() < len(s.Steps) }),
		"stale CRL":          has(func(s *Scenario) bool { return strings.Contains(s.Name, "stale-crl") }),
		"DER CRL refused":    has(func(s *Scenario) bool { return s.LoadError() == "InvalidRevocationContent" }),
		"bundle refused":     has(func(s *Scenario) bool { return s.LoadError() == "InvalidCaCertificatesBundle" }),
	} {
		assert.True(t, ok, "the catalogue has no scenario for %s", what)
	}
	for _, mode := range []string{"off", "passthrough", "verify"} {
		assert.True(t, has(func(s *Scenario) bool {
			return s.Setup.Mode == mode && s.Steps[0].Request != nil && len(s.Steps[0].Request.Headers) > 0 && strings.Contains(s.Name, "spoof")
		}), "no spoofed-header scenario in mode %s", mode)
	}
}

func mapKeys(m map[string]string) []string {
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	return keys
}

// TestDocsListEveryScenario keeps docs/scenarios.md in step with the files:
// every scenario is in its table, and the counts it states are right.
func TestDocsListEveryScenario(t *testing.T) {
	doc, err := os.ReadFile("../docs/scenarios.md")
	require.NoError(t, err)
	raw, err := Catalogue()
	require.NoError(t, err)
	for _, s := range raw {
		assert.Contains(t, string(doc), "| `"+s.Name+"`", "docs/scenarios.md does not list %s", s.Name)
	}
	runs, err := Resolve(raw, standardNames)
	require.NoError(t, err)
	assert.Contains(t, string(doc), fmt.Sprintf("**%d files and %d runs**", len(raw), len(runs)))
}
