package config

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/albmtls/albmtls/internal/fuzzedit"
)

// maxFuzzInput bounds the inputs the config targets look at. The engine
// minimises every input that finds new coverage, in time quadratic in its
// length and for up to a minute (-fuzzminimizetime), without counting those
// execs: seeded with the 1.5 KB brief config, FuzzParse spent its whole
// budget minimising at 0 execs/sec (docs/fuzzing.md). Longer inputs are
// skipped, so the engine never keeps one.
const (
	maxFuzzInput  = 512
	maxFuzzInsert = 64
)

// rulesConfig exercises what brief.yaml does not: rules and their
// conditions, the emulation knobs, health check details.
const rulesConfig = `load_balancer: {name: a, idle_timeout: 30, ip_address: 127.0.0.1}
target_groups:
  - {name: web, protocol: HTTP, targets: ["127.0.0.1:9001"], health_check: {path: /h, port: "9001", timeout: 2s, healthy_threshold: 2, unhealthy_threshold: 3, matcher: "200-299"}}
listeners:
  - port: 80
    protocol: HTTP
    default_action: {type: forward, target_group: web}
    rules:
      - priority: 1
        conditions: {path_pattern: ["/admin/*"], host_header: [a.example], http_request_method: [GET], http_header: {name: X-A, values: ["*"]}, source_ip: [10.0.0.0/8]}
        action: {type: fixed-response, fixed_response: {status_code: "403", content_type: text/plain, message_body: no}}
emulation: {reject_with: alert, missing_client_certificate: ClientCertUntrusted, stale_crl: apply, clientcert_equals: percent, strip_client_headers: true, handshake_timeout: 5s, watch_interval: 1s}
admin: {listen: "127.0.0.1:0"}
`

// FuzzParse feeds arbitrary bytes to Parse: it must not panic, a config it
// accepts has listeners, and every rejection says something. Its seeds are
// the small files in testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	f.Add([]byte(minimal))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > maxFuzzInput {
			return // see maxFuzzInput
		}
		checkParse(t, data)
	})
}

// FuzzParseEdit replaces the bytes from off to off+cut of a complete config
// (doc picks brief.yaml, rulesConfig or three verify listeners) with insert.
// The config lives in the target, not in the input, so the fuzzer explores
// the validation of every section of a realistic file with inputs of a few
// bytes.
func FuzzParseEdit(f *testing.F) {
	brief, err := os.ReadFile("testdata/brief.yaml")
	require.NoError(f, err)
	docs := []string{string(brief), rulesConfig, threeVerify()}
	f.Fuzz(func(t *testing.T, doc uint8, off uint16, cut uint8, insert string) {
		if len(insert) > maxFuzzInsert {
			return // see maxFuzzInput
		}
		checkParse(t, []byte(fuzzedit.SpliceString(docs[int(doc)%len(docs)], int(off), int(cut), insert)))
	})
}

func checkParse(t *testing.T, data []byte) {
	c, err := Parse("fuzz.yaml", data)
	if err == nil {
		if len(c.Listeners) == 0 {
			t.Fatalf("accepted a config without listeners:\n%s", data)
		}
		return
	}
	if c != nil {
		t.Fatalf("returned a config with the error %v", err)
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, "fuzz.yaml") && !strings.Contains(msg, "problems in the config") {
		t.Fatalf("error does not name the file: %q", msg)
	}
}

// The documents FuzzParseEdit edits are valid, so an edit explores the
// neighbourhood of a config that loads.
func TestFuzzParseEditDocsAreValid(t *testing.T) {
	brief, err := os.ReadFile("testdata/brief.yaml")
	require.NoError(t, err)
	for _, d := range []string{string(brief), rulesConfig} {
		_, err := Parse("x.yaml", []byte(d))
		require.NoError(t, err, d)
	}
	_, err = Parse("x.yaml", []byte(threeVerify()))
	require.ErrorContains(t, err, "only 2 listeners per load balancer", "threeVerify is the one invalid document: one edit away from valid")
}
